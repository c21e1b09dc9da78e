"""Pages: deals (落地 · 成交) — the list of the deals one may read, one deal with its parties and
milestones, and the forms that complete it (registration number, milestones) or cancel it.

The deal is recorded from its case's page (:mod:`luodi.web.pages.case_actions`, form in
:mod:`luodi.web.pages.deal_form`). Handlers parse, call one service of
:mod:`luodi.landing.deals` and render; a refusal the person can act on re-renders the deal
page with the message and the form as sent (as the case page does), while 401 and 404 stay
error pages so a deal's existence is never confirmed to outsiders.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import select

from luodi.auth.models import User
from luodi.auth.policy import can
from luodi.docking.models import Case
from luodi.errors import ValidationFailed
from luodi.inventory.taxonomy import active_taxonomy
from luodi.landing import deals
from luodi.web.deps import Ctx, UserCtx
from luodi.web.i18n import translate
from luodi.web.pages.deal_form import deal_texts
from luodi.web.pages.forms import UserFormCtx, act_or_rerender, field
from luodi.web.templating import render

router = APIRouter()

PER_PAGE = 50
UPDATE_FIELDS = ("registration_no", "registered_income_wan", "landed_entity",
                 "landed_credit_code")
MILESTONE_FIELDS = ("kind", "planned_on", "achieved_on", "amount_wan", "note")


# The list ---------------------------------------------------------------------------------------

def _date(raw: str, name: str) -> dt.date | None:
    if not raw.strip():
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationFailed("日期格式应为 YYYY-MM-DD / Dates are written YYYY-MM-DD.",
                               data={"field": name}) from None


def _list_url(filters: dict[str, str], page: int = 1) -> str:
    query = {k: v for k, v in {**filters, "page": str(page) if page > 1 else ""}.items() if v}
    return "/deals" + (f"?{urlencode(query)}" if query else "")


@router.get("/deals")
def deal_list(ctx: UserCtx, date_from: str = Query("", max_length=20),
              date_to: str = Query("", max_length=20), status: str = Query("", max_length=20),
              page: int = Query(1, ge=1, le=100000)) -> Response:
    """The deals the viewer may read: all for staff, their cases' for parties and brokers."""
    filters = {"date_from": date_from, "date_to": date_to,
               "status": status if status in ("signed", "cancelled") else ""}
    error: str | None = None
    items: list[Any] = []
    total = 0
    try:
        items, total = deals.list_deals(
            ctx.session, ctx.actor, date_from=_date(date_from, "date_from"),
            date_to=_date(date_to, "date_to"), status=filters["status"] or None, page=page,
            per_page=PER_PAGE)
    except ValidationFailed as exc:
        error = translate(ctx.locale, exc.message)
    return render(ctx.request, "deals/list.html", status_code=422 if error else 200,
                  items=items, total=total, page=page, pages=max(1, -(-total // PER_PAGE)),
                  filters=filters, list_url=_list_url, error=error,
                  brokers=_broker_names(ctx, {d.broker_id for d in items}),
                  **deal_texts(ctx.locale))


def _broker_names(ctx: Ctx, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = ctx.session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {user_id: name for user_id, name in rows}


# One deal ---------------------------------------------------------------------------------------

def _field_name(code: str | None, locale: str) -> str:
    if not code:
        return ""
    for item in active_taxonomy():
        if item.code == code:
            return item.name_en if locale.startswith("en") else item.name_zh
    return code


def deal_page(ctx: Ctx, deal_id: int, *, status: int = 200,
              posted: dict[str, Any] | None = None, **extra: Any) -> Response:
    """Render a deal (after a refused form: with ``error`` and the form as sent)."""
    deal = deals.get_deal_for(ctx.session, ctx.actor, deal_id)
    case = ctx.session.get(Case, deal.case_id)
    record: Any = case.record if case is not None else None
    may_update = deal.status == "signed" and can(ctx.actor, "deals.update", case)
    return render(ctx.request, "deals/deal.html", status_code=status, deal=deal, case=case,
                  record_title=record.title if record is not None else f"#{deal.case_id}",
                  broker=_broker_names(ctx, {deal.broker_id}).get(deal.broker_id or 0),
                  field_name=_field_name(deal.field_code, ctx.locale), may_update=may_update,
                  posted=posted or {}, **deal_texts(ctx.locale), **extra)


@router.get("/deals/{deal_id}")
def show_deal(deal_id: int, ctx: UserCtx) -> Response:
    return deal_page(ctx, deal_id)


def _act(ctx: Ctx, deal_id: int, anchor: str, call: Callable[[], object]) -> Response:
    """Run one service call; a correctable refusal re-renders the deal page with the message."""
    return act_or_rerender(ctx, call, anchor=anchor, done=f"/deals/{deal_id}",
                           page=lambda **kw: deal_page(ctx, deal_id, **kw))


def _fields(ctx: Ctx, names: tuple[str, ...]) -> dict[str, str | None]:
    return {name: field(ctx, name) or None for name in names}


@router.post("/deals/{deal_id}/update")
def complete_deal(deal_id: int, ctx: UserFormCtx) -> Response:
    """Complete the registration (登记号, 技术交易额) and the landed entity."""
    return _act(ctx, deal_id, "complete", lambda: deals.update_deal(
        ctx.session, ctx.actor, deal_id, _fields(ctx, UPDATE_FIELDS)))


@router.post("/deals/{deal_id}/milestones")
def add_milestone(deal_id: int, ctx: UserFormCtx) -> Response:
    return _act(ctx, deal_id, "milestones", lambda: deals.add_milestone(
        ctx.session, ctx.actor, deal_id, _fields(ctx, MILESTONE_FIELDS)))


@router.post("/deals/{deal_id}/cancel")
def cancel_deal(deal_id: int, ctx: UserFormCtx) -> Response:
    return _act(ctx, deal_id, "cancel", lambda: deals.cancel_deal(
        ctx.session, ctx.actor, deal_id, field(ctx, "reason")))


__all__ = ["deal_page", "router"]
