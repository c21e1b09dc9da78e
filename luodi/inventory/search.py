"""Listing records: filters, Chinese-aware keyword search, visibility and pagination.

Keyword search cuts the query with the same segmenter as the index (jieba, never spaces) and
requires every query token among a record's public index tokens. Ranking by relevance is the
matching engine's job; lists sort newest first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, false, func, or_, select
from sqlalchemy.orm import Session

from luodi.auth.actor import Actor
from luodi.auth.policy import PUBLIC_STATUSES, authorize, is_staff
from luodi.inventory.kinds import Kind, kind_of
from luodi.inventory.models import Achievement, Demand, Enterprise, Expert, Institution
from luodi.matching.text import segment

STAGE_TRL = {"early": (1, 3), "middle": (4, 6), "mature": (7, 9)}


@dataclass(frozen=True)
class RecordQuery:
    """Filters for a list; empty values mean "any"."""

    q: str = ""
    field: str = ""
    trl_min: int | None = None
    trl_max: int | None = None
    stage: str = ""
    region: str = ""  # a prefix: 11 = Beijing, 1101 = Beijing's districts, 110108 = 海淀
    status: str = ""
    institution_id: int | None = None
    enterprise_id: int | None = None
    source: str = ""
    page: int = 1
    per_page: int = 20


@dataclass
class Page:
    """One page of results."""

    items: list[Any]
    total: int
    page: int
    per_page: int
    query: RecordQuery = field(default_factory=RecordQuery)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def list_records(session: Session, actor: Actor, kind_name: str, query: RecordQuery) -> Page:
    """Records of a kind the actor may see, filtered and paginated."""
    kind = kind_of(kind_name)
    authorize(session, actor, f"{kind.name}.list")
    stmt = _visible(select(kind.model), kind, actor)
    stmt = _filtered(stmt, kind, query, actor)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    per_page = max(1, min(query.per_page, 200))
    page = max(1, query.page)
    rows = session.scalars(stmt.order_by(kind.model.id.desc())
                           .limit(per_page).offset((page - 1) * per_page))
    return Page(list(rows), total, page, per_page, query)


def _visible(stmt: Select[Any], kind: Kind, actor: Actor) -> Select[Any]:
    if is_staff(actor):
        return stmt
    if kind.name == "achievements":
        own = Achievement.institution_id.in_(
            select(Institution.id).where(Institution.organisation_id == actor.org_id)
        ) if actor.org_id else false()
        return stmt.where(or_(Achievement.status.in_(PUBLIC_STATUSES), own))
    if kind.name == "demands":
        own = Demand.enterprise_id.in_(
            select(Enterprise.id).where(Enterprise.organisation_id == actor.org_id)
        ) if actor.org_id else false()
        return stmt.where(or_(Demand.status.in_(PUBLIC_STATUSES), own))
    if kind.name == "experts":
        mine = Expert.user_id == actor.user_id if actor.user_id else false()
        return stmt.where(or_(Expert.consent == "granted", mine))
    return stmt


def _like_token(token: str) -> str:
    escaped = token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"% {escaped} %"


def _filtered(stmt: Select[Any], kind: Kind, query: RecordQuery, actor: Actor) -> Select[Any]:
    model: Any = kind.model
    if query.q.strip():
        stmt = stmt.where(_keyword_clause(kind, query.q))
    if query.field and hasattr(model, "field_code"):
        stmt = stmt.where(model.field_code == query.field)
    trl_col = getattr(model, "trl", None) or getattr(model, "trl_wanted", None)
    low, high = STAGE_TRL.get(query.stage, (query.trl_min, query.trl_max))
    if trl_col is not None and low:
        stmt = stmt.where(trl_col >= low)
    if trl_col is not None and high:
        stmt = stmt.where(trl_col <= high)
    if query.region and hasattr(model, "region_code"):
        stmt = stmt.where(model.region_code.startswith(query.region.strip()))
    if query.status and hasattr(model, "status"):
        stmt = stmt.where(model.status == query.status)
    if query.institution_id and hasattr(model, "institution_id"):
        stmt = stmt.where(model.institution_id == query.institution_id)
    if query.enterprise_id and hasattr(model, "enterprise_id"):
        stmt = stmt.where(model.enterprise_id == query.enterprise_id)
        if model is Demand and not is_staff(actor):
            # A confidential demand hides its enterprise: filtering by that enterprise must not
            # find it, except for the enterprise's own members.
            own = Demand.enterprise_id.in_(select(Enterprise.id).where(
                Enterprise.organisation_id == actor.org_id)) if actor.org_id else false()
            stmt = stmt.where(or_(Demand.confidential.is_(False), own))
    if query.source:
        stmt = stmt.where(model.source == query.source)
    return stmt


def _keyword_clause(kind: Kind, text: str) -> Any:
    model: Any = kind.model
    tokens = segment(text)
    if kind.indexed and tokens:
        return and_(*(model.search_text.like(_like_token(t), escape="\\") for t in tokens))
    # Directories are searched by name: a substring is what people type there.
    name = getattr(model, kind.title_attr)
    pattern = f"%{text.strip()}%"
    return or_(name.ilike(pattern), *( [model.name_en.ilike(pattern)]
                                       if hasattr(model, "name_en") else []))
