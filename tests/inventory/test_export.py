"""Export to CSV and XLSX: BOM, escaping, readable headers, and export → import round trips."""

from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from luodi.auth.actor import system_actor
from luodi.auth.service import actor_for
from luodi.cli import app
from luodi.errors import PermissionDenied
from luodi.inventory.exporting import export_headers, export_records
from luodi.inventory.importers import resolve_headers
from luodi.inventory.models import Achievement
from tests.factories import make_user
from tests.inventory.files import ACHIEVEMENT_HEADERS, GOOD_ROWS, counts, write_csv

runner = CliRunner()


def _seed(tmp_path: Path, rows: list[list[str]] | None = None) -> None:
    path = write_csv(tmp_path / "seed.csv", ACHIEVEMENT_HEADERS, rows or GOOD_ROWS)
    result = runner.invoke(app, ["import", "achievements", str(path), "--source", "seed"])
    assert result.exit_code == 0, result.output


def _csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def test_csv_has_bom_escapes_formulas_and_names_codes(env, db, tmp_path: Path) -> None:
    rows = [row[:] for row in GOOD_ROWS]
    rows[1][1] = "=HYPERLINK(\"http://evil.example\",\"点我\")"
    _seed(tmp_path, rows)
    target = tmp_path / "out.csv"
    result = runner.invoke(app, ["export", "achievements", str(target)])
    assert result.exit_code == 0 and "Exported 3 achievements" in result.stdout
    assert target.read_bytes().startswith(codecs.BOM_UTF8)
    exported = {r["编号"]: r for r in _csv_rows(target)}
    assert exported["A-2"]["成果名称"].startswith("'=HYPERLINK")
    assert exported["A-1"]["行政区划代码"] == "110108"
    assert exported["A-1"]["地区名称"] == "北京市 海淀区"
    assert exported["A-1"]["阶段"] == "中期" and exported["A-1"]["来源"] == "seed"
    assert exported["A-1"]["所属机构"] == "北京理工示范大学"
    assert exported["A-2"]["价格说明"] == "面议"


def test_xlsx_opens_with_openpyxl(env, db, tmp_path: Path) -> None:
    _seed(tmp_path)
    target = tmp_path / "out.xlsx"
    assert runner.invoke(app, ["export", "achievements", str(target)]).exit_code == 0
    workbook = openpyxl.load_workbook(target, read_only=True)
    sheet = workbook.active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == export_headers("achievements")
    assert len(values) == 4
    workbook.close()


def test_unknown_extension(env, tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", "achievements", str(tmp_path / "out.pdf")])
    assert result.exit_code == 1 and ".pdf" in result.output


@pytest.mark.parametrize("kind", ["achievements", "demands", "enterprises", "institutions",
                                  "experts"])
def test_export_headers_map_back_unambiguously(kind: str) -> None:
    found = resolve_headers(export_headers(kind), kind)  # raises on an ambiguous pair
    assert not found.missing_required and "external_id" in found.mapping.values()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_updates_the_same_records(env, db, tmp_path: Path,
                                                     suffix: str) -> None:
    rows = [row[:] for row in GOOD_ROWS]
    rows[1][1] = "=1+2 不是公式的标题"
    _seed(tmp_path, rows)
    with db.sessions() as session:
        before = {a.id: (a.title, a.trl, a.price_wan, a.keywords, a.institution_id)
                  for a in session.scalars(select(Achievement))}
    target = tmp_path / f"round{suffix}"
    assert runner.invoke(app, ["export", "achievements", str(target)]).exit_code == 0
    result = runner.invoke(app, ["import", "achievements", str(target), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["created"] == 0 and report["unchanged"] + report["updated"] == 3
    with db.sessions() as session:
        after = {a.id: (a.title, a.trl, a.price_wan, a.keywords, a.institution_id)
                 for a in session.scalars(select(Achievement))}
    assert after == before and counts(db)["institutions"] == 2


def test_export_is_for_staff_only(session, tmp_path: Path) -> None:
    member = make_user(session, "enterprise_member")
    with pytest.raises(PermissionDenied):
        export_records(session, actor_for(member), "achievements", tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()
    assert export_records(session, system_actor(), "demands", tmp_path / "d.csv") == 0
