"""Bulk import (批量导入), file layer: read CSV/XLSX/JSON/JSONL files and map their headers.

Pure Python: no database, no web. Services validate each field and run the transaction.
"""

from luodi.inventory.importers.mapping import (
    MappingProfile,
    Transform,
    map_row,
    resolve_headers,
)
from luodi.inventory.importers.readers import RawRow, ReadLimits, RowError, Table, read_table

__all__ = [
    "MappingProfile",
    "RawRow",
    "ReadLimits",
    "RowError",
    "Table",
    "Transform",
    "map_row",
    "read_table",
    "resolve_headers",
]
