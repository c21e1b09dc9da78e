"""The upload page: preview (a dry run, nothing written), then commit; staff only."""

from __future__ import annotations

import re
from pathlib import Path

from luodi.inventory.importers import ReadLimits
from luodi.web.pages import imports
from tests.factories import login, make_user
from tests.inventory.files import ACHIEVEMENT_HEADERS, GOOD_ROWS, counts, last_run, write_csv

BAD_ROW = ["A-9", "一种坏数据行", "技术成熟度超出范围。", "12", "", "", "", ""]


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _token(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _upload(client, path: Path, **fields: str):  # type: ignore[no-untyped-def]
    csrf = _csrf(client.get("/imports").text)
    data = {"csrf_token": csrf, "kind": "achievements", **fields}
    with path.open("rb") as fh:
        return client.post("/imports/preview", data=data,
                           files={"file": (path.name, fh, "text/csv")})


def test_preview_then_commit(client, session, db, settings, tmp_path: Path) -> None:
    operator = make_user(session, "operator")
    login(client, operator.email)
    assert client.get("/imports").status_code == 200
    path = write_csv(tmp_path / "清单.csv", ACHIEVEMENT_HEADERS, [*GOOD_ROWS, BAD_ROW])
    preview = _upload(client, path)
    assert preview.status_code == 200, preview.text
    html = preview.text
    assert 'data-testid="accepted">3<' in html and 'data-testid="rejected">1<' in html
    assert "技术成熟度" in html and "一种固态锂电池正极材料及其制备方法" in html
    assert 'data-testid="header-mapping"' in html and "utf-8" in html
    assert not any(counts(db).values())
    uploads = list((settings.data_dir / "uploads").iterdir())
    assert len(uploads) == 2  # the file and its note
    result = client.post("/imports/commit", data={"csrf_token": _csrf(html),
                                                  "token": _token(html)})
    assert result.status_code == 200, result.text
    assert 'data-testid="import-committed"' in result.text
    assert counts(db)["achievements"] == 3
    assert not list((settings.data_dir / "uploads").iterdir())
    run = last_run(db)
    assert run and run.filename == "清单.csv" and run.actor_id == operator.id
    again = client.post("/imports/commit", data={"csrf_token": _csrf(html),
                                                 "token": _token(html)})
    assert again.status_code == 404


def test_unreadable_upload_shows_the_form_with_the_error(client, session, db,
                                                         tmp_path: Path) -> None:
    login(client, make_user(session, "operator").email)
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\x80\x80\xff")
    response = _upload(client, path)
    assert response.status_code == 400 and 'data-testid="import-error"' in response.text
    assert 'data-testid="import-form"' in response.text


def test_size_limit_is_enforced_while_streaming(client, session, db, tmp_path: Path,
                                                monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(imports, "_limits", lambda ctx: ReadLimits(max_file_bytes=1000))
    monkeypatch.setattr(imports, "_FORM_SLACK", 500)
    login(client, make_user(session, "operator").email)
    path = write_csv(tmp_path / "big.csv", ACHIEVEMENT_HEADERS, GOOD_ROWS * 20)
    response = _upload(client, path)
    assert response.status_code == 400 and "too large" in response.text
    assert not any(counts(db).values())


def test_upload_without_csrf_is_refused(client, session, tmp_path: Path) -> None:
    login(client, make_user(session, "operator").email)
    path = write_csv(tmp_path / "a.csv", ACHIEVEMENT_HEADERS, GOOD_ROWS)
    with path.open("rb") as fh:
        response = client.post("/imports/preview", data={"kind": "achievements"},
                               files={"file": ("a.csv", fh, "text/csv")})
    assert response.status_code == 403


def test_not_for_members(client, session, settings, tmp_path: Path) -> None:
    csrf = login(client, make_user(session, "institution_member").email)
    assert client.get("/imports").status_code == 403
    path = write_csv(tmp_path / "a.csv", ACHIEVEMENT_HEADERS, GOOD_ROWS)
    with path.open("rb") as fh:
        response = client.post("/imports/preview", data={"kind": "achievements",
                                                         "csrf_token": csrf},
                               files={"file": ("a.csv", fh, "text/csv")})
    assert response.status_code == 403
    assert not list((settings.data_dir / "uploads").glob("*"))


def test_result_page_lists_flagged_duplicates(client, session, db, tmp_path: Path) -> None:
    login(client, make_user(session, "operator").email)
    text = "本发明公开了一种高镍固态锂电池正极材料的制备方法，通过包覆改性提高循环寿命和安全性。"
    rows = [["D-1", "一种固态锂电池正极材料", text, "5", "", "", "", ""],
            ["D-2", "一种固态锂电池正极材料。", text + "。", "5", "", "", "", ""]]
    html = _upload(client, write_csv(tmp_path / "near.csv", ACHIEVEMENT_HEADERS, rows)).text
    result = client.post("/imports/commit", data={"csrf_token": _csrf(html),
                                                  "token": _token(html)})
    assert result.status_code == 200 and 'href="/duplicates"' in result.text
    assert counts(db)["duplicate_flags"] == 1
