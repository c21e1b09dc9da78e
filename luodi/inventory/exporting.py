"""Bulk export (批量导出): every record of a kind to CSV (UTF-8 with BOM) or XLSX, for staff.

One row per record, every tier included (hence staff only), with Chinese headers a person can
read. Codes come with their names (``行政区划代码`` and ``地区名称``, ``领域`` and ``领域名称``);
vocabularies are written as their Chinese labels, lists joined with ``；``. The headers are the
importer's own synonyms wherever the importer has the field, so an exported file imports back
onto the same records (its ``编号`` and ``来源`` columns carry the identity). Records are
streamed in batches; cells that a spreadsheet could run as a formula are escaped by
:func:`luodi.inventory.exporters.write_table`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.policy import authorize
from luodi.inventory import codes
from luodi.inventory.exporters import write_table
from luodi.inventory.kinds import kind_of
from luodi.inventory.models import Enterprise, Institution
from luodi.inventory.taxonomy import active_taxonomy

BATCH = 500
Getter = Callable[[Any, "_Names"], Any]


class _Names:
    """Names of linked institutions and enterprises, loaded once per export."""

    def __init__(self, session: Session, kind: str) -> None:
        self.institutions: dict[int, str] = {}
        self.enterprises: dict[int, tuple[str, str | None]] = {}
        if kind in ("achievements", "experts"):
            self.institutions = dict(session.execute(
                select(Institution.id, Institution.name)).all())
        if kind == "demands":
            self.enterprises = {rid: (name, code) for rid, name, code in session.execute(
                select(Enterprise.id, Enterprise.name, Enterprise.credit_code))}


def _joined(values: Any) -> str:
    return "；".join(str(v) for v in values or [] if v not in (None, ""))


@lru_cache(maxsize=4096)
def _region_name(code: str | None) -> str:
    if not code:
        return ""
    try:
        return " ".join(codes.region_chain(code))
    except Exception:  # a code retired since it was stored: leave the name blank
        return ""


_names: tuple[object, dict[str, str]] | None = None


def _field_names() -> dict[str, str]:
    """Field names of the configured taxonomy, rebuilt only when the taxonomy changes."""
    global _names
    taxonomy = active_taxonomy()
    if _names is None or _names[0] is not taxonomy:
        _names = (taxonomy, {f.code: f.name_zh for f in taxonomy})
    return _names[1]


def _label(enum: Any, value: str | None) -> str:
    if not value:
        return ""
    try:
        return str(enum(value).zh)
    except ValueError:
        return value


def _labels(enum: Any, values: list[str] | None) -> str:
    return _joined(_label(enum, v) for v in values or [])


def _attr(name: str) -> Getter:
    return lambda obj, _names: getattr(obj, name)


def _stage(obj: Any, _names: _Names) -> str:
    return codes.trl_stage(obj.trl).zh if obj.trl else ""


_IDENTITY: list[tuple[str, Getter]] = [("系统编号", _attr("id")), ("编号", _attr("external_id")),
                                       ("来源", _attr("source"))]
_REGION: list[tuple[str, Getter]] = [
    ("行政区划代码", _attr("region_code")),
    ("地区名称", lambda o, _n: _region_name(o.region_code)),
]
_FIELD: list[tuple[str, Getter]] = [
    ("领域", _attr("field_code")),
    ("领域名称", lambda o, _n: _field_names().get(o.field_code or "", o.field_code or "")),
]
_STATUS: list[tuple[str, Getter]] = [
    ("状态", _attr("status")),
    ("状态名称", lambda o, _n: _label(codes.AchievementStatus, o.status)),
]
_CONTACT_AND_DATES: list[tuple[str, Getter]] = [
    ("联系人", _attr("contact_name")), ("联系邮箱", _attr("contact_email")),
    ("联系电话", _attr("contact_phone")), ("复核日期", _attr("review_due_on")),
    ("过期日期", _attr("expires_on")), ("更新时间", _attr("updated_at")),
]

COLUMNS: dict[str, list[tuple[str, Getter]]] = {
    "achievements": [
        *_IDENTITY, ("成果名称", _attr("title")), ("摘要", _attr("summary")),
        ("详细描述", _attr("description")), ("关键词", lambda o, _n: _joined(o.keywords)),
        *_FIELD, ("技术成熟度", _attr("trl")), ("阶段", _stage),
        ("转化方式", lambda o, _n: _labels(codes.TransferMode, o.transfer_modes)),
        ("参考价格（万元）", _attr("price_wan")), ("价格说明", _attr("price_note")), *_REGION,
        ("所属机构", lambda o, n: n.institutions.get(o.institution_id, "")),
        ("发明人", lambda o, _n: _joined(o.inventors)),
        ("专利号", lambda o, _n: _joined(i.get("number") for i in o.ip_items or [])),
        *_STATUS, *_CONTACT_AND_DATES,
    ],
    "demands": [
        *_IDENTITY, ("需求名称", _attr("title")), ("摘要", _attr("summary")),
        ("需求描述", _attr("description")), ("关键词", lambda o, _n: _joined(o.keywords)),
        ("企业名称", lambda o, n: n.enterprises.get(o.enterprise_id, ("", None))[0]),
        ("统一社会信用代码", lambda o, n: n.enterprises.get(o.enterprise_id, ("", None))[1]),
        *_FIELD, ("需求技术成熟度", _attr("trl_wanted")),
        ("预算下限（万元）", _attr("budget_min_wan")),
        ("预算上限（万元）", _attr("budget_max_wan")),
        ("截止日期", _attr("deadline")),
        ("合作方式", lambda o, _n: _labels(codes.TransferMode, o.cooperation_modes)), *_REGION,
        ("是否保密", lambda o, _n: "是" if o.confidential else "否"),
        *_STATUS, *_CONTACT_AND_DATES,
    ],
    "enterprises": [
        *_IDENTITY, ("企业名称", _attr("name")), ("英文名称", _attr("name_en")),
        ("统一社会信用代码", _attr("credit_code")), *_REGION,
        ("国民经济行业", _attr("industry_code")),
        ("企业规模", lambda o, _n: _label(codes.EnterpriseSize, o.size)),
        ("资质", lambda o, _n: _labels(codes.Qualification, o.qualifications)),
        ("企业简介", _attr("profile")), ("更新时间", _attr("updated_at")),
    ],
    "institutions": [
        *_IDENTITY, ("机构名称", _attr("name")), ("英文名称", _attr("name_en")),
        ("机构类型", _attr("kind")), ("国家", _attr("country")), *_REGION,
        ("统一社会信用代码", _attr("credit_code")), ("网址", _attr("website")),
        ("机构简介", _attr("profile")), ("更新时间", _attr("updated_at")),
    ],
    "experts": [
        *_IDENTITY, ("姓名", _attr("name")), ("职称", _attr("title")),
        ("工作单位", lambda o, n: n.institutions.get(o.institution_id) or o.affiliation),
        ("专长", lambda o, _n: _joined(o.skills)), ("论文", lambda o, _n: _joined(o.publications)),
        ("邮箱", _attr("email")), ("电话", _attr("phone")), ("领域", _attr("field_code")),
        ("授权状态", _attr("consent")), ("更新时间", _attr("updated_at")),
    ],
}


def export_headers(kind_name: str) -> list[str]:
    """The column headers an export of ``kind_name`` writes, in order."""
    return [header for header, _getter in COLUMNS[kind_of(kind_name).name]]


def _rows(session: Session, kind_name: str) -> Iterator[list[Any]]:
    model: Any = kind_of(kind_name).model
    names = _Names(session, kind_name)
    getters = [getter for _header, getter in COLUMNS[kind_name]]
    # yield_per streams from the cursor in batches instead of loading every record at once.
    stmt = select(model).order_by(model.id).execution_options(yield_per=BATCH)
    for obj in session.scalars(stmt):
        yield [getter(obj, names) for getter in getters]


def export_records(session: Session, actor: Actor, kind: str, path: str | Path) -> int:
    """Write every record of ``kind`` to ``path`` (.csv or .xlsx); returns the row count."""
    authorize(session, actor, "inventory.export")
    kind_name = kind_of(kind).name
    count = write_table(path, export_headers(kind_name), _rows(session, kind_name),
                        sheet_title=kind_name)
    audit.record(session, actor, "inventory.export",
                 detail={"kind": kind_name, "rows": count, "file": Path(path).name})
    session.commit()
    return count
