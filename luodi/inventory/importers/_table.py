"""Row model shared by the import readers: limits, rows, row errors, the table, a source.

Kept apart from :mod:`readers` so the per-format modules can build rows without importing the
dispatcher. Public names are re-exported by :mod:`luodi.inventory.importers.readers`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from luodi.errors import FileUnreadable

Values = dict[str, str | None]


@dataclass(frozen=True)
class ReadLimits:
    """Limits checked before parsing (sizes, zip entries) and while streaming (rows)."""

    max_file_bytes: int = 50 * 2**20
    max_rows: int = 200_000
    max_uncompressed_bytes: int = 512 * 2**20  # XLSX: sum of declared entry sizes
    max_zip_entries: int = 1_000
    max_compression_ratio: float = 200.0  # real sheets stay well under 100:1; bombs reach 1000:1
    ratio_check_min_bytes: int = 2**20  # tiny entries may have odd ratios and can do no harm


@dataclass(frozen=True)
class RowError:
    """A problem confined to one row; ``column`` is a header name, or None for the whole row."""

    row: int
    column: str | None
    value: str | None
    reason: str


@dataclass(frozen=True)
class RawRow:
    """One data row: every header is a key of ``values`` (None when empty or unreadable)."""

    number: int
    values: Values
    errors: tuple[RowError, ...] = ()


@dataclass
class Table:
    """An opened file: headers read eagerly, rows streamed. Close it (or use ``with``)."""

    headers: list[str]
    rows: Iterator[RawRow]
    format: str
    encoding: str | None
    _closers: list[Callable[[], Any]] = field(default_factory=list, repr=False)

    def close(self) -> None:
        """Release the open file; safe to call twice."""
        close_rows = getattr(self.rows, "close", None)
        if close_rows is not None:
            close_rows()
        while self._closers:
            self._closers.pop()()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Source:
    """A file given either by path or as bytes; opened as many times as a pass needs."""

    path: Path | None
    data: bytes | None

    def open(self) -> IO[bytes]:
        return open(self.path, "rb") if self.path is not None else io.BytesIO(self.data or b"")

    def size(self) -> int:
        return self.path.stat().st_size if self.path is not None else len(self.data or b"")

    def head(self, n: int) -> bytes:
        with self.open() as fh:
            return fh.read(n)


def header_positions(cells: Sequence[Any]) -> list[tuple[int, str]]:
    """Map column index → header name; refuse a blank header row and duplicate names."""
    names = [to_text(cell) for cell in cells]
    positions = [(i, name.strip()) for i, name in enumerate(names) if name and name.strip()]
    if not positions:
        raise FileUnreadable("missing header row: row 1 is empty")
    seen: dict[str, int] = {}
    for index, name in positions:
        if name in seen:
            raise FileUnreadable(
                f"duplicate column header {name} (columns {seen[name] + 1} and {index + 1})",
                data={"header": name, "columns": [seen[name] + 1, index + 1]},
            )
        seen[name] = index
    return positions


def build_row(number: int, cells: Sequence[Any], positions: list[tuple[int, str]]) -> RawRow | None:
    """Turn one row of cells into a RawRow; None for a row with nothing in it."""
    texts = [to_text(cell) for cell in cells]
    if not any(texts):
        return None
    values: Values = {name: texts[i] if i < len(texts) else None for i, name in positions}
    named = {i for i, _ in positions}
    errors = tuple(
        RowError(number, None, text, f"value in column {i + 1}, which has no header")
        for i, text in enumerate(texts)
        if text is not None and i not in named
    )
    return RawRow(number, values, errors)


def to_text(value: Any) -> str | None:
    """Render one cell as the text a user typed; None for empty or whitespace-only."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))  # Excel stores every number as a float: 2024.0 means 2024
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return ";".join(t for t in map(to_text, value) if t) or None
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def limit_rows(rows: Iterator[RawRow], limits: ReadLimits) -> Iterator[RawRow]:
    count = 0
    for row in rows:
        count += 1
        if count > limits.max_rows:
            raise FileUnreadable(
                f"too many rows: more than {limits.max_rows} data rows",
                data={"limit": "max_rows", "max": limits.max_rows},
            )
        yield row
