"""The spreadsheet-text parsers behind the importer: money, dates, yes/no, regions, IP numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from luodi.inventory import import_values as iv
from luodi.inventory.import_rows import RowContext, prepare_row
from luodi.inventory.importers import RawRow

D = Decimal


@pytest.mark.parametrize(("text", "unit", "expected"), [
    ("120", D(1), (D(120), D(120), True)),
    ("120万", D(1), (D(120), D(120), True)),
    ("120万元", D(1), (D(120), D(120), True)),
    ("1,200,000元", D(1), (D(120), D(120), True)),
    ("1200000", iv.header_unit("参考价格（元）"), (D(120), D(120), True)),
    ("1.5亿", D(1), (D(15000), D(15000), True)),
    ("￥ 80 万元", D(1), (D(80), D(80), True)),
    ("10-50万", D(1), (D(10), D(50), True)),
    ("10万~50万元", D(1), (D(10), D(50), True)),
    ("10至50", D(1), (D(10), D(50), True)),
    ("50万以上", D(1), (D(50), None, True)),
    ("不超过50万", D(1), (None, D(50), True)),
    ("1234元", D(1), (D("0.12"), D("0.12"), False)),
    ("面议", D(1), (None, None, True)),
])
def test_amounts(text: str, unit: Decimal, expected: tuple) -> None:
    assert iv.parse_amounts(text, unit) == expected


@pytest.mark.parametrize("text", ["很多钱", "10 20 30", "50-10万", "10万和20万"])
def test_unreadable_amounts(text: str) -> None:
    with pytest.raises(iv.CellProblem):
        iv.parse_amounts(text)


def test_header_units() -> None:
    assert iv.header_unit("参考价格（万元）") == 1 and iv.header_unit("价格") == 1
    assert iv.header_unit("预算（亿元）") == 10000 and iv.header_unit("金额(元)") == D("0.0001")


@pytest.mark.parametrize("text", ["2026-06-30", "2026/6/30", "2026.6.30", "2026年6月30日",
                                  "20260630", "2026-06-30T00:00:00"])
def test_dates(text: str) -> None:
    assert iv.parse_date(text) == dt.date(2026, 6, 30)


def test_bad_date_and_bool() -> None:
    with pytest.raises(iv.CellProblem):
        iv.parse_date("2026-02-30")
    with pytest.raises(iv.CellProblem):
        iv.parse_bool("也许")
    assert iv.parse_bool("保密") is True and iv.parse_bool("否") is False


def test_regions_by_code_name_and_chain() -> None:
    assert iv.region_code("110108") == "110108"
    assert iv.region_code("海淀区") == "110108"
    assert iv.region_code("北京市海淀区") == "110108"
    assert iv.region_code("火星") == "火星"  # left for the code check to refuse
    with pytest.raises(iv.CellProblem, match="ambiguous"):
        iv.region_code("朝阳区")


def test_ip_kinds() -> None:
    assert iv.ip_item("ZL202310123456.7")["kind"] == "invention"
    assert iv.ip_item("CN 2022 2 0987654.3")["kind"] == "utility_model"
    assert iv.ip_item("2023SR0123456")["kind"] == "software"
    assert iv.ip_item("US 11,234,567 B2") == {"number": "US 11,234,567 B2", "kind": "other"}


def test_identity_key_ignores_spacing_and_width() -> None:
    ctx = RowContext("achievements", {"名称": "title", "单位": "institution"})
    first, _ = prepare_row(RawRow(2, {"名称": "一种 材料", "单位": "某大学"}), ctx)
    second, _ = prepare_row(RawRow(3, {"名称": "一种材料", "单位": "某大学 "}), ctx)
    third, _ = prepare_row(RawRow(4, {"名称": "一种材料", "单位": "另一所大学"}), ctx)
    assert first and second and third
    assert first.external_id == second.external_id != third.external_id
    assert first.external_id.startswith("h:")
