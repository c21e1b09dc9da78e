"""Exporters: CSV for Excel, XLSX, formula-injection escaping, round trips through the readers."""

from __future__ import annotations

import datetime as dt
import tracemalloc
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from luodi.errors import ValidationFailed
from luodi.inventory.exporters import escape_cell, write_table
from luodi.inventory.importers import read_table

HEADERS = ["成果名称", "技术成熟度", "参考价格", "关键词", "登记日期"]
ROWS = [
    ["量子传感器", 6, Decimal("35.5"), ["量子", "传感"], dt.date(2026, 3, 1)],
    {"成果名称": "机器人", "技术成熟度": 7},
]
DANGEROUS = ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x","y")']


def read_back(path):
    with read_table(path) as table:
        return table.headers, [row.values for row in table.rows]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".CSV"])
def test_round_trip(tmp_path, suffix):
    path = tmp_path / f"成果{suffix}"
    assert write_table(path, HEADERS, ROWS) == 2
    headers, rows = read_back(path)
    assert headers == HEADERS
    assert rows == [
        {"成果名称": "量子传感器", "技术成熟度": "6", "参考价格": "35.5",
         "关键词": "量子;传感", "登记日期": "2026-03-01"},
        {"成果名称": "机器人", "技术成熟度": "7", "参考价格": None,
         "关键词": None, "登记日期": None},
    ]  # fmt: skip
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no .part left behind


def test_csv_is_utf8_with_bom_and_crlf(tmp_path):
    path = tmp_path / "a.csv"
    write_table(path, ["名称", "说明"], [["北京", "第一行\n第二行"]])
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig") == '名称,说明\r\n北京,"第一行\n第二行"\r\n'


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_formula_triggers_are_escaped(tmp_path, suffix):
    path = tmp_path / f"x{suffix}"
    write_table(path, ["=header", "n"], [[value, -5] for value in DANGEROUS])
    headers, rows = read_back(path)
    assert headers == ["'=header", "n"]
    # Row values keep the quote: the importer cannot know it was added, and must not guess.
    expected = ["'" + v for v in DANGEROUS]
    if suffix == ".xlsx":
        expected = [v.replace("\r", "\n") for v in expected]  # XML normalises line ends
    assert [row["'=header"] for row in rows] == expected
    assert [row["n"] for row in rows] == ["-5"] * len(DANGEROUS)  # numbers are not escaped


def test_xlsx_cells_are_text_never_formulas_or_errors(tmp_path):
    path = tmp_path / "x.xlsx"
    write_table(path, ["v"], [[v] for v in [*DANGEROUS, "#N/A", "#DIV/0!", "ok\x01\x0b"]])
    sheet_xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and 't="e"' not in sheet_xml
    sheet = openpyxl.load_workbook(path).active  # not data_only: formulas would show as such
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert {cell.data_type for cell in cells} == {"s"}
    assert cells[0].value == "'=1+2"
    assert [c.value for c in cells[-3:]] == ["#N/A", "#DIV/0!", "ok"]  # control chars dropped


def test_xlsx_keeps_native_numbers_and_dates(tmp_path):
    path = tmp_path / "x.xlsx"
    aware = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    write_table(path, ["n", "d", "aware", "flag"], [[1.5, dt.date(2026, 3, 1), aware, True]])
    row = next(openpyxl.load_workbook(path).active.iter_rows(min_row=2, values_only=True))
    assert row == (1.5, dt.datetime(2026, 3, 1), "2026-03-01T09:30:00+00:00", "true")


def test_unknown_extension_is_refused_and_nothing_written(tmp_path):
    for name in ("a.xls", "a.json", "noext"):
        with pytest.raises(ValidationFailed, match="use .csv or .xlsx"):
            write_table(tmp_path / name, ["a"], [])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_wrong_row_length_leaves_no_partial_file(tmp_path, suffix):
    path = tmp_path / f"x{suffix}"
    with pytest.raises(ValidationFailed, match="row 3 has 1 cells but there are 2 headers"):
        write_table(path, ["a", "b"], [["1", "2"], ["3"]])
    assert list(tmp_path.iterdir()) == []


def test_existing_file_survives_a_failed_export(tmp_path):
    path = tmp_path / "x.csv"
    write_table(path, ["a"], [["old"]])
    with pytest.raises(ValidationFailed):
        write_table(path, ["a"], [["new", "extra"]])
    assert read_back(path)[1] == [{"a": "old"}]


def test_csv_export_streams(tmp_path):
    def rows():
        for i in range(50_000):
            yield [f"成果{i}", i, "说明文字" * 10]

    tracemalloc.start()
    write_table(tmp_path / "big.csv", ["a", "b", "c"], rows())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2 * 2**20  # ~10 MB if the rows were gathered first


@given(st.text() | st.sampled_from(["\t", "\r\n", "\t=1"]))
def test_escaped_text_never_starts_with_a_trigger(text):
    escaped = escape_cell(text)
    if text.strip():
        assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert escaped in (text, "'" + text)


_cells = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
)


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_cells, min_size=3, max_size=3), min_size=1, max_size=5))
def test_csv_round_trip_of_any_text(tmp_path, rows):
    path = tmp_path / "any.csv"
    write_table(path, ["a", "b", "c"], rows)
    _, back = read_back(path)
    expected = [
        {h: escape_cell(v) if v.strip() else None for h, v in zip("abc", row, strict=True)}
        for row in rows
        if any(v.strip() for v in row)  # the reader skips rows with nothing in them
    ]
    assert back == expected
