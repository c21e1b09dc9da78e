"""Read bulk-import files (批量导入) — CSV, XLSX, JSON, JSONL — as a stream of raw rows.

This is the file layer only: no field validation, no database. :func:`read_table` checks the
file as a whole (size and zip-bomb limits before any parsing, encoding, header row) and raises
:class:`~luodi.errors.FileUnreadable` when the file cannot be read at all. Problems confined to
one row (a JSONL line that is not an object, a cell under no header, a formula without a cached
value) never raise: they travel with the row as :class:`RowError` items.

Row numbers are the ones a user can find in the file: for CSV and XLSX the header is row 1 and
the first data row is row 2 (a CSV record spanning several lines counts once, as in Excel); for
JSON the index of the record in the array, starting at 1; for JSONL the line number, starting at
1 (equal to the record index unless the file has blank lines, which are skipped but counted).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from luodi.errors import DomainError, FileUnreadable
from luodi.inventory.importers import _xlsx
from luodi.inventory.importers._table import (
    RawRow,
    ReadLimits,
    RowError,
    Source,
    Table,
    Values,
    build_row,
    header_positions,
    limit_rows,
    to_text,
)

__all__ = ["RawRow", "ReadLimits", "RowError", "Table", "read_table"]

_EXTENSIONS = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv",
    ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
}  # fmt: skip
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and .xlsx saved with a password
_SAMPLE_CHARS = 64 * 1024


def read_table(
    path_or_bytes: str | Path | bytes,
    *,
    filename: str | None = None,
    limits: ReadLimits = ReadLimits(),
    sheet: str | None = None,
) -> Table:
    """Open an import file and return its headers and a lazy stream of :class:`RawRow`.

    The format comes from the extension of ``filename`` (default: the path's name); the
    content is sniffed when the extension is missing or unknown, and a zip or OLE signature
    always wins because such bytes can never be a valid CSV or JSON. ``sheet`` picks an XLSX
    sheet by name (default: the first). Raises FileUnreadable for any whole-file failure;
    exceeding ``limits.max_rows`` in a streamed format raises it while iterating.
    """
    if isinstance(path_or_bytes, bytes):
        src = Source(None, path_or_bytes)
    else:
        src = Source(Path(path_or_bytes), None)
        filename = filename or Path(path_or_bytes).name
    size = src.size()
    if size > limits.max_file_bytes:
        raise FileUnreadable(
            f"file too large: {size} bytes, the limit is {limits.max_file_bytes}",
            data={"limit": "max_file_bytes", "size": size, "max": limits.max_file_bytes},
        )
    if size == 0:
        raise FileUnreadable("empty file")
    fmt = _detect_format(src, filename or "")
    if fmt == "xlsx":
        return _xlsx.read_xlsx(src, limits, sheet)
    encoding = _detect_encoding(src)
    if fmt == "json":
        return _read_json(src, encoding, limits)
    if fmt == "jsonl":
        return _read_jsonl(src, encoding, limits)
    delimiter = "\t" if (filename or "").lower().endswith(".tsv") else None
    return _read_csv(src, encoding, limits, delimiter)


def _detect_format(src: Source, filename: str) -> str:
    head = src.head(8)
    if head.startswith(_OLE_MAGIC):
        raise FileUnreadable(
            "an old .xls workbook or a password-protected .xlsx: save it as an unprotected .xlsx"
        )
    suffix = Path(filename).suffix.lower()
    if suffix in (".xls", ".xlsb", ".ods", ".numbers"):  # the last three are zips as well
        raise FileUnreadable(f"{suffix} files are not supported: save the sheet as .xlsx or CSV")
    if head.startswith(_ZIP_MAGIC) or suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    return _sniff_text_format(src.head(_SAMPLE_CHARS))


def _sniff_text_format(sample: bytes) -> str:
    # A leading '[' is a JSON array; a '{' is JSONL when the first line is a whole object,
    # otherwise a single (pretty-printed) JSON object, which the JSON reader then refuses.
    text = sample.removeprefix(codecs.BOM_UTF8).lstrip()
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        try:
            json.loads(text.split(b"\n", 1)[0])
        except ValueError:
            return "json"
        return "jsonl"
    return "csv"


def _detect_encoding(src: Source) -> str:
    """Decide the text encoding from the whole file: BOM, else UTF-8, else GB18030."""
    head = src.head(3)
    # (encoding reported and used to read, codec used to check every byte, label)
    if head.startswith(codecs.BOM_UTF8):
        candidates = [("utf-8-sig", "utf-8", "UTF-8")]  # the BOM itself is valid UTF-8
    elif head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        candidates = [("utf-16", "utf-16", "UTF-16")]  # Excel's "Unicode text" export
    else:  # GB18030 is a superset of GBK and GB2312
        candidates = [("utf-8", "utf-8", "UTF-8"), ("gb18030", "gb18030", "GB18030")]
    failures: dict[str, int] = {}
    for encoding, codec, _label in candidates:
        position = _first_undecodable_byte(src, codec)
        if position is None:
            return encoding
        failures[encoding] = position
    # The furthest failure is the likelier real corruption: a UTF-8 file fails GB18030 early.
    at = max(failures.values())
    tried = " or ".join(label for _, _, label in candidates)
    raise FileUnreadable(f"cannot decode as {tried} at byte {at}", data={"bytes": failures})


def _first_undecodable_byte(src: Source, encoding: str) -> int | None:
    decoder = codecs.getincrementaldecoder(encoding)()
    fed = 0
    with src.open() as fh:
        while True:
            chunk = fh.read(2**18)  # small chunks: the decoded text is thrown away
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return fed - pending + exc.start
            if not chunk:
                return None
            fed += len(chunk)


# --- CSV -------------------------------------------------------------------------------------


def _read_csv(src: Source, encoding: str, limits: ReadLimits, delimiter: str | None) -> Table:
    text = io.TextIOWrapper(src.open(), encoding=encoding, newline="")
    try:
        delimiter = delimiter or _sniff_delimiter(text.read(_SAMPLE_CHARS))
        text.seek(0)
        reader = csv.reader(text, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            raise FileUnreadable("empty file")
        positions = header_positions(header)
    except DomainError:
        text.close()
        raise
    except csv.Error as exc:
        text.close()
        raise FileUnreadable(f"not a readable CSV file: {exc}") from exc
    rows = limit_rows(_csv_rows(reader, positions, text), limits)
    return Table([n for _, n in positions], rows, "csv", encoding, [text.close])


def _sniff_delimiter(sample: str) -> str:
    # The header line decides: the candidate that splits it into the most columns wins, and
    # comma wins ties. csv.Sniffer guesses badly on multi-line quoted fields and Chinese text.
    best, best_count = ",", 1
    for candidate in (",", "\t", ";"):
        first = next(csv.reader(io.StringIO(sample), delimiter=candidate), [])
        if len(first) > best_count:
            best, best_count = candidate, len(first)
    return best


def _csv_rows(reader: Any, positions: list[tuple[int, str]], text: IO[str]) -> Iterator[RawRow]:
    number = 1
    try:
        for cells in reader:
            number += 1  # records, not physical lines: a quoted multi-line cell is one row
            row = build_row(number, cells, positions)
            if row is not None:
                yield row
    except (csv.Error, UnicodeDecodeError) as exc:  # the file changed since it was checked
        raise FileUnreadable(f"not a readable CSV file at row {number}: {exc}") from exc
    finally:
        text.close()


# --- JSON and JSONL --------------------------------------------------------------------------


def _read_json(src: Source, encoding: str, limits: ReadLimits) -> Table:
    with src.open() as fh:
        text = fh.read().decode(encoding)  # a JSON array must be parsed whole; size is capped
    if not text.strip():
        raise FileUnreadable("empty file")
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileUnreadable(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    if not isinstance(records, list):
        raise FileUnreadable(f"JSON must be an array of objects, not {type(records).__name__}")
    if not records:
        raise FileUnreadable("empty file: the JSON array has no records")
    if len(records) > limits.max_rows:
        raise FileUnreadable(
            f"too many rows: {len(records)} records, the limit is {limits.max_rows}",
            data={"limit": "max_rows", "max": limits.max_rows, "rows": len(records)},
        )
    headers = _union_keys(r for r in records if isinstance(r, dict))
    rows = (_record_row(i, r, headers) for i, r in enumerate(records, start=1))
    return Table(headers, rows, "json", encoding)


def _read_jsonl(src: Source, encoding: str, limits: ReadLimits) -> Table:
    # Two streaming passes keep memory flat: the first collects the header union and counts
    # records (refusing too many before any row is handed out), the second yields rows.
    count, headers = 0, dict[str, None]()
    for _number, record in _jsonl_records(src, encoding):
        count += 1
        if count > limits.max_rows:
            raise FileUnreadable(
                f"too many rows: more than {limits.max_rows} records",
                data={"limit": "max_rows", "max": limits.max_rows},
            )
        if isinstance(record, dict):
            headers.update(dict.fromkeys(_union_keys([record])))
    if count == 0:
        raise FileUnreadable("empty file")
    if not headers:
        raise FileUnreadable("missing header row: no line of the JSONL file is a JSON object")
    names = list(headers)
    rows = (_record_row(n, r, names) for n, r in _jsonl_records(src, encoding))
    return Table(names, rows, "jsonl", encoding)


class _BadLine:
    """A JSONL line that does not parse, kept to report it as a row error."""

    def __init__(self, line: str, message: str) -> None:
        self.line, self.message = line, message


def _jsonl_records(src: Source, encoding: str) -> Iterator[tuple[int, Any]]:
    with io.TextIOWrapper(src.open(), encoding=encoding) as text:
        for number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, _BadLine(line, exc.msg)


def _union_keys(records: Any) -> list[str]:
    headers: dict[str, None] = {}
    for keys in records:
        headers.update((str(k).strip(), None) for k in keys if str(k).strip())
    return list(headers)


def _record_row(number: int, record: Any, headers: list[str]) -> RawRow:
    empty: Values = dict.fromkeys(headers)
    if isinstance(record, _BadLine):
        reason = f"not valid JSON: {record.message}"
        return RawRow(number, empty, (RowError(number, None, record.line[:200], reason),))
    if not isinstance(record, dict):
        raw = json.dumps(record, ensure_ascii=False)[:200]
        return RawRow(number, empty, (RowError(number, None, raw, "not a JSON object"),))
    values = empty | {str(k).strip(): to_text(v) for k, v in record.items() if str(k).strip()}
    return RawRow(number, values)
