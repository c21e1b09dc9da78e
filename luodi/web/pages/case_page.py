"""The page of one docking case (对接案例): rendered by the GET route and again, with the error
and the submitted form, by every action that a service refuses.

What the viewer may see comes from :func:`luodi.docking.disclosure.case_view`; this module only
adds what the page needs around it (the funnel bar, the brokers an operator may assign, the
consent form's proposal). Times are shown, and meeting times entered, in Beijing time (UTC+8,
no daylight saving).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi.responses import Response
from sqlalchemy import select

from luodi.auth.models import User
from luodi.docking import cases, disclosure, meetings, messages, workflow
from luodi.docking.models import Case
from luodi.web.deps import Ctx
from luodi.web.labels import (
    CASE_ACTION_LABELS,
    CASE_EVENT_LABELS,
    CASE_MEETING_LABELS,
    CASE_ROLE_LABELS,
    CASE_STATE_LABELS,
)
from luodi.web.pages.deal_form import deal_section
from luodi.web.templating import render

__all__ = ["BEIJING", "FUNNEL", "Step", "case_page", "funnel", "local_time"]

BEIJING = dt.timezone(dt.timedelta(hours=8), "UTC+8")
FUNNEL = tuple(s for s in workflow.STATES if s != "closed")
BUTTONS = ("accept", "negotiate", "agree")  # plain buttons; meet, close, consent, nda have forms


def local_time(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (UTC) time in Beijing time, for display."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(BEIJING).strftime(fmt)


@dataclass(frozen=True)
class Step:
    """One step of the funnel bar: done, the current one, or still ahead."""

    state: str
    status: str  # done | current | todo


def funnel(case: Case, events: list[Any]) -> list[Step]:
    """The funnel's steps for the progress bar; a closed case shows how far it came."""
    if case.state == "closed":
        reached = [workflow.RANK[e.to_state] for e in events
                   if e.kind == "transition" and e.to_state not in (None, "closed")]
        rank, current = max(reached, default=0), None
    else:
        rank, current = workflow.RANK[case.state], case.state
    return [Step(s, "current" if s == current else "done" if workflow.RANK[s] <= rank
                 else "todo") for s in FUNNEL]


def _brokers(ctx: Ctx) -> list[tuple[int, str, str]]:
    """Active brokers an operator may assign: id, name, e-mail."""
    return [(i, name, email) for i, name, email in ctx.session.execute(
        select(User.id, User.display_name, User.email)
        .where(User.role == "broker", User.is_active.is_(True)).order_by(User.display_name))]


def case_page(ctx: Ctx, case_id: int, *, status: int = 200,
              posted: dict[str, Any] | None = None, **extra: Any) -> Response:
    """Render the case page (after a refused action: with ``error`` and the form sent back)."""
    view = disclosure.case_view(ctx.session, ctx.actor, case_id)
    case = view.case
    contact = cases.default_contact(ctx.session, ctx.actor, case) \
        if "consent" in view.actions else {}
    staff = workflow.STAFF in view.roles
    return render(
        ctx.request, "cases/case.html", status_code=status, view=view, case=case,
        r=view.record, steps=funnel(case, view.events),
        messages=messages.list_messages(ctx.session, ctx.actor, case.id),
        meetings=meetings.list_meetings(ctx.session, ctx.actor, case.id),
        contact=contact, brokers=_brokers(ctx) if staff else [], staff=staff,
        helper=bool(view.roles & workflow.HELPERS),
        buttons=[a for a in view.actions if a in BUTTONS],
        state_labels=CASE_STATE_LABELS, action_labels=CASE_ACTION_LABELS,
        role_labels=CASE_ROLE_LABELS, event_labels=CASE_EVENT_LABELS,
        meeting_labels=CASE_MEETING_LABELS, minutes_of=meetings.minutes_of,
        author_parts={label: part for part, label in messages.PART_LABELS.items()},
        posted=posted or {}, max_mb=ctx.settings.dossier_max_mb,
        min_minutes=meetings.MIN_MINUTES, max_minutes=meetings.MAX_MINUTES,
        **deal_section(ctx, case), **extra)
