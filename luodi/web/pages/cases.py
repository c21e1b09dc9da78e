"""Pages: docking cases (对接案例) — my cases (all of them for operators), one case with its
disclosed record, contacts, trail, messages, meetings and dossier, and opening a case from a
record page or an inbox push.

Handlers parse, call one service of :mod:`luodi.docking` and render; the services authorise
and decide what each part of a case may see (:mod:`luodi.docking.disclosure`). The POST
actions on a case live in :mod:`luodi.web.pages.case_actions`. Times are shown, and meeting
times entered, in Beijing time (UTC+8, no daylight saving).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import Response
from jinja2 import pass_context
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from luodi.auth.models import User
from luodi.db import utcnow
from luodi.docking import cases, disclosure, reminders, workflow
from luodi.docking.models import Case, CaseReminder
from luodi.errors import DomainError, ValidationFailed
from luodi.web.deps import Ctx, UserCtx
from luodi.web.i18n import translate
from luodi.web.labels import CASE_ROLE_LABELS, CASE_STATE_LABELS
from luodi.web.pages import case_actions
from luodi.web.pages.case_page import case_page, local_time
from luodi.web.pages.forms import UserFormCtx, field, redirect, safe_next
from luodi.web.templating import TEMPLATES, render

log = logging.getLogger(__name__)
router = APIRouter()

REMINDER_ROLES = frozenset({"broker", "operator", "admin"})  # they get stale-case reminders
PARTIES = frozenset({"enterprise_member", "institution_member"})
PER_PAGE = 50


def _error(ctx: Ctx, exc: DomainError) -> str:
    return translate(ctx.locale, exc.message)


# The list ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CaseRow:
    """One line of the case list, with names resolved and idleness computed."""

    case: Case
    title: str
    seeker_name: str | None
    owner_name: str | None
    side: str | None  # the viewer's side (seeker / owner), if any
    broker: str | None
    idle_days: int
    stale: bool


def _rows(ctx: Ctx, items: list[Case]) -> list[CaseRow]:
    names = disclosure.party_names(ctx.session, ctx.actor, items)
    broker_ids = {c.broker_id for c in items if c.broker_id is not None}
    brokers: dict[int, str] = {}
    if broker_ids:
        brokers = {i: name for i, name in ctx.session.execute(
            select(User.id, User.display_name).where(User.id.in_(broker_ids)))}
    now, limit = utcnow(), ctx.settings.case_stale_days
    rows = []
    for case in items:
        record = case.record
        org = ctx.actor.org_id
        side = None if org is None else workflow.SEEKER if case.seeker_org_id == org else \
            workflow.OWNER if case.owner_org_id == org else None
        idle = max(0, (now - case.last_event_at).days)
        seeker_name, owner_name = names.get(case.id, (None, None))
        rows.append(CaseRow(case, record.title if record is not None else f"#{case.id}",
                            seeker_name, owner_name, side,
                            brokers.get(case.broker_id or 0), idle,
                            case.state in workflow.OPEN_STATES and idle >= limit))
    return rows


def _list_url(state: str, page: int = 1) -> str:
    query = {k: v for k, v in (("state", state), ("page", page if page > 1 else "")) if v}
    return "/cases" + (f"?{urlencode(query)}" if query else "")


def _list_page(ctx: Ctx, *, state: str = "", page: int = 1, status: int = 200,
               **extra: Any) -> Response:
    state = state if state in workflow.STATES else ""
    items, total = cases.list_cases(ctx.session, ctx.actor, state=state or None, page=page,
                                    per_page=PER_PAGE)
    due = reminders.list_reminders(ctx.session, ctx.actor, unread_only=True) \
        if ctx.actor.role in REMINDER_ROLES else []
    return render(ctx.request, "cases/list.html", status_code=status, rows=_rows(ctx, items),
                  total=total, page=page, pages=max(1, -(-total // PER_PAGE)), state=state,
                  states=workflow.STATES, list_url=_list_url, reminders=due,
                  state_labels=CASE_STATE_LABELS, role_labels=CASE_ROLE_LABELS,
                  stale_days=ctx.settings.case_stale_days, party_view=ctx.actor.role in PARTIES,
                  **extra)


@router.get("/cases")
def case_list(ctx: UserCtx, state: str = Query("", max_length=30),
              page: int = Query(1, ge=1, le=100000)) -> Response:
    return _list_page(ctx, state=state, page=page)


def _optional_id(ctx: Ctx, name: str) -> int | None:
    raw = field(ctx, name)
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationFailed("请选择一项 / Choose an option.", data={"field": name})
    return int(raw)


@router.post("/cases")
def open_case(ctx: UserFormCtx) -> Response:
    """我感兴趣 / 我能解决: open a case on a record (or find the open one) and go to it."""
    try:
        record_id = _optional_id(ctx, "record_id")
        if record_id is None:
            raise ValidationFailed("请选择一条记录 / Choose a record.",
                                   data={"field": "record_id"})
        case = cases.open_case(ctx.session, ctx.actor, kind=field(ctx, "kind"),
                               record_id=record_id, push_id=_optional_id(ctx, "push_id"),
                               note=field(ctx, "note") or None)
    except DomainError as exc:
        if exc.status == 401:
            raise
        ctx.session.rollback()
        back = safe_next(field(ctx, "next"), "")
        return _list_page(ctx, status=exc.status, error=_error(ctx, exc), back=back)
    return redirect(f"/cases/{case.id}")


# One case (its POST actions are in case_actions) ------------------------------------------------

@router.get("/cases/{case_id}")
def case_detail(case_id: int, ctx: UserCtx) -> Response:
    return case_page(ctx, case_id)


# Template helpers: the nav badge and the inbox's link from a push to its case --------------------

def _ctx_of(context: Any) -> Ctx | None:
    request = context.get("request")
    return getattr(getattr(request, "state", None), "ctx", None)


@pass_context
def case_reminders_unread(context: Any) -> int:
    """Unread stale-case reminders of a broker or operator (one COUNT); 0 for everyone else.

    Never fails a page: on an error page the request's session may already be unusable.
    """
    ctx = _ctx_of(context)
    if ctx is None or ctx.user is None or ctx.actor.role not in REMINDER_ROLES or \
            context.get("error_page"):
        return 0
    try:
        return int(ctx.session.scalar(
            select(func.count()).select_from(CaseReminder).where(
                CaseReminder.user_id == ctx.actor.user_id, CaseReminder.read_at.is_(None)))
            or 0)
    except SQLAlchemyError as exc:
        log.warning("case reminder badge unavailable: %s", exc)
        return 0


@pass_context
def push_cases(context: Any, pushes: list[Any]) -> dict[int, int]:
    """Push id → the latest case its recipient opened on that achievement (one query).

    A case counts whether it was opened from the push or from the record page.
    """
    ctx = _ctx_of(context)
    if ctx is None or ctx.user is None or not pushes:
        return {}
    wanted = {(p.achievement_id, p.organisation_id): p.id for p in pushes}
    try:
        found = ctx.session.execute(
            select(Case.id, Case.achievement_id, Case.seeker_org_id)
            .where(Case.kind == "achievements",
                   Case.achievement_id.in_({a for a, _ in wanted}),
                   Case.seeker_org_id.in_({o for _, o in wanted}))
            .order_by(Case.id)).all()
    except SQLAlchemyError as exc:
        log.warning("push → case links unavailable: %s", exc)
        return {}
    return {wanted[(a, o)]: case_id for case_id, a, o in found if (a, o) in wanted}


TEMPLATES.env.globals.update(case_reminders_unread=case_reminders_unread,
                             push_cases=push_cases)
TEMPLATES.env.filters["local_time"] = local_time
router.include_router(case_actions.router)
