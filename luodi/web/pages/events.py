"""Pages: docking events (对接活动) — the list, one event (register, request and answer 1:1
meetings; organisers run the scheduler and see the grid), and printable agendas (日程).

Handlers parse the form, call one service of :mod:`luodi.docking.events` and render; the
services authorise. Agendas print on A4 through the print rules in ``luodi.css``; the print
button is wired in ``luodi.js`` (no inline script under the CSP).
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from luodi.auth.policy import can, is_staff
from luodi.docking import events
from luodi.errors import DomainError, ValidationFailed
from luodi.web.deps import Ctx, UserCtx
from luodi.web.i18n import translate
from luodi.web.labels import N_
from luodi.web.pages.forms import UserFormCtx, field, redirect
from luodi.web.templating import render

router = APIRouter()

LABELS = {
    "matchmaking": N_("Matchmaking (1:1 meetings)"), "roadshow": N_("Roadshow"),
    "open": N_("Open for registration"), "scheduled": N_("Scheduled"), "closed": N_("Closed"),
    "requested": N_("Awaiting answer"), "accepted": N_("Accepted"), "declined": N_("Declined"),
    "OPTIMAL": N_("optimal"), "FEASIBLE": N_("feasible (time limit reached)"),
    "GREEDY": N_("greedy"),
}
FIGURES = (("met", N_("Meetings scheduled")), ("weight_met", N_("Weight met")),
           ("seconds", N_("Solve time (s)")))


def _int(ctx: Ctx, name: str) -> int:
    raw = field(ctx, name)
    if not raw.lstrip("-").isdigit():
        raise ValidationFailed("请选择一项 / Choose an option.", data={"field": name})
    return int(raw)


def _keep_domain_errors(exc: DomainError) -> bool:
    """Errors a person can correct on the same page (the rest become error pages)."""
    return exc.status not in (401, 403, 404)


# The list ---------------------------------------------------------------------------------------

def _list_page(ctx: Ctx, *, status: int = 200, **extra: Any) -> Response:
    return render(ctx.request, "events/list.html", status_code=status, labels=LABELS,
                  events=events.list_events(ctx.session, ctx.actor), kinds=events.KINDS,
                  may_manage=can(ctx.actor, "events.manage"), **extra)


@router.get("/events")
def event_list(ctx: UserCtx) -> Response:
    return _list_page(ctx)


def _event_form(ctx: Ctx) -> dict[str, Any]:
    try:
        held_on = dt.date.fromisoformat(field(ctx, "held_on"))
    except ValueError:
        raise ValidationFailed("请填写日期 / Give the date.", data={"field": "held_on"}) from None
    return {"title": field(ctx, "title"), "kind": field(ctx, "kind"), "held_on": held_on,
            "venue": field(ctx, "venue") or None,
            "slots": field(ctx, "slots").replace("，", ",").replace(" ", ",").split(","),
            "slot_minutes": _int(ctx, "slot_minutes"), "tables": _int(ctx, "tables"),
            "description": field(ctx, "description") or None}


@router.post("/events")
def create_event(ctx: UserFormCtx) -> Response:
    try:
        event = events.create_event(ctx.session, ctx.actor, **_event_form(ctx))
    except DomainError as exc:
        if not _keep_domain_errors(exc):
            raise
        ctx.session.rollback()
        return _list_page(ctx, status=exc.status, error=translate(ctx.locale, exc.message),
                          form=dict(ctx.extra["form"]))
    return redirect(f"/events/{event.id}")


# One event --------------------------------------------------------------------------------------

def _requestable(view: events.Participation) -> list[Any]:
    """Participants the viewer's organisation has no request with yet, either way."""
    if view.mine is None:
        return []
    taken = {r.target_id for r in view.sent} | {r.requester_id for r in view.received}
    return [p for p in view.participants if p.id != view.mine.id and p.id not in taken]


def _event_page(ctx: Ctx, event_id: int, *, status: int = 200, **extra: Any) -> Response:
    view = events.participation(ctx.session, ctx.actor, event_id)
    staff = is_staff(ctx.actor)
    may_register = (view.mine is None and view.event.status == "open" and not staff
                    and ctx.actor.org_id is not None
                    and can(ctx.actor, "events.register",
                            SimpleNamespace(owner_org_id=ctx.actor.org_id)))
    return render(ctx.request, "events/event.html", status_code=status, labels=LABELS,
                  figure_names=FIGURES, view=view, event=view.event,
                  times=events.slot_times(view.event), requestable=_requestable(view),
                  may_register=may_register,
                  overview=events.event_overview(ctx.session, ctx.actor, event_id)
                  if staff else None, **extra)


@router.get("/events/{event_id}")
def event_page(event_id: int, ctx: UserCtx) -> Response:
    return _event_page(ctx, event_id)


def _act(ctx: Ctx, event_id: int, anchor: str, action: Any) -> Response:
    """Run one service call; a correctable error re-renders the event page with the message."""
    try:
        action()
    except DomainError as exc:
        if not _keep_domain_errors(exc):
            raise
        ctx.session.rollback()
        return _event_page(ctx, event_id, status=exc.status,
                           error=translate(ctx.locale, exc.message))
    return redirect(f"/events/{event_id}#{anchor}")


def _unavailable(ctx: Ctx) -> list[int]:
    return [int(v) for v in ctx.extra["form"].getlist("unavailable") if str(v).isdigit()]


@router.post("/events/{event_id}/register")
def register(event_id: int, ctx: UserFormCtx) -> Response:
    """Register my organisation, or change our name on agendas and the slots we miss."""
    org = ctx.actor.org_id if ctx.actor.org_id is not None else -1
    return _act(ctx, event_id, "mine", lambda: events.register(
        ctx.session, ctx.actor, event_id, org, name=field(ctx, "name") or None,
        unavailable=_unavailable(ctx)))


@router.post("/events/{event_id}/requests")
def request_meeting(event_id: int, ctx: UserFormCtx) -> Response:
    return _act(ctx, event_id, "requests", lambda: events.request_meeting(
        ctx.session, ctx.actor, event_id, _int(ctx, "requester_id"), _int(ctx, "target_id"),
        priority=2 if field(ctx, "priority") == "2" else 1, note=field(ctx, "note") or None))


@router.post("/event-requests/{request_id}/response")
def respond(request_id: int, ctx: UserFormCtx) -> Response:
    req = events.respond(ctx.session, ctx.actor, request_id, field(ctx, "accept") == "yes")
    return redirect(f"/events/{req.event_id}#received")


@router.post("/events/{event_id}/schedule")
def run_schedule(event_id: int, ctx: UserFormCtx) -> Response:
    try:
        limit = min(max(float(field(ctx, "time_limit") or 10), 0.5), 120.0)
    except ValueError:
        limit = 10.0
    return _act(ctx, event_id, "schedule", lambda: events.run_schedule(
        ctx.session, ctx.actor, event_id, time_limit=limit))


# Agendas ----------------------------------------------------------------------------------------

@router.get("/events/{event_id}/agenda/{participant_id}")
def agenda_page(event_id: int, participant_id: int, ctx: UserCtx) -> Response:
    sheet = events.agenda(ctx.session, ctx.actor, event_id, participant_id)
    return render(ctx.request, "events/agenda.html", labels=LABELS, event=sheet.event,
                  sheets=[sheet])


@router.get("/events/{event_id}/agendas")
def all_agendas(event_id: int, ctx: UserCtx) -> Response:
    """Every participant's agenda, one A4 page each (organisers print them for the desk)."""
    sheets = events.agendas(ctx.session, ctx.actor, event_id)
    event = sheets[0].event if sheets else events.get_event(ctx.session, ctx.actor, event_id)
    return render(ctx.request, "events/agenda.html", labels=LABELS, event=event, sheets=sheets,
                  all_sheets=True)
