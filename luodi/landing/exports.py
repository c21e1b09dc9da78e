"""Export of the deals (成交台账): one row per deal, as CSV (UTF-8 with BOM) or XLSX.

The file holds everything the landing statistics read from a deal, so the landings, the
京津冀 shares and the Beijing → 天津/河北 flow can be recomputed from it alone
(tests/landing/test_reconcile.py does). Columns (:data:`DEAL_HEADERS`):

``deal_id``, ``case_id``; ``amount`` — contract value in 万元 (10,000 CNY); ``landing_region_code``
(GB/T 2260) and ``landing_region`` (its name, province first); ``category`` (技术合同 category
code); ``signed_on``; ``registration_no`` (16-digit 登记 number, text); ``registered_income`` —
registered technical income (技术交易额) in 万元; ``status`` (signed | cancelled — cancelled
deals are listed but never counted); ``field_code``; ``institution_id`` / ``institution``;
``broker_id`` / ``broker`` (display name); ``seller_region_code``; ``transfer_mode``;
``enterprise_id`` / ``enterprise``; ``landed_entity``, ``landed_credit_code``; ``title``.

The period filters ``signed_on`` (both ends inclusive), like the landings; every status is kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.models import User
from luodi.auth.policy import authorize
from luodi.errors import ValidationFailed
from luodi.inventory.exporters import write_table
from luodi.inventory.models import Enterprise, Institution
from luodi.landing.models import Deal
from luodi.landing.stats import region_label

__all__ = ["DEAL_HEADERS", "export_deals"]

DEAL_HEADERS = ["deal_id", "case_id", "amount", "landing_region_code", "landing_region",
                "category", "signed_on", "registration_no", "registered_income", "status",
                "field_code", "institution_id", "institution", "broker_id", "broker",
                "seller_region_code", "transfer_mode", "enterprise_id", "enterprise",
                "landed_entity", "landed_credit_code", "title"]
BATCH = 1000


def _rows(session: Session, date_from: dt.date | None,
          date_to: dt.date | None) -> Iterator[dict[str, Any]]:
    broker = aliased(User)
    stmt = (select(Deal, Institution.name, broker.display_name, Enterprise.name)
            .outerjoin(Institution, Institution.id == Deal.institution_id)
            .outerjoin(broker, broker.id == Deal.broker_id)
            .outerjoin(Enterprise, Enterprise.id == Deal.enterprise_id)
            .order_by(Deal.signed_on, Deal.id)
            .execution_options(yield_per=BATCH))
    if date_from is not None:
        stmt = stmt.where(Deal.signed_on >= date_from)
    if date_to is not None:
        stmt = stmt.where(Deal.signed_on <= date_to)
    labels: dict[str, str] = {}  # a few hundred districts for thousands of deals
    for deal, institution, broker_name, enterprise in session.execute(stmt):
        code = deal.landing_region_code
        if code not in labels:
            labels[code] = region_label(code)
        yield {"deal_id": deal.id, "case_id": deal.case_id, "amount": deal.amount_wan,
               "landing_region_code": code, "landing_region": labels[code],
               "category": deal.category, "signed_on": deal.signed_on,
               "registration_no": deal.registration_no,
               "registered_income": deal.registered_income_wan, "status": deal.status,
               "field_code": deal.field_code, "institution_id": deal.institution_id,
               "institution": institution, "broker_id": deal.broker_id, "broker": broker_name,
               "seller_region_code": deal.seller_region_code,
               "transfer_mode": deal.transfer_mode, "enterprise_id": deal.enterprise_id,
               "enterprise": enterprise, "landed_entity": deal.landed_entity,
               "landed_credit_code": deal.landed_credit_code, "title": deal.title}


def export_deals(session: Session, actor: Actor, path: str | Path, *,
                 date_from: dt.date | None = None, date_to: dt.date | None = None) -> int:
    """Write the deals signed in the period to ``path`` (.csv or .xlsx); return the row count.

    Staff only (``deals.export``); the export is audited with its period and row count.
    """
    authorize(session, actor, "deals.export")
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed(f"开始日期晚于结束日期 / The period starts ({date_from}) after "
                               f"it ends ({date_to}).", data={"field": "date_from"})
    count = write_table(path, DEAL_HEADERS, _rows(session, date_from, date_to),
                        sheet_title="deals")
    audit.record(session, actor, "deals.export", detail={
        "rows": count, "file": Path(path).name,
        "from": date_from.isoformat() if date_from else None,
        "to": date_to.isoformat() if date_to else None})
    session.commit()
    return count
