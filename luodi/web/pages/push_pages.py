"""Pages: push cycles (推送批次) for operators, the enterprise inbox (收件箱), an institution's
push reach (推送反馈), and one-click unsubscribe (退订).

Handlers parse, call one service of :mod:`luodi.push` and render; the services authorise. Pages
show the public teaser of an achievement only (title, summary, institution): never its
confidential description or contacts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import select

from luodi.errors import DomainError, NotFound, ValidationFailed
from luodi.inventory.models import Institution
from luodi.push import cycles, inbox, reports, unsubscribe
from luodi.push.consent import opt_out
from luodi.push.ledger import FEEDBACK, NOT_RELEVANT_REASONS
from luodi.web.deps import Ctx, CtxDep, UserCtx, client_addr
from luodi.web.i18n import translate
from luodi.web.labels import (
    DELIVERY_LABELS,
    FEEDBACK_LABELS,
    FIGURE_LABELS,
    NOT_RELEVANT_LABELS,
)
from luodi.web.pages.forms import UserFormCtx, field, redirect, safe_next
from luodi.web.pages.matches import width
from luodi.web.templating import render

router = APIRouter()

LABELS = {**FEEDBACK_LABELS, **NOT_RELEVANT_LABELS, **DELIVERY_LABELS, **FIGURE_LABELS}
FIGURES = ("pushes", "recipients", "coverage", "exposure_gini", "mean_score")
PLANNED_ROWS_SHOWN = 200  # a dry run lists this many planned pairs; the figures count them all
INBOX_FILTERS = ("unread", *FEEDBACK)


@dataclass(frozen=True)
class Figure:
    """One figure of a plan next to the greedy baseline's, with bar widths on a shared scale."""

    name: str
    flow: float | None
    greedy: float | None
    flow_width: int
    greedy_width: int


def compare(figures: dict[str, Any]) -> list[Figure]:
    """The plan's figures against greedy's (a cycle's ``figures`` or a dry run's ``as_json()``)."""
    greedy = figures.get("greedy") or {}
    rows = []
    for name in FIGURES:
        flow, base = figures.get(name), greedy.get(name)
        scale = max(abs(flow or 0), abs(base or 0))
        rows.append(Figure(name, flow, base, width(flow or 0, scale), width(base or 0, scale)))
    return rows


def _error(ctx: Ctx, exc: DomainError) -> str:
    return translate(ctx.locale, exc.message)


# Operators: cycles ------------------------------------------------------------------------------

def _cycles_page(ctx: Ctx, *, status: int = 200, defaults: dict[str, Any] | None = None,
                 **extra: Any) -> Response:
    return render(ctx.request, "push/cycles.html", status_code=status, labels=LABELS,
                  cycles=reports.list_cycles(ctx.session, ctx.actor),
                  defaults=defaults or _plan_defaults(ctx), **extra)


def _plan_defaults(ctx: Ctx) -> dict[str, Any]:
    s = ctx.settings
    return {"push_cap_per_recipient": s.push_cap_per_recipient,
            "push_min_recipients": s.push_min_recipients, "push_min_score": s.push_min_score}


_BOUNDS = {"push_cap_per_recipient": (int, 1, 50), "push_min_recipients": (int, 0, 50),
           "push_min_score": (float, -100.0, 100.0)}


def _plan_settings(ctx: Ctx) -> tuple[Any, dict[str, Any]]:
    """The settings for this run: the configured ones with the form's k, d and least score."""
    values = _plan_defaults(ctx)
    for name, (cast, low, high) in _BOUNDS.items():
        raw = field(ctx, name)
        if not raw:
            continue
        try:
            value = cast(raw)
        except ValueError:
            raise ValidationFailed("Enter numbers for the plan settings.") from None
        if not low <= value <= high or (cast is float and not math.isfinite(value)):
            raise ValidationFailed("A plan setting is out of range.")
        values[name] = value
    return ctx.settings.model_copy(update=values), values


@router.get("/push/cycles")
def cycle_list(ctx: UserCtx) -> Response:
    return _cycles_page(ctx)


@router.post("/push/cycles")
def run_cycle(ctx: UserFormCtx) -> Response:
    """``action=dry_run`` shows the plan without writing; ``action=run`` runs the cycle."""
    dry_run = field(ctx, "action") != "run"
    try:
        settings, values = _plan_settings(ctx)
        result = cycles.run_cycle(ctx.session, ctx.actor, settings, dry_run=dry_run)
    except DomainError as exc:
        if exc.status in (401, 403):
            raise
        ctx.session.rollback()
        return _cycles_page(ctx, status=exc.status, error=_error(ctx, exc))
    figures = result.as_json()
    if not dry_run and figures.get("cycle") is not None:
        return redirect(f"/push/cycles/{figures['cycle']}")
    rows = list(result.rows)
    return _cycles_page(ctx, defaults=values, plan=figures, compare=compare(figures),
                        planned=rows[:PLANNED_ROWS_SHOWN], planned_total=len(rows),
                        ran=not dry_run)


@router.get("/push/cycles/{cycle_id}")
def cycle_page(cycle_id: int, ctx: UserCtx) -> Response:
    detail = reports.cycle_detail(ctx.session, ctx.actor, cycle_id)
    top = max((p.score for r in detail.recipients for p in r.pushes), default=0.0)
    return render(ctx.request, "push/cycle.html", labels=LABELS, detail=detail,
                  cycle=detail.cycle, compare=compare(detail.cycle.figures or {}),
                  top_score=top, width=width)


# Enterprises: the inbox -------------------------------------------------------------------------

def _inbox_url(show: str, page: int = 1) -> str:
    query = {k: v for k, v in (("show", show), ("page", page if page > 1 else "")) if v}
    return "/inbox" + (f"?{urlencode(query)}" if query else "")


def _inbox_page(ctx: Ctx, *, show: str = "", page: int = 1, status: int = 200,
                **extra: Any) -> Response:
    show = show if show in INBOX_FILTERS else ""
    result = inbox.inbox(ctx.session, ctx.actor, page=page, per_page=20,
                         unread_only=show == "unread",
                         feedback=show if show in FEEDBACK else None)
    top = max((p.score for p in result.items), default=0.0)
    return render(ctx.request, "push/inbox.html", status_code=status, labels=LABELS,
                  result=result, pages=max(1, math.ceil(result.total / result.per_page)),
                  show=show, here=_inbox_url(show, page), inbox_url=_inbox_url, top_score=top,
                  width=width, reasons=NOT_RELEVANT_REASONS, filters=INBOX_FILTERS,
                  unread=result.unread, **extra)


@router.get("/inbox")
def inbox_page(ctx: UserCtx, show: str = Query("", max_length=20),
               page: int = Query(1, ge=1, le=100000)) -> Response:
    return _inbox_page(ctx, show=show, page=page)


@router.get("/inbox/{push_id}")
def push_page(push_id: int, ctx: UserCtx) -> Response:
    push = inbox.open_push(ctx.session, ctx.actor, push_id)
    return render(ctx.request, "push/push.html", labels=LABELS, push=push,
                  reasons=NOT_RELEVANT_REASONS, here=f"/inbox/{push_id}", width=width)


def _back(ctx: Ctx, default: str) -> str:
    return safe_next(field(ctx, "next"), default)


@router.post("/inbox/{push_id}/feedback")
def feedback(push_id: int, ctx: UserFormCtx) -> Response:
    back = _back(ctx, "/inbox")
    try:
        inbox.give_feedback(ctx.session, ctx.actor, push_id, feedback=field(ctx, "feedback"),
                            reason=field(ctx, "reason") or None,
                            note=field(ctx, "note") or None)
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        ctx.session.rollback()
        return _inbox_page(ctx, status=exc.status, error=_error(ctx, exc), error_push=push_id)
    return redirect(f"{back}#push-{push_id}")


@router.post("/inbox/opt-out")
def institution_opt_out(ctx: UserFormCtx) -> Response:
    """不再推送此机构: no more pushes of one institution's achievements to this enterprise."""
    enterprise_id, institution_id = field(ctx, "enterprise_id"), field(ctx, "institution_id")
    if not (enterprise_id.isdigit() and institution_id.isdigit()):
        raise ValidationFailed("Choose an institution to stop.")
    opt_out(ctx.session, ctx.actor, int(enterprise_id), institution_id=int(institution_id))
    return redirect(_back(ctx, "/inbox"))


# Institutions: who received their achievements and how they reacted -----------------------------

@router.get("/push-reach")
def my_reach(ctx: UserCtx) -> Response:
    """The nav link for institution members: their institution's push reach."""
    institution_id = None
    if ctx.actor.org_id is not None:
        institution_id = ctx.session.scalars(
            select(Institution.id).where(Institution.organisation_id == ctx.actor.org_id)
            .order_by(Institution.id)).first()
    if institution_id is None:
        raise NotFound("Your organisation has no institution record yet.")
    return redirect(f"/institutions/{institution_id}/push-reach")


@router.get("/institutions/{institution_id}/push-reach")
def reach_page(institution_id: int, ctx: UserCtx) -> Response:
    view = reports.institution_view(ctx.session, ctx.actor, institution_id)
    top = max(view.why_passed.values(), default=0)
    return render(ctx.request, "push/reach.html", labels=LABELS, view=view, top=top,
                  width=width, reasons=NOT_RELEVANT_REASONS)


# Anyone holding the link: one-click unsubscribe (RFC 8058) --------------------------------------

def _unsubscribe_page(ctx: Ctx, token: str, **extra: Any) -> Response:
    return render(ctx.request, "push/unsubscribe.html", token=token, **extra)


def _token_error(ctx: Ctx, token: str, exc: DomainError) -> Response:
    status = 404 if exc.status == 404 else 400
    return _unsubscribe_page(ctx, token, status_code=status, error=_error(ctx, exc))


@router.get("/unsubscribe/{token}")
def unsubscribe_confirm(token: str, ctx: CtxDep) -> Response:
    """A page with one button; a GET never unsubscribes (link scanners follow links)."""
    try:
        unsubscribe.read_token(ctx.settings, token)
    except DomainError as exc:
        return _token_error(ctx, token, exc)
    return _unsubscribe_page(ctx, token)


@router.post("/unsubscribe/{token}")
def unsubscribe_now(token: str, ctx: CtxDep) -> Response:
    """One click, from a mail client or the page: no login and no CSRF token by design — the
    signed token is the authority, and it can only turn e-mail off (CtxDep reads no form, so
    no CSRF check applies; ``List-Unsubscribe=One-Click`` bodies are simply ignored)."""
    try:
        user = unsubscribe.unsubscribe(ctx.session, ctx.settings, token,
                                       client_addr=client_addr(ctx.request, ctx.settings))
    except DomainError as exc:
        ctx.session.rollback()
        return _token_error(ctx, token, exc)
    return _unsubscribe_page(ctx, token, done=True, signed_in=ctx.user is not None
                             and ctx.user.id == user.id)
