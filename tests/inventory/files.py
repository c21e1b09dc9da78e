"""Helpers for the import tests: write files in every format and encoding, count table rows."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import func, select

from luodi.db import Database
from luodi.inventory.models import (
    Achievement,
    Demand,
    DuplicateFlag,
    Enterprise,
    Expert,
    ImportRun,
    Institution,
)

TABLES = {"achievements": Achievement, "demands": Demand, "enterprises": Enterprise,
          "institutions": Institution, "experts": Expert, "duplicate_flags": DuplicateFlag}

ACHIEVEMENT_HEADERS = ["编号", "成果名称", "摘要", "技术成熟度", "参考价格（万元）", "所在地区",
                       "完成单位", "专利号"]
GOOD_ROWS = [
    ["A-1", "一种固态锂电池正极材料及其制备方法",
     "本发明公开了一种高镍固态锂电池正极材料，循环寿命长。",
     "5", "120万", "110108", "北京理工示范大学", "ZL202310123456.7"],
    ["A-2", "基于深度学习的工业视觉缺陷检测系统",
     "利用卷积神经网络检测钢板表面缺陷，准确率高。",
     "7", "面议", "120116", "天津示范研究院", ""],
    ["A-3", "面向农田的无人机植保路径规划方法",
     "根据地块边界自动生成喷洒航线，节省药液。",
     "4", "1,200,000元", "海淀区", "北京理工示范大学", "CN202220987654.3"],
]


def write_csv(path: Path, headers: list[str], rows: list[list[Any]], *,
              encoding: str = "utf-8") -> Path:
    """A CSV file in ``encoding`` (``utf-8-sig`` adds a BOM)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, headers: list[str], rows: list[list[Any]]) -> Path:
    """An XLSX workbook with one sheet (formulas are written uncalculated, as scripts do)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def write_json(path: Path, headers: list[str], rows: list[list[Any]], *, lines: bool) -> Path:
    """A JSON array of objects, or JSONL with one object a line."""
    records = [dict(zip(headers, row, strict=True)) for row in rows]
    if lines:
        text = "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n"
    else:
        text = json.dumps(records, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


def zip_bomb(path: Path, *, inflated: int = 20 * 2**20) -> Path:
    """A would-be XLSX whose sheet inflates ~1000:1 (refused before parsing)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * inflated)
    return path


def counts(db: Database) -> dict[str, int]:
    """Rows in every inventory table, read on a fresh session (sees only committed data)."""
    with db.sessions() as session:
        return {name: session.scalar(select(func.count()).select_from(model)) or 0
                for name, model in TABLES.items()}


def nothing_written(db: Database) -> bool:
    """True when every inventory table is empty."""
    return not any(counts(db).values())


def last_run(db: Database) -> ImportRun | None:
    """The newest ImportRun."""
    with db.sessions() as session:
        return session.scalar(select(ImportRun).order_by(ImportRun.id.desc()))
