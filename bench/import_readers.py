"""Benchmark the bulk-import readers on a generated 100,000-row CSV and XLSX.

    python bench/import_readers.py [--rows 100000]

Three files with the same rows: CSV (written by luodi's exporter), XLSX written by luodi's
exporter (openpyxl: inline strings, no <dimension>, the slow case for openpyxl's reader) and
XLSX laid out as Excel saves it (shared strings, <dimension> first). For each it prints, as
JSON, rows/s of an untraced read, the tracemalloc peak of a streaming read, and ru_maxrss of
the child process that did the reading (before and after). For scale, the CSV entry also has
the tracemalloc peak of materialising every row, which is what a non-streaming reader holds.
Each file is read in its own child process so ru_maxrss is not shared between them.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Iterable
from itertools import chain
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl.utils import get_column_letter

from luodi.inventory.exporters import write_table
from luodi.inventory.importers import read_table

HEADERS = [
    "编号", "成果名称", "摘要", "关键词", "技术成熟度",
    "参考价格（万元）", "所在地区", "完成单位", "发明人", "登记日期",
]  # fmt: skip


def generate_rows(count: int):
    """Yield realistic achievement rows: Chinese text, numbers, lists, dates."""
    for i in range(count):
        yield [
            f"ACH-{i:06d}",
            f"面向智能网联汽车的高精度定位技术第{i}号",
            "本成果提出一种融合卫星导航与惯性测量的定位方法，适用于自动驾驶与机器人场景。" * 2,
            "自动驾驶；高精度定位、惯性导航",
            1 + i % 9,
            round(50 + i % 1000 * 0.5, 1),
            ("110108", "120116", "130100")[i % 3],
            "北京某大学",
            "张三、李四",
            f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
        ]


def write_excel_style(path: Path, rows: Iterable[list], count: int) -> None:
    """Write an XLSX the way Excel lays it out: shared strings and a <dimension> first."""
    strings: dict[str, int] = {}

    def cell(ref: str, value) -> str:
        if isinstance(value, int | float):
            return f'<c r="{ref}"><v>{value}</v></c>'
        return f'<c r="{ref}" t="s"><v>{strings.setdefault(value, len(strings))}</v></c>'

    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    last = f"{get_column_letter(len(HEADERS))}{count + 1}"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/worksheets/sheet1.xml", "w") as fh:
            fh.write(f'<worksheet {ns}><dimension ref="A1:{last}"/><sheetData>'.encode())
            for r, row in enumerate(rows, start=1):
                cells = "".join(cell(f"{get_column_letter(c)}{r}", v) for c, v in enumerate(row, 1))
                fh.write(f'<row r="{r}">{cells}</row>'.encode())
            fh.write(b"</sheetData></worksheet>")
        sst = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
        archive.writestr("xl/sharedStrings.xml", f"<sst {ns}>{sst}</sst>")
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/>'
            "</Types>",
        )
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook {ns} xmlns:r="{rel}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{pkg}">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        )


def read_all(path: Path) -> int:
    """Stream every row and return the count; nothing is kept."""
    count = 0
    with read_table(path) as table:
        for _row in table.rows:
            count += 1
    return count


def traced_peak(action) -> float:
    """Peak traced memory in MB while ``action`` runs."""
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def materialise(path: Path) -> None:
    """Hold every row at once, as a non-streaming reader would."""
    with read_table(path) as table:
        rows = list(table.rows)
    del rows


def measure(path: Path) -> dict:
    """Run in the child: time, tracemalloc peak and ru_maxrss for one file."""
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    rows = read_all(path)
    seconds = time.perf_counter() - start
    result = {
        "file": path.name,
        "file_mb": round(path.stat().st_size / 2**20, 2),
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "tracemalloc_peak_mb": round(traced_peak(lambda: read_all(path)), 2),
        "ru_maxrss_mb_before_read": round(rss_before, 1),
        "ru_maxrss_mb_after_read": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
    }
    if path.suffix == ".csv":
        result["materialised_peak_mb"] = round(traced_peak(lambda: materialise(path)), 2)
    return result


def write(name: str, path: Path, rows: int) -> None:
    """Run in a child: write one benchmark file."""
    if name.endswith("excel_style.xlsx"):
        write_excel_style(path, chain([HEADERS], generate_rows(rows)), rows)
    else:
        write_table(path, HEADERS, generate_rows(rows))


def child(*args: str) -> str:
    # Every step runs in a fresh child of this small parent: on Linux a child's ru_maxrss
    # starts from its parent's high-water mark, so a parent that wrote files would skew it.
    command = [sys.executable, __file__, *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def main() -> None:
    """Generate the files, read each in a child process, print the results as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--write", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    if args.write:
        write(args.write.name, args.write, args.rows)
        return
    names = ["achievements.csv", "achievements_openpyxl.xlsx", "achievements_excel_style.xlsx"]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            path = Path(tmp) / name
            start = time.perf_counter()
            child("--write", str(path), "--rows", str(args.rows))
            written = time.perf_counter() - start
            result = json.loads(child("--measure", str(path)))
            results.append(result | {"write_seconds_incl_startup": round(written, 2)})
    print(json.dumps({"python": sys.version.split()[0], "results": results}, indent=2))


if __name__ == "__main__":
    main()
