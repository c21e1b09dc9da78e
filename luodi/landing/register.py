"""The technology-contract register (技术合同登记) as a spreadsheet: one row per deal.

The columns follow the fields of the technology contract registration form (技术合同认定登记):
contract number and name, category, signing date, contract value and registered technical
income (技术交易额), seller and buyer with credit code, region and type, the intermediary, the
transfer mode and equity terms, the landed entity and where it landed, the industry field, the
credited broker and the deal's status. Headers are Chinese, as on the form, whatever the page's
language. Amounts are numbers (万元, two places), dates are dates, and every text cell goes
through :func:`luodi.inventory.exporters.escape_cell` like the inventory exports (a party name
starting ``=`` stays text).

:func:`export_register` is the staff export (``deals.export``, audited); the monthly report
(:mod:`luodi.landing.report`) reuses :func:`add_register_sheet` for the month's deals.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.models import User
from luodi.auth.policy import authorize
from luodi.errors import ValidationFailed
from luodi.inventory.codes import ContractCategory, TransferMode, is_jjj
from luodi.inventory.exporters import escape_cell
from luodi.inventory.taxonomy import active_taxonomy
from luodi.landing import landings
from luodi.landing.models import Deal, DealParty
from luodi.landing.stats import region_label

__all__ = ["AMOUNT_FORMAT", "DATE_FORMAT", "REGISTER_HEADERS", "add_register_sheet",
           "export_register", "register_deals", "register_row", "style_sheet",
           "workbook_bytes"]

# (header, column width in characters) in the order of the registration form.
REGISTER_COLUMNS: tuple[tuple[str, int], ...] = (
    ("合同登记号", 20), ("合同名称", 36), ("技术合同类别", 16), ("签订日期", 12),
    ("合同成交额（万元）", 16), ("技术交易额（万元）", 16),
    ("卖方名称", 28), ("卖方统一社会信用代码", 22), ("卖方所在地区（代码）", 12),
    ("卖方所在地区", 22), ("卖方类型", 10),
    ("买方名称", 28), ("买方统一社会信用代码", 22), ("买方所在地区（代码）", 12),
    ("买方所在地区", 22), ("买方类型", 10),
    ("中介方", 24), ("转化方式", 12), ("作价投资（持股比例/作价金额）", 30),
    ("落地主体", 28), ("落地主体统一社会信用代码", 22), ("落地地区（代码）", 12),
    ("落地地区", 22), ("是否京津冀", 10), ("技术领域", 20), ("技术经理人", 14), ("状态", 10),
)
REGISTER_HEADERS: tuple[str, ...] = tuple(h for h, _w in REGISTER_COLUMNS)
AMOUNT_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"

PARTY_TYPE_ZH = {"university": "高等院校", "institute": "科研机构", "enterprise": "企业",
                 "hospital": "医疗卫生机构", "individual": "个人", "other": "其他"}
STATUS_ZH = {"signed": "已签订", "cancelled": "已解除"}

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F5FA8")
_HEADER_BORDER = Border(bottom=Side(style="thin", color="1D2733"))


# --- rows ------------------------------------------------------------------------------------

def register_deals(session: Session, date_from: dt.date | None, date_to: dt.date | None, *,
                   signed_only: bool = False) -> list[Deal]:
    """Deals signed in ``[date_from, date_to]`` (either open), by signing date then id.

    ``signed_only`` keeps exactly the landings the statistics count (:func:`landings.landed`);
    otherwise cancelled deals (合同解除) are listed too, with their status.
    """
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed("开始日期晚于结束日期 / The period starts after it ends.",
                               data={"field": "date_from"})
    stmt = select(Deal).options(selectinload(Deal.parties))
    if signed_only:
        stmt = stmt.where(landings.landed(date_from, date_to))
    else:
        if date_from is not None:
            stmt = stmt.where(Deal.signed_on >= date_from)
        if date_to is not None:
            stmt = stmt.where(Deal.signed_on <= date_to)
    return list(session.scalars(stmt.order_by(Deal.signed_on, Deal.id)))


def _broker_names(session: Session, deals: Sequence[Deal]) -> dict[int, str]:
    ids = {d.broker_id for d in deals if d.broker_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}


def _party(deal: Deal, role: str) -> DealParty | None:
    return next((p for p in deal.parties if p.role == role), None)


def _party_cells(party: DealParty | None) -> list[Any]:
    if party is None:
        return [None] * 5
    return [party.name, party.credit_code, party.region_code, region_label(party.region_code),
            PARTY_TYPE_ZH.get(party.party_type, party.party_type)]


def _label(enum: type[ContractCategory] | type[TransferMode], code: str | None) -> str | None:
    if not code:
        return None
    try:
        return enum.parse(code).zh
    except ValidationFailed:
        return code


def _field(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return active_taxonomy().get(code).name_zh
    except ValidationFailed:
        return code


def _equity(terms: dict[str, Any] | None) -> str | None:
    """作价投资 terms as the form writes them: 持股比例 12.5%／作价金额 300.00 万元（持股方 …）."""
    if not terms:
        return None
    parts = []
    if terms.get("share_pct") is not None:
        parts.append(f"持股比例 {Decimal(str(terms['share_pct'])).normalize():f}%")
    if terms.get("valuation_wan") is not None:
        parts.append(f"作价金额 {Decimal(str(terms['valuation_wan'])):.2f} 万元")
    text = "／".join(parts)
    if terms.get("holder"):
        text += f"（持股方：{terms['holder']}）"
    return text or None


def _jjj(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return "是" if is_jjj(code) else "否"
    except ValidationFailed:
        return None


def register_row(deal: Deal, brokers: dict[int, str]) -> list[Any]:
    """The register's cells for one deal, in :data:`REGISTER_HEADERS` order."""
    intermediaries = [p.name for p in deal.parties if p.role == "intermediary"]
    return [
        deal.registration_no, deal.title, _label(ContractCategory, deal.category),
        deal.signed_on, deal.amount_wan, deal.registered_income_wan,
        *_party_cells(_party(deal, "seller")), *_party_cells(_party(deal, "buyer")),
        "；".join(intermediaries) or None, _label(TransferMode, deal.transfer_mode),
        _equity(deal.equity), deal.landed_entity, deal.landed_credit_code,
        deal.landing_region_code, region_label(deal.landing_region_code),
        _jjj(deal.landing_region_code), _field(deal.field_code),
        brokers.get(deal.broker_id) if deal.broker_id is not None else None,
        STATUS_ZH.get(deal.status, deal.status),
    ]


# --- sheets ----------------------------------------------------------------------------------

def cell_value(value: Any) -> Any:
    """A value for a cell: numbers and dates as themselves, text cleaned and escaped."""
    if value is None or isinstance(value, int | float | Decimal | dt.date):
        return value
    # XML cannot hold most control characters; removed before escaping (as exporters does).
    return escape_cell(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def style_sheet(sheet: Worksheet, widths: Sequence[int]) -> None:
    """Header row styled and frozen, column widths set, an autofilter over the table."""
    for cell in sheet[1]:
        cell.font, cell.fill, cell.border = _HEADER_FONT, _HEADER_FILL, _HEADER_BORDER
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    if sheet.max_row > 1:
        sheet.auto_filter.ref = sheet.dimensions


def append_rows(sheet: Worksheet, rows: Iterable[Sequence[Any]], *,
                amounts: Iterable[int] = (), dates: Iterable[int] = ()) -> None:
    """Append rows, setting number formats on the amount and date columns (1-based)."""
    amount_cols, date_cols = set(amounts), set(dates)
    for row in rows:
        sheet.append([cell_value(v) for v in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value in ERROR_CODES:
                cell.data_type = "s"  # "#N/A" typed into a name stays text, not an error
            elif cell.column in amount_cols and cell.value is not None:
                cell.number_format = AMOUNT_FORMAT
            elif cell.column in date_cols and cell.value is not None:
                cell.number_format = DATE_FORMAT


def add_register_sheet(workbook: Workbook, session: Session, deals: Sequence[Deal], *,
                       title: str = "技术合同登记") -> Worksheet:
    """A sheet with the register header and one row per deal."""
    sheet = workbook.create_sheet(title=title)
    sheet.append(list(REGISTER_HEADERS))
    brokers = _broker_names(session, deals)
    append_rows(sheet, (register_row(d, brokers) for d in deals), amounts=(5, 6), dates=(4,))
    style_sheet(sheet, [w for _h, w in REGISTER_COLUMNS])
    return sheet


def workbook_bytes(workbook: Workbook) -> bytes:
    """The workbook as XLSX bytes."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_register(session: Session, actor: Actor, *, date_from: dt.date | None = None,
                    date_to: dt.date | None = None) -> tuple[bytes, int]:
    """The register of the deals signed in the period as XLSX bytes, and the row count.

    Staff only (``deals.export``); the export is audited with the period and the row count.
    Cancelled deals are listed with their status, so the register matches the ledger.
    """
    authorize(session, actor, "deals.export")
    deals = register_deals(session, date_from, date_to)
    workbook = Workbook()
    workbook.remove(workbook.active)
    add_register_sheet(workbook, session, deals)
    data = workbook_bytes(workbook)
    audit.record(session, actor, "deals.export_register", detail={
        "rows": len(deals), "from": date_from.isoformat() if date_from else None,
        "to": date_to.isoformat() if date_to else None})
    session.commit()
    return data, len(deals)
