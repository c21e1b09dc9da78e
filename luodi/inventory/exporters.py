"""Write tables for bulk export (批量导出): CSV that Excel opens correctly, or XLSX, streamed.

Every string cell that a spreadsheet could take for a formula — one starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return — is prefixed with a single quote, following the OWASP
guidance on CSV injection. Numbers are written as numbers and never escaped, so a negative
amount stays a number; the string ``"-5"`` is escaped because it is text. Lists are joined with
``;``, the separator the import mapping splits on.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE

from luodi.errors import ValidationFailed

__all__ = ["escape_cell", "write_table"]

Row = Sequence[Any] | Mapping[str, Any]

_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_LIST_SEPARATOR = ";"


def write_table(
    path: str | Path,
    headers: Sequence[str],
    rows: Iterable[Row],
    *,
    sheet_title: str = "Sheet1",
) -> int:
    """Write ``headers`` and ``rows`` to ``path`` as CSV or XLSX (by extension); return the
    number of data rows.

    A row is a sequence in header order or a mapping keyed by header (missing keys are empty).
    CSV is UTF-8 with a BOM and CRLF line endings, which Excel opens with Chinese intact. Rows
    are consumed one at a time, and the file appears at ``path`` only once it is complete.
    Raises ValidationFailed for an unknown extension or a row of the wrong length.
    """
    target = Path(path)
    writer = _WRITERS.get(target.suffix.lower())
    if writer is None:
        raise ValidationFailed(
            f"cannot export to {target.suffix or 'a file without extension'}: use .csv or .xlsx",
            data={"extensions": sorted(_WRITERS)},
        )
    partial = target.with_name(target.name + ".part")
    try:
        count = writer(partial, list(headers), rows, sheet_title)
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return count


def escape_cell(value: str) -> str:
    """Prefix a quote to a string a spreadsheet could read as a formula (OWASP CSV injection).

    Whitespace-only strings (a lone tab) carry no formula and are left alone, so that an
    empty-looking cell does not come back as a stray quote.
    """
    if value.startswith(_FORMULA_TRIGGERS) and value.strip():
        return "'" + value
    return value


def _ordered(row: Row, headers: list[str], number: int) -> Sequence[Any]:
    if isinstance(row, Mapping):
        return [row.get(header) for header in headers]
    if len(row) != len(headers):
        raise ValidationFailed(
            f"row {number} has {len(row)} cells but there are {len(headers)} headers",
            data={"row": number, "cells": len(row), "headers": len(headers)},
        )
    return row


def _as_text(value: Any) -> str:
    """A non-numeric value as the text a user should see, before escaping."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return _LIST_SEPARATOR.join(_as_text(item) for item in items if item is not None)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


# --- CSV -------------------------------------------------------------------------------------


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if _is_number(value):
        return value
    return escape_cell(_as_text(value))


def _write_csv(path: Path, headers: list[str], rows: Iterable[Row], _title: str) -> int:
    count = 0
    # newline="" hands line endings to the csv module, which writes the CRLF Excel expects.
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow([escape_cell(h) for h in headers])
        for count, row in enumerate(rows, start=1):
            writer.writerow([_csv_cell(v) for v in _ordered(row, headers, count + 1)])
    return count


# --- XLSX ------------------------------------------------------------------------------------


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    if value is None or _is_number(value):
        return value
    naive = getattr(value, "tzinfo", None) is None
    if isinstance(value, dt.datetime | dt.date | dt.time) and naive:
        return value  # Excel has no time zones; aware values are written as ISO text below
    # XML 1.0 cannot hold most control characters: openpyxl would refuse the whole file.
    # Removed before escaping, so "\x01=1" cannot turn into an unescaped "=1".
    text = escape_cell(ILLEGAL_CHARACTERS_RE.sub("", _as_text(value)))
    if text in ERROR_CODES:
        # openpyxl stores a plain str as a formula only if it starts with "=" (escaped above)
        # and as an error value if it is "#N/A" and the like: force those to text.
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"
        return cell
    return text


def _write_xlsx(path: Path, headers: list[str], rows: Iterable[Row], title: str) -> int:
    workbook = Workbook(write_only=True)  # rows go straight to a temporary file
    sheet = workbook.create_sheet(title=title)
    count = 0
    try:
        sheet.append([_xlsx_cell(sheet, h) for h in headers])
        for count, row in enumerate(rows, start=1):
            sheet.append([_xlsx_cell(sheet, v) for v in _ordered(row, headers, count + 1)])
    except BaseException:
        _discard(sheet)
        raise
    with path.open("wb") as fh:
        workbook.save(fh)
    return count


def _discard(sheet: Any) -> None:
    # Finish and delete openpyxl's temporary sheet file now rather than at interpreter exit;
    # left alone, the half-written sheet also raises when it is garbage-collected.
    with contextlib.suppress(Exception):
        sheet.close()
    with contextlib.suppress(Exception):
        sheet._writer.cleanup()  # private, but the only way to remove the file early


_WRITERS: dict[str, Callable[[Path, list[str], Iterable[Row], str], int]] = {
    ".csv": _write_csv,
    ".xlsx": _write_xlsx,
}
