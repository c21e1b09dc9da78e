"""Bulk import through the CLI and the service: reports, exit codes, transactions, re-imports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from luodi.auth.actor import system_actor
from luodi.cli import app
from luodi.errors import PermissionDenied, ValidationFailed
from luodi.inventory import importing
from luodi.inventory.importing import import_file
from luodi.inventory.models import Achievement, DuplicateFlag, ImportRun, Institution
from tests.factories import make_user
from tests.inventory.files import (
    ACHIEVEMENT_HEADERS,
    GOOD_ROWS,
    counts,
    last_run,
    nothing_written,
    write_csv,
    write_json,
    write_xlsx,
)

runner = CliRunner()
BAD_ROW = ["A-9", "一种坏数据行", "技术成熟度超出范围。", "12", "50万", "999999", "某大学", ""]


def _import(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["import", *args])


def _json(result) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(result.stdout)


def test_json_report_shape_and_partial_commit(env, db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "list.csv", ACHIEVEMENT_HEADERS, [*GOOD_ROWS, BAD_ROW])
    result = _import("achievements", str(path), "--json")
    assert result.exit_code == 1, result.output
    report = _json(result)
    assert list(report)[:3] == ["accepted", "rejected", "errors"]
    assert (report["accepted"], report["rejected"]) == (3, 1)
    assert all(set(e) == {"row", "column", "value", "reason"} for e in report["errors"])
    by_column = {e["column"]: e for e in report["errors"]}
    assert by_column["技术成熟度"]["row"] == 5 and by_column["技术成熟度"]["value"] == "12"
    assert "1–9" in by_column["技术成熟度"]["reason"]
    assert by_column["所在地区"]["value"] == "999999"
    assert counts(db)["achievements"] == 3 and counts(db)["institutions"] == 2
    run = last_run(db)
    assert run and run.committed and run.accepted == 3 and run.rejected == 1


def test_all_good_exits_zero_and_converts_values(env, db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "list.csv", ACHIEVEMENT_HEADERS, GOOD_ROWS)
    result = _import("achievements", str(path))
    assert result.exit_code == 0, result.output
    assert "3 accepted, 0 rejected" in result.stdout
    with db.sessions() as session:
        rows = {a.external_id: a for a in session.scalars(select(Achievement))}
        assert rows["A-1"].price_wan == 120 and rows["A-1"].price_note is None
        assert rows["A-1"].ip_items == [{"number": "ZL202310123456.7", "kind": "invention",
                                         "status": "pending", "filed_on": None,
                                         "granted_on": None, "expires_on": None}]
        assert rows["A-2"].price_wan is None and rows["A-2"].price_note == "面议"
        assert rows["A-3"].price_wan == 120 and rows["A-3"].region_code == "110108"
        assert rows["A-3"].ip_items[0]["kind"] == "utility_model"
        assert rows["A-1"].institution_id == rows["A-3"].institution_id
        assert rows["A-1"].source == "list" and rows["A-1"].search_text  # enriched


def test_strict_writes_nothing_when_a_row_fails(env, db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "list.csv", ACHIEVEMENT_HEADERS, [*GOOD_ROWS, BAD_ROW])
    result = _import("achievements", str(path), "--strict", "--json")
    assert result.exit_code == 1
    assert _json(result)["committed"] is False and _json(result)["rejected"] == 1
    assert nothing_written(db)
    assert last_run(db).committed is False


def test_dry_run_writes_nothing(env, db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "list.csv", ACHIEVEMENT_HEADERS, GOOD_ROWS)
    result = _import("achievements", str(path), "--dry-run", "--json")
    assert result.exit_code == 0
    report = _json(result)
    assert report["accepted"] == 3 and report["created"] == 3 and report["dry_run"]
    assert [link["name"] for link in report["linked_created"]] == ["北京理工示范大学",
                                                                   "天津示范研究院"]
    assert nothing_written(db)
    assert last_run(db).dry_run is True


def test_reimport_updates_instead_of_duplicating(env, db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "list.csv", ACHIEVEMENT_HEADERS, GOOD_ROWS)
    assert _import("achievements", str(path)).exit_code == 0
    with db.sessions() as session:
        ids = {a.external_id: a.id for a in session.scalars(select(Achievement))}
    before = counts(db)
    again = _import("achievements", str(path), "--json")
    assert again.exit_code == 0
    assert _json(again)["created"] == 0 and _json(again)["unchanged"] == 3
    changed = [row[:] for row in GOOD_ROWS]
    changed[0][3] = "6"
    write_csv(path, ACHIEVEMENT_HEADERS, changed)
    third = _import("achievements", str(path), "--json")
    assert _json(third)["updated"] == 1 and _json(third)["created"] == 0
    assert counts(db) == before
    with db.sessions() as session:
        assert {a.external_id: a.id for a in session.scalars(select(Achievement))} == ids
        assert session.get(Achievement, ids["A-1"]).trl == 6


def test_reimport_without_id_column_matches_on_title_and_owner(env, db, tmp_path: Path) -> None:
    headers = ACHIEVEMENT_HEADERS[1:]
    path = write_csv(tmp_path / "noid.csv", headers, [r[1:] for r in GOOD_ROWS])
    assert _import("achievements", str(path)).exit_code == 0
    assert _json(_import("achievements", str(path), "--json"))["unchanged"] == 3
    assert counts(db)["achievements"] == 3


def test_same_record_twice_in_one_file_is_rejected(env, db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "dup.csv", ACHIEVEMENT_HEADERS, [GOOD_ROWS[0], GOOD_ROWS[0]])
    report = _json(_import("achievements", str(path), "--json"))
    assert report["rejected"] == 1 and report["errors"][0]["row"] == 3
    assert "row 2" in report["errors"][0]["reason"].lower()


def test_near_duplicate_is_flagged_not_merged(env, db, tmp_path: Path) -> None:
    text = "本发明公开了一种高镍固态锂电池正极材料的制备方法，通过包覆改性提高循环寿命和安全性。"
    rows = [["D-1", "一种固态锂电池正极材料", text, "5", "", "", "", ""],
            ["D-2", "一种固态锂电池正极材料。", text + "。", "5", "", "", "", ""]]
    path = write_csv(tmp_path / "near.csv", ACHIEVEMENT_HEADERS, rows)
    report = _json(_import("achievements", str(path), "--json"))
    assert report["created"] == 2 and report["flagged_duplicates"] == 1
    assert report["duplicates"][0]["row"] == 3 and report["duplicates"][0]["other_row"] == 2
    with db.sessions() as session:
        flag = session.scalar(select(DuplicateFlag))
        assert flag.status == "open" and counts(db)["achievements"] == 2


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_chinese_encodings(env, db, tmp_path: Path, encoding: str) -> None:
    rows = [row[:] for row in GOOD_ROWS]
    if encoding == "gb18030":
        rows[0][1] = "一种㐀型固态锂电池正极材料"  # 㐀 (CJK Ext. A) is in GB18030, not GBK
    path = write_csv(tmp_path / "list.csv", ACHIEVEMENT_HEADERS, rows, encoding=encoding)
    report = _json(_import("achievements", str(path), "--json"))
    assert report["accepted"] == 3
    assert report["encoding"] == {"gbk": "gb18030"}.get(encoding, encoding)
    with db.sessions() as session:
        titles = set(session.scalars(select(Achievement.title)))
    assert rows[0][1] in titles


def test_english_headers(env, db, tmp_path: Path) -> None:
    headers = ["id", "title", "abstract", "technology readiness level", "asking price",
               "region_code", "owner", "patent_no"]
    path = write_csv(tmp_path / "en.csv", headers, GOOD_ROWS)
    report = _json(_import("achievements", str(path), "--json"))
    assert report["accepted"] == 3 and report["header_mapping"]["owner"] == "institution"


@pytest.mark.parametrize("fmt", ["xlsx", "json", "jsonl"])
def test_other_formats(env, db, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"list.{fmt}"
    if fmt == "xlsx":
        write_xlsx(path, ACHIEVEMENT_HEADERS, GOOD_ROWS)
    else:
        write_json(path, ACHIEVEMENT_HEADERS, GOOD_ROWS, lines=fmt == "jsonl")
    report = _json(_import("achievements", str(path), "--json"))
    assert (report["accepted"], report["format"]) == (3, fmt)
    assert counts(db)["achievements"] == 3


def test_source_option_and_unknown_headers(env, db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "list.csv", [*ACHIEVEMENT_HEADERS, "备注"],
                     [[*GOOD_ROWS[0], "内部备注"]])
    report = _json(_import("achievements", str(path), "--source", "bjtx-2026", "--json"))
    assert report["unknown_headers"] == ["备注"]
    with db.sessions() as session:
        assert session.scalar(select(Achievement.source)) == "bjtx-2026"
        assert session.scalar(select(Institution.source)) == "bjtx-2026"


# --- the service: transactions ---------------------------------------------------------------


def test_crash_mid_import_leaves_nothing(session, db, settings, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    real = importing.create_record
    calls = {"n": 0}

    def crash_on_third(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(importing, "create_record", crash_on_third)
    path = write_csv(tmp_path / "list.csv", ACHIEVEMENT_HEADERS, GOOD_ROWS)
    with pytest.raises(RuntimeError):
        import_file(session, system_actor(), "achievements", path, settings=settings)
    assert nothing_written(db)
    run = last_run(db)
    assert run and not run.committed and "disk on fire" in run.errors[0]["reason"]


def _refuse_third_title(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importing.create_record

    def refuse(session, actor, kind, data, **kwargs):  # type: ignore[no-untyped-def]
        if data.get("external_id") == "A-3":
            raise ValidationFailed("refused by the database", data={"field": "title"})
        return real(session, actor, kind, data, **kwargs)

    monkeypatch.setattr(importing, "create_record", refuse)


def test_row_refused_while_writing_rolls_back_only_its_savepoint(
        session, db, settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _refuse_third_title(monkeypatch)
    rows = [GOOD_ROWS[0], GOOD_ROWS[2], GOOD_ROWS[1]]
    rows[1] = [*rows[1][:6], "只在第三行出现的大学", rows[1][7]]
    path = write_csv(tmp_path / "list.csv", ACHIEVEMENT_HEADERS, rows)
    report = import_file(session, system_actor(), "achievements", path, settings=settings)
    assert (report.accepted, report.rejected, report.committed) == (2, 1, True)
    assert report.errors[0]["row"] == 3 and report.errors[0]["column"] == "成果名称"
    with db.sessions() as fresh:  # the institution made for the refused row went with it
        names = set(fresh.scalars(select(Institution.name)))
    assert names == {"北京理工示范大学", "天津示范研究院"}


def test_strict_row_refused_while_writing_rolls_back_everything(
        session, db, settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _refuse_third_title(monkeypatch)
    path = write_csv(tmp_path / "list.csv", ACHIEVEMENT_HEADERS, GOOD_ROWS)
    report = import_file(session, system_actor(), "achievements", path, settings=settings,
                         strict=True)
    assert report.rejected == 1 and not report.committed and report.created == 0
    assert nothing_written(db)


def test_only_staff_may_import(session, db, settings, tmp_path: Path) -> None:
    from luodi.auth.service import actor_for

    member = make_user(session, "institution_member")
    path = write_csv(tmp_path / "list.csv", ACHIEVEMENT_HEADERS, GOOD_ROWS)
    with pytest.raises(PermissionDenied):
        import_file(session, actor_for(member), "achievements", path, settings=settings)
    assert nothing_written(db)
    assert session.scalar(select(ImportRun)) is None
