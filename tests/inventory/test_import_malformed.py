"""A corpus of malformed files: each gives a clear error, the right exit code and no writes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from luodi.auth.actor import system_actor
from luodi.cli import app
from luodi.errors import FileUnreadable
from luodi.inventory.importers import ReadLimits
from luodi.inventory.importing import import_file
from tests.inventory.files import (
    ACHIEVEMENT_HEADERS,
    GOOD_ROWS,
    last_run,
    nothing_written,
    write_csv,
    write_xlsx,
    zip_bomb,
)

runner = CliRunner()


def _unreadable(path: Path, *extra: str) -> dict:
    result = runner.invoke(app, ["import", "achievements", str(path), "--json", *extra])
    assert result.exit_code == 2, result.output
    report = json.loads(result.stdout)
    assert report["accepted"] == 0 and report["errors"][0]["row"] is None
    return report


def _reason(path: Path, *extra: str) -> str:
    return str(_unreadable(path, *extra)["errors"][0]["reason"])


def test_wrong_encoding(env, db, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("成果名称\n".encode() + b"\x80\x80abc\xff\n")  # neither UTF-8 nor GB18030
    assert "cannot decode" in _reason(path)
    assert nothing_written(db)
    run = last_run(db)
    assert run and not run.committed and "cannot decode" in run.errors[0]["reason"]


def test_truncated_xlsx(env, db, tmp_path: Path) -> None:
    whole = write_xlsx(tmp_path / "whole.xlsx", ACHIEVEMENT_HEADERS, GOOD_ROWS).read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    assert "not a valid XLSX" in _reason(path)
    assert nothing_written(db)


def test_corrupt_xlsx(env, db, tmp_path: Path) -> None:
    path = tmp_path / "corrupt.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"this is not a zip archive at all" * 50)
    assert "not a valid XLSX" in _reason(path)
    assert nothing_written(db)


def test_zip_bomb_is_refused_before_parsing(env, db, tmp_path: Path) -> None:
    started = time.perf_counter()
    assert "compression ratio too high" in _reason(zip_bomb(tmp_path / "bomb.xlsx"))
    assert time.perf_counter() - started < 10
    assert nothing_written(db)


def test_uncompressed_size_and_entry_limits(session, db, settings, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "ok.xlsx", ACHIEVEMENT_HEADERS, GOOD_ROWS)
    for limits, words in ((ReadLimits(max_uncompressed_bytes=1000), "uncompressed size"),
                          (ReadLimits(max_zip_entries=3), "too many zip entries"),
                          (ReadLimits(max_file_bytes=100), "file too large")):
        with pytest.raises(FileUnreadable, match=words):
            import_file(session, system_actor(), "achievements", path, settings=settings,
                        limits=limits)
    assert nothing_written(db)


def test_file_size_limit_and_the_cli_override(env, db, tmp_path: Path) -> None:
    padding = "备" * 40_000  # ~120 KB a row in a column the import ignores
    rows = [[f"P-{i}", *GOOD_ROWS[0][1:], padding] for i in range(12)]
    path = write_csv(tmp_path / "list.csv", [*ACHIEVEMENT_HEADERS, "备注"], rows)
    assert "file too large" in _reason(path, "--max-file-mb", "1")
    result = runner.invoke(app, ["import", "achievements", str(path), "--max-file-mb", "3",
                                 "--dry-run"])
    assert result.exit_code == 0, result.output


def test_formula_cells_without_values_are_row_errors(env, db, tmp_path: Path) -> None:
    rows = [GOOD_ROWS[0], ["A-2", "=HYPERLINK(\"http://evil.example\")", "摘要", "=1+4", "", "",
                           "", ""]]
    path = write_xlsx(tmp_path / "formula.xlsx", ACHIEVEMENT_HEADERS, rows)
    result = runner.invoke(app, ["import", "achievements", str(path), "--json", "--strict"])
    assert result.exit_code == 1
    errors = json.loads(result.stdout)["errors"]
    assert {e["column"] for e in errors} == {"成果名称", "技术成熟度"}
    assert all(e["row"] == 3 and "formula" in e["reason"] for e in errors)
    assert nothing_written(db)


def test_missing_required_header(env, db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "no-title.csv", ["编号", "摘要"], [["A-1", "只有摘要"]])
    reason = _reason(path)
    assert "Missing required column" in reason and "title" in reason and "成果名称" in reason
    assert nothing_written(db)


def test_missing_header_row(env, db, tmp_path: Path) -> None:
    path = tmp_path / "blank-header.csv"
    path.write_text(",,\n一种材料,摘要,5\n", encoding="utf-8")
    assert "missing header row" in _reason(path)


def test_empty_file(env, db, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert "empty file" in _reason(path)


@pytest.mark.parametrize("headers", [["成果名称", "成果名称"], ["成果名称", "名称"]])
def test_duplicate_or_ambiguous_headers(env, db, tmp_path: Path, headers: list[str]) -> None:
    path = write_csv(tmp_path / "dup.csv", headers, [["一种材料", "另一种材料"]])
    reason = _reason(path)
    assert "duplicate column header" in reason or "all map to field title" in reason
    assert nothing_written(db)


def test_bad_codes_are_row_errors(env, db, tmp_path: Path) -> None:
    headers = ["企业名称", "统一社会信用代码", "所在地区", "企业规模"]
    rows = [["北京示范科技有限公司", "91110108MA01ABCDE1", "110108", "小型"],
            ["天津示范制造有限公司", "12345", "120116", "中型"],
            ["河北示范材料有限公司", "", "139999", "特大型"]]
    path = write_csv(tmp_path / "ent.csv", headers, rows)
    result = runner.invoke(app, ["import", "enterprises", str(path), "--json", "--strict"])
    assert result.exit_code == 1
    errors = json.loads(result.stdout)["errors"]
    found = {(e["row"], e["column"], e["value"]) for e in errors}
    assert (2, "统一社会信用代码", "91110108MA01ABCDE1") in found  # wrong check character
    assert (3, "统一社会信用代码", "12345") in found
    assert (4, "所在地区", "139999") in found and (4, "企业规模", "特大型") in found
    assert all(e["reason"] for e in errors)
    assert nothing_written(db)


def test_unknown_kind_and_profile(env, db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "list.csv", ACHIEVEMENT_HEADERS, GOOD_ROWS)
    assert runner.invoke(app, ["import", "patents", str(path)]).exit_code == 2
    assert "No mapping profile" in _reason(path, "--mapping", "nope")
    assert nothing_written(db)


@pytest.mark.slow
def test_100k_rows_strict_with_one_bad_row_at_the_end(env, db, tmp_path: Path) -> None:
    headers = ["编号", "成果名称", "摘要", "技术成熟度", "所在地区"]
    rows = [[f"R-{i:06d}", f"一种面向智能制造的视觉检测方法第{i}号", "利用深度学习检测表面缺陷。",
             str(1 + i % 9), "110108"] for i in range(99_999)]
    rows.append(["R-BAD", "最后一行", "技术成熟度不对。", "10", "110108"])
    path = write_csv(tmp_path / "big.csv", headers, rows)
    started = time.perf_counter()
    result = runner.invoke(app, ["import", "achievements", str(path), "--strict", "--json"])
    elapsed = time.perf_counter() - started
    assert result.exit_code == 1, result.output[-2000:]
    report = json.loads(result.stdout)
    assert (report["accepted"], report["rejected"]) == (99_999, 1)
    assert report["errors"][0]["row"] == 100_001
    assert nothing_written(db)
    assert elapsed < 60, elapsed
