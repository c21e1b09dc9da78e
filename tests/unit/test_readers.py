"""Import readers: a malformed-file corpus built in memory, plus a slow 100k-row streaming test."""

from __future__ import annotations

import gc
import io
import json
import os
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from luodi.errors import FileUnreadable
from luodi.inventory.importers import RawRow, ReadLimits, RowError, read_table

# --- builders --------------------------------------------------------------------------------


def rows_of(data: bytes | Path, filename: str | None = None, **kw) -> list[RawRow]:
    with read_table(data, filename=filename, **kw) as table:
        return list(table.rows)


def xlsx_bytes(*sheets: tuple[str, list[list]]) -> bytes:
    """A workbook written by openpyxl (inline strings, formulas without cached values)."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets or [("Sheet1", [])]:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rezip(data: bytes, member: str, edit) -> bytes:
    """Copy a zip, passing one member's text through ``edit``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == member:
                body = edit(body.decode()).encode()
            dst.writestr(info.filename, body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in entries.items():
            archive.writestr(name, body)
    return out.getvalue()


SHEET = "xl/worksheets/sheet1.xml"
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def excel_style_xlsx(path: Path, rows) -> None:
    """A minimal workbook laid out as Excel writes it (shared strings, a <dimension> up front),
    written fast. The dimension says A1 on purpose: the reader must not trust it."""
    strings: dict[str, int] = {}

    def cell(ref: str, value) -> str:
        if isinstance(value, int | float):
            return f'<c r="{ref}"><v>{value}</v></c>'
        return f'<c r="{ref}" t="s"><v>{strings.setdefault(value, len(strings))}</v></c>'

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(SHEET, "w") as fh:
            fh.write(f'<worksheet {_NS}><dimension ref="A1"/><sheetData>'.encode())
            for r, row in enumerate(rows, start=1):
                cells = "".join(cell(f"{'ABCDEFGH'[c]}{r}", v) for c, v in enumerate(row))
                fh.write(f'<row r="{r}">{cells}</row>'.encode())
            fh.write(b"</sheetData></worksheet>")
        sst = "".join(f"<si><t>{s}</t></si>" for s in strings)
        archive.writestr("xl/sharedStrings.xml", f"<sst {_NS}>{sst}</sst>")
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
            f'<Override PartName="/{SHEET}" ContentType="{_CT}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT}.sharedStrings+xml"/>'
            "</Types>",
        )
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook {_NS} xmlns:r="{_REL}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{_PKG}">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        )


# --- CSV: encodings --------------------------------------------------------------------------

CSV_TEXT = "成果名称,关键词,技术成熟度\n量子传感器,量子；传感,6\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (CSV_TEXT.encode("utf-8"), "utf-8"),
        (CSV_TEXT.encode("utf-8-sig"), "utf-8-sig"),
        (CSV_TEXT.encode("gbk"), "gb18030"),
        (CSV_TEXT.encode("utf-16"), "utf-16"),
    ],
    ids=["utf-8", "utf-8-bom", "gbk", "utf-16-bom"],
)
def test_csv_encodings_are_detected_and_reported(data, encoding):
    with read_table(data, filename="a.csv") as table:
        assert table.encoding == encoding
        assert table.format == "csv"
        assert table.headers == ["成果名称", "关键词", "技术成熟度"]  # no stray BOM
        rows = list(table.rows)
    assert rows == [
        RawRow(2, {"成果名称": "量子传感器", "关键词": "量子；传感", "技术成熟度": "6"})
    ]


def test_gb18030_only_characters():
    text = "姓名,专长\n𠮷野家,䶮𠀀\n"
    with pytest.raises(UnicodeEncodeError):
        text.encode("gbk")  # the corpus really needs GB18030, not GBK
    with read_table(text.encode("gb18030"), filename="experts.csv") as table:
        assert table.encoding == "gb18030"
        assert list(table.rows)[0].values == {"姓名": "𠮷野家", "专长": "䶮𠀀"}


def test_undecodable_bytes_name_the_byte():
    data = "名称\n".encode() + b"ab\xff\xfe\n"
    with pytest.raises(FileUnreadable, match=r"cannot decode as UTF-8 or GB18030 at byte 9"):
        read_table(data, filename="bad.csv")


def test_bom_file_with_broken_bytes_is_refused_before_parsing():
    data = "名称\n好\n".encode("utf-8-sig") + b"\xff\n"
    with pytest.raises(FileUnreadable, match=r"cannot decode as UTF-8 at byte \d+"):
        read_table(data, filename="bad.csv")


# --- CSV: structure --------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiter_is_sniffed(delimiter):
    data = delimiter.join(["title", "summary", "trl"]) + "\n" + delimiter.join("ab7") + "\n"
    rows = rows_of(data.encode(), "x.csv")
    assert rows[0].values == {"title": "a", "summary": "b", "trl": "7"}


def test_tsv_extension_means_tab_and_quoted_commas_stay_in_cells():
    rows = rows_of(b'title\tkeywords\n"a, b"\t"x, y"\n', "x.tsv")
    assert rows[0].values == {"title": "a, b", "keywords": "x, y"}


def test_row_numbers_count_records_and_skip_blank_rows():
    data = b'title,description\na,"line one\nline two"\n\n,\nb,plain\n'
    rows = rows_of(data, "x.csv")
    assert [(r.number, r.values["title"]) for r in rows] == [(2, "a"), (5, "b")]
    assert rows[0].values["description"] == "line one\nline two"


def test_short_rows_pad_with_none_and_extra_cells_are_row_errors():
    rows = rows_of(b"a,b,c\n1\n1,2,3,,\n1,2,3,surplus\n", "x.csv")
    assert rows[0] == RawRow(2, {"a": "1", "b": None, "c": None})
    assert rows[1].errors == ()  # trailing empty cells are harmless
    assert rows[2].errors == (
        RowError(4, None, "surplus", "value in column 4, which has no header"),
    )


def test_whitespace_only_cells_are_none():
    assert rows_of(b"a,b\n  ,x\n", "x.csv")[0].values == {"a": None, "b": "x"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"\nname,region\nx,110000\n", "missing header row"),
        (b",,\n1,2,3\n", "missing header row"),
        ("名称,地区,名称\n".encode(), "duplicate column header 名称 \\(columns 1 and 3\\)"),
    ],
    ids=["empty", "blank-first-line", "blank-header-cells", "duplicate"],
)
def test_csv_whole_file_failures(data, message):
    with pytest.raises(FileUnreadable, match=message):
        read_table(data, filename="x.csv")


def test_file_size_limit_is_checked_before_reading():
    with pytest.raises(FileUnreadable, match="file too large: 20 bytes, the limit is 10") as err:
        read_table(b"a,b\n" * 5, filename="x.csv", limits=ReadLimits(max_file_bytes=10))
    assert err.value.data["limit"] == "max_file_bytes"


def test_row_limit_stops_the_stream():
    data = b"a\n" + b"1\n" * 5
    with read_table(data, filename="x.csv", limits=ReadLimits(max_rows=3)) as table:
        rows = iter(table.rows)
        assert [next(rows).number for _ in range(3)] == [2, 3, 4]
        with pytest.raises(FileUnreadable, match="too many rows: more than 3"):
            next(rows)


def test_path_input_takes_the_name_from_the_path_and_closes_the_file(tmp_path):
    path = tmp_path / "需求.csv"
    path.write_bytes("需求名称\n芯片散热\n".encode("gbk"))
    fds = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    for source in (path, str(path)):
        assert rows_of(source)[0].values == {"需求名称": "芯片散热"}
        table = read_table(source)
        table.close()
        table.close()  # idempotent
    if fds is not None:
        assert len(os.listdir("/proc/self/fd")) == fds


# --- format detection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b'[{"title": "a"}]', "json"),
        (b'{"title": "a"}\n{"title": "b"}\n', "jsonl"),
        (b"title\na\n", "csv"),
        (xlsx_bytes(("Sheet1", [["title"], ["a"]])), "xlsx"),
    ],
)
def test_format_is_sniffed_without_an_extension(data, fmt):
    with read_table(data, filename="upload") as table:
        assert table.format == fmt
        assert next(iter(table.rows)).values == {"title": "a"}


def test_workbook_named_csv_is_read_as_xlsx():
    with read_table(xlsx_bytes(("S", [["title"], ["a"]])), filename="export.csv") as table:
        assert table.format == "xlsx"


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xls", "old .xls workbook"),
        (b"whatever", "book.xlsb", ".xlsb files are not supported"),
        (zip_bytes({"content.xml": b"<x/>"}), "book.ods", ".ods files are not supported"),
    ],
)
def test_unsupported_spreadsheets_are_named(data, filename, message):
    with pytest.raises(FileUnreadable, match=message):
        read_table(data, filename=filename)


# --- XLSX ------------------------------------------------------------------------------------


def test_xlsx_values_become_text_with_chinese_headers():
    import datetime as dt

    data = xlsx_bytes(
        ("成果", [
            ["成果名称", "参考价格（万元）", "技术成熟度", "登记日期", "公开"],
            ["量子传感器", 35.5, 6.0, dt.datetime(2026, 3, 1), True],
            [None, None, None, None, None],
            ["机器人", 100, 7, dt.datetime(2026, 3, 1, 9, 30), False],
        ]),
    )  # fmt: skip
    with read_table(data, filename="a.xlsx") as table:
        assert table.headers == ["成果名称", "参考价格（万元）", "技术成熟度", "登记日期", "公开"]
        assert table.encoding is None
        rows = list(table.rows)
    assert [r.number for r in rows] == [2, 4]
    assert rows[0].values == {
        "成果名称": "量子传感器", "参考价格（万元）": "35.5", "技术成熟度": "6",
        "登记日期": "2026-03-01", "公开": "true",
    }  # fmt: skip
    assert rows[1].values["登记日期"] == "2026-03-01T09:30:00"


def test_xlsx_named_sheet_and_missing_sheet():
    data = xlsx_bytes(("说明", [["read me"]]), ("数据", [["title"], ["a"]]))
    assert rows_of(data, "a.xlsx", sheet="数据")[0].values == {"title": "a"}
    with read_table(data, filename="a.xlsx") as table:
        assert table.headers == ["read me"]  # the first sheet by default
    with pytest.raises(FileUnreadable, match="no sheet named 清单 \\(sheets: 说明, 数据\\)"):
        read_table(data, filename="a.xlsx", sheet="清单")


def test_xlsx_stale_dimension_does_not_drop_rows():
    data = xlsx_bytes(("S", [["title"], ["a"], ["b"], ["c"]]))
    data = rezip(
        data, SHEET, lambda xml: xml.replace('<dimension ref="A1:A4"', '<dimension ref="A1:A2"')
    )
    assert [r.values["title"] for r in rows_of(data, "a.xlsx")] == ["a", "b", "c"]


def test_formula_cells_cached_uncached_and_errors():
    data = xlsx_bytes(("S", [["title", "price", "total"], ["a", 2, "=B2*2"], ["b", 3, "=B3*2"],
                             ["c", "#DIV/0!", None]]))  # fmt: skip
    # Give row 2's formula a cached value, as Excel would have saved it.
    data = rezip(data, SHEET, lambda xml: xml.replace("<f>B2*2</f><v />", "<f>B2*2</f><v>4</v>"))
    rows = rows_of(data, "a.xlsx")
    assert rows[0] == RawRow(2, {"title": "a", "price": "2", "total": "4"})
    assert rows[1] == RawRow(
        3,
        {"title": "b", "price": "3", "total": None},
        (RowError(3, "total", "=B3*2", "formula without value"),),
    )
    assert rows[2].values["price"] is None
    assert rows[2].errors == (RowError(4, "price", "#DIV/0!", "Excel error value"),)


def test_xlsx_cell_without_header_is_a_row_error():
    data = xlsx_bytes(("S", [["title", None, "region"], ["a", "stray", "110000"]]))
    rows = rows_of(data, "a.xlsx")
    assert rows[0].values == {"title": "a", "region": "110000"}
    assert rows[0].errors == (RowError(2, None, "stray", "value in column 2, which has no header"),)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "empty file"),
        ([[None], ["title"], ["a"]], "missing header row"),
        ([["名称", "名称"], ["a", "b"]], "duplicate column header 名称"),
    ],
)
def test_xlsx_whole_file_failures(rows, message):
    with pytest.raises(FileUnreadable, match=message):
        read_table(xlsx_bytes(("S", rows)), filename="a.xlsx")


def test_truncated_xlsx():
    data = xlsx_bytes(("S", [["title"], ["a"]]))
    with pytest.raises(FileUnreadable, match=r"not a valid XLSX \(corrupt or truncated zip\)"):
        read_table(data[: len(data) // 2], filename="a.xlsx")


def test_not_a_zip_named_xlsx():
    with pytest.raises(FileUnreadable, match=r"not a valid XLSX \(corrupt or truncated zip\)"):
        read_table(b"title\na\n", filename="a.xlsx")


def test_corrupt_sheet_data_in_xlsx():
    rows = [["title", "summary"]] + [[f"t{i}", f"summary number {i}" * 5] for i in range(500)]
    data = bytearray(xlsx_bytes(("S", rows)))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo(SHEET)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 200, start + 400):
        data[i] ^= 0x5A  # damage the deflate stream; the central directory stays intact
    with pytest.raises(FileUnreadable, match="not a valid XLSX"):
        rows_of(bytes(data), "a.xlsx")


def test_zip_without_workbook_is_not_xlsx():
    with pytest.raises(FileUnreadable, match="not an XLSX workbook"):
        read_table(zip_bytes({"word/document.xml": b"<w/>"}), filename="a.xlsx")


@pytest.fixture
def no_inflating(monkeypatch):
    """Fail the test if anything opens a zip entry for reading (building zips stays allowed)."""
    original = zipfile.ZipFile.open

    def guarded(self, name, mode="r", *args, **kwargs):
        if mode == "r":
            raise AssertionError(f"zip entry {name} was opened for reading")
        return original(self, name, mode, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", guarded)


def test_zip_bomb_is_refused_from_the_directory_alone(no_inflating):
    bomb = zip_bytes({"[Content_Types].xml": b"<Types/>", SHEET: b"0" * (8 * 2**20)})
    assert len(bomb) < 64 * 1024  # 8 MiB of zeros deflates to a few kilobytes
    with pytest.raises(FileUnreadable, match=r"compression ratio too high .*sheet1.xml.*200:1"):
        read_table(bomb, filename="bomb.xlsx")


def test_total_uncompressed_size_limit(no_inflating):
    data = zip_bytes({SHEET: os.urandom(2**16)})  # incompressible: only the size limit fires
    limits = ReadLimits(max_uncompressed_bytes=2**15)
    with pytest.raises(FileUnreadable, match="uncompressed size too large: 65536 bytes"):
        read_table(data, filename="a.xlsx", limits=limits)


def test_too_many_zip_entries(no_inflating):
    data = zip_bytes({f"xl/media/{i}.bin": b"" for i in range(1001)})
    with pytest.raises(FileUnreadable, match="too many zip entries: 1001, the limit is 1000"):
        read_table(data, filename="a.xlsx")


# --- JSON and JSONL --------------------------------------------------------------------------


def test_json_array_of_objects():
    records = [
        {"title": "量子传感器", "trl": 6, "keywords": ["量子", "传感"], "price": None},
        {"title": "机器人", "ip": {"no": "ZL1"}, "public": True},
        "not an object",
    ]
    data = json.dumps(records, ensure_ascii=False).encode("gbk")
    with read_table(data, filename="a.json") as table:
        assert table.encoding == "gb18030"
        assert table.headers == ["title", "trl", "keywords", "price", "ip", "public"]
        rows = list(table.rows)
    assert rows[0].values == {
        "title": "量子传感器", "trl": "6", "keywords": "量子;传感",
        "price": None, "ip": None, "public": None,
    }  # fmt: skip
    assert rows[1].number == 2
    assert rows[1].values["ip"] == '{"no": "ZL1"}'
    assert rows[1].values["public"] == "true"
    assert rows[2].errors == (RowError(3, None, '"not an object"', "not a JSON object"),)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"title": "a"}', "JSON must be an array of objects, not dict"),
        (b"[]", "empty file"),
        (b"   ", "empty file"),
        (b'[{"title": "a"},', "not valid JSON: Expecting value at line 1 column 17"),
    ],
)
def test_json_whole_file_failures(data, message):
    with pytest.raises(FileUnreadable, match=message):
        read_table(data, filename="a.json")


def test_json_row_limit_is_checked_before_rows_are_handed_out():
    with pytest.raises(FileUnreadable, match="too many rows: 3 records, the limit is 2"):
        read_table(b'[{"a":1},{"a":2},{"a":3}]', filename="a.json", limits=ReadLimits(max_rows=2))


def test_jsonl_with_bad_lines():
    data = b'{"title": "a"}\n\n{"title": \n[1, 2]\n{"title": "b", "trl": 5}\n'
    with read_table(data, filename="a.jsonl") as table:
        assert table.headers == ["title", "trl"]
        rows = list(table.rows)
    assert [r.number for r in rows] == [1, 3, 4, 5]  # line numbers; the blank line counts
    assert rows[0] == RawRow(1, {"title": "a", "trl": None})
    assert rows[1].errors[0].reason.startswith("not valid JSON")
    assert rows[2].errors == (RowError(4, None, "[1, 2]", "not a JSON object"),)
    assert rows[3].values == {"title": "b", "trl": "5"}


@pytest.mark.parametrize(
    ("data", "message", "limits"),
    [
        (b"\n\n", "empty file", ReadLimits()),
        (b"[1]\n2\n", "missing header row", ReadLimits()),
        (b'{"a":1}\n{"a":2}\n', "too many rows: more than 1", ReadLimits(max_rows=1)),
    ],
)
def test_jsonl_whole_file_failures(data, message, limits):
    with pytest.raises(FileUnreadable, match=message):
        read_table(data, filename="a.ndjson", limits=limits)


# --- 100k rows -------------------------------------------------------------------------------


def _wide_rows(count: int):
    for i in range(count):
        yield [f"ACH-{i % 1000:04d}", f"面向自动驾驶的高精度定位技术{i % 500}", i % 9 + 1, 12.5]


def _stream(path: Path) -> tuple[int, int]:
    """Read every row; return the count and the peak growth in allocated memory blocks.

    sys.getallocatedblocks is sampled instead of running tracemalloc, which slows openpyxl
    down fivefold; bench/import_readers.py reports tracemalloc peaks.
    """
    gc.collect()
    base, peak, count = sys.getallocatedblocks(), 0, 0
    with read_table(path) as table:
        for count, _row in enumerate(table.rows, start=1):
            if count % 1000 == 0:
                peak = max(peak, sys.getallocatedblocks() - base)
    return count, peak


@pytest.mark.slow
def test_100k_rows_stream_in_flat_memory(tmp_path):
    from luodi.inventory.exporters import write_table

    headers = ["编号", "成果名称", "技术成熟度", "参考价格"]
    csv_path, xlsx_path = tmp_path / "big.csv", tmp_path / "big.xlsx"
    write_table(csv_path, headers, _wide_rows(100_000))
    excel_style_xlsx(xlsx_path, [headers, *_wide_rows(100_000)])
    for path in (csv_path, xlsx_path):
        count, growth = _stream(path)
        assert count == 100_000
        # Holding every row costs ~7 blocks a row (700,000 here). openpyxl keeps one emptied
        # XML element per row it has parsed (~100,000 blocks, ~8 MB); anything near a block
        # per field would mean rows are being kept.
        assert growth < 150_000, f"{path.suffix}: {growth} blocks"


def test_too_many_uncalculated_formulas_refuse_the_file(monkeypatch):
    from luodi.inventory.importers import _xlsx

    monkeypatch.setattr(_xlsx, "MAX_SPECIAL_CELLS", 3)
    monkeypatch.setattr(_xlsx, "_TOO_MANY_SPECIAL", "more than 3 cells are formulas")
    data = xlsx_bytes(("S", [["title", "total"], *[["a", f"=1+{i}"] for i in range(4)]]))
    with pytest.raises(FileUnreadable, match="more than 3 cells are formulas"):
        read_table(data, filename="a.xlsx")
    assert len(rows_of(xlsx_bytes(("S", [["t"], ["=1"], ["=2"], ["=3"]])), "a.xlsx")) == 3
