"""Figures from the deals (落地): landings by dimension, the 京津冀 share and the Beijing flow.

Each function is one SQL query over ``deals`` whose exact definition is its docstring. A
*landing* is a deal with ``status = 'signed'`` whose ``signed_on`` lies in the period (both
ends inclusive, either may be open); cancelled deals never count. Values are Σ ``amount_wan``
(万元). The region tests use the code's first two digits in SQL (``substr``), the same rule as
:func:`luodi.inventory.codes.is_jjj`, so retired county codes still count by province.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from luodi.auth.models import User
from luodi.inventory.codes import JJJ_PREFIXES
from luodi.inventory.models import Institution
from luodi.landing.models import Deal

__all__ = ["DIMENSIONS", "Totals", "group_rows", "landed", "totals"]

TIANJIN_HEBEI = ("12", "13")
BEIJING = "11"


@dataclass(frozen=True)
class Totals:
    """The landing totals, the 京津冀 part and the Beijing-seller flow, from one query."""

    count: int
    value: Decimal
    jjj_count: int
    jjj_value: Decimal
    beijing_count: int
    beijing_value: Decimal
    beijing_tj_hb_count: int
    beijing_tj_hb_value: Decimal


def landed(date_from: dt.date | None, date_to: dt.date | None) -> ColumnElement[bool]:
    """The landing condition: signed, and ``signed_on`` within [date_from, date_to]."""
    parts = [Deal.status == "signed"]
    if date_from is not None:
        parts.append(Deal.signed_on >= date_from)
    if date_to is not None:
        parts.append(Deal.signed_on <= date_to)
    return and_(*parts)


def _province(column: Any) -> Any:
    return func.substr(column, 1, 2)


def _sum_if(condition: ColumnElement[bool], value: Any) -> Any:
    # SUM over a CASE: one pass counts every subset; COALESCE turns "no rows" into 0.
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def _dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


def totals(session: Session, date_from: dt.date | None, date_to: dt.date | None) -> Totals:
    """Counts and values of the landings in the period, in one query over ``deals``.

    * ``count`` / ``value``: landings, Σ ``amount_wan``;
    * ``jjj_*``: those whose ``landing_region_code`` starts 11, 12 or 13 (北京 / 天津 / 河北);
    * ``beijing_*``: those whose ``seller_region_code`` starts 11 (the seller — the
      achievement's owner — is in Beijing); deals without a seller region are not among them;
    * ``beijing_tj_hb_*``: of those, the ones whose ``landing_region_code`` starts 12 or 13.

    One query, so every share's numerator and denominator come from the same rows.
    """
    jjj = _province(Deal.landing_region_code).in_(JJJ_PREFIXES)
    beijing = _province(Deal.seller_region_code) == BEIJING
    to_tj_hb = and_(beijing, _province(Deal.landing_region_code).in_(TIANJIN_HEBEI))
    one, amount = literal(1), Deal.amount_wan
    row = session.execute(
        select(func.count(), func.coalesce(func.sum(amount), 0),
               _sum_if(jjj, one), _sum_if(jjj, amount),
               _sum_if(beijing, one), _sum_if(beijing, amount),
               _sum_if(to_tj_hb, one), _sum_if(to_tj_hb, amount))
        .where(landed(date_from, date_to))).one()
    return Totals(int(row[0]), _dec(row[1]), int(row[2]), _dec(row[3]), int(row[4]),
                  _dec(row[5]), int(row[6]), _dec(row[7]))


# Dimension → (grouping key, label column or None, outer join target and condition or None).
# Labels come from the joined table (institution name, broker display name) or, for region
# codes, categories and fields, from vocabularies the caller applies.
DIMENSIONS: dict[str, tuple[Any, Any, Any]] = {
    "field": (Deal.field_code, None, None),
    "institution": (Deal.institution_id, Institution.name,
                    (Institution, Institution.id == Deal.institution_id)),
    "broker": (Deal.broker_id, User.display_name, (User, User.id == Deal.broker_id)),
    "district": (Deal.landing_region_code, None, None),
    "category": (Deal.category, None, None),
}


def group_rows(session: Session, dimension: str, date_from: dt.date | None,
               date_to: dt.date | None) -> list[tuple[Any, str | None, int, Decimal]]:
    """Landings in the period grouped by one dimension: (key, label, count, Σ amount_wan).

    Query: ``SELECT key[, label], COUNT(*), SUM(amount_wan) FROM deals [LEFT JOIN …] WHERE
    <landed> GROUP BY key[, label]`` with key = ``field_code`` (field), ``institution_id``
    (institution, labelled with ``institutions.name``), ``broker_id`` (broker, labelled with the
    user's display name), ``landing_region_code`` (district) or ``category``. Deals with no
    value for the key form one group with key None, so the groups always add up to the total.
    Ordered by value, then count (both descending), then key.
    """
    key, label, join = DIMENSIONS[dimension]
    value = func.coalesce(func.sum(Deal.amount_wan), 0)
    columns = [key, label if label is not None else literal(None), func.count(), value]
    stmt = select(*columns).select_from(Deal)
    if join is not None:
        stmt = stmt.outerjoin(*join)
    group = [key] if label is None else [key, label]
    stmt = stmt.where(landed(date_from, date_to)).group_by(*group)
    rows = [(k, lab, int(n), _dec(v)) for k, lab, n, v in session.execute(stmt)]
    # Sorted here rather than in SQL: NULL keys sort differently on SQLite and PostgreSQL.
    rows.sort(key=lambda r: (-r[3], -r[2], r[0] is None, str(r[0])))
    return rows
