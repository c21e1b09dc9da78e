"""Meetings of a docking case (对接会谈): scheduling, rescheduling, cancelling, and the .ics file.

Scheduling a meeting is also the workflow's ``meet`` action, so a meeting exists exactly when
the case has moved to ``meeting``: the row is added first (the trail event names its id) and
:func:`luodi.docking.cases.transition` commits both; if the transition refuses, the meeting is
rolled back with it. The table is checked before anything is written, so the usual refusal
(a case not yet at ``contacts_revealed``) never touches the database.

Each meeting carries an iCalendar identity (``uid`` and ``sequence``, RFC 5545 §3.8.4.7 and
§3.8.7.4): a rescheduled or cancelled meeting keeps its UID and bumps its SEQUENCE, so
calendars that imported the first .ics update their entry instead of adding a second one.
The .ics never names people or contacts; whoever needs them reads the case page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from luodi.auth.actor import Actor
from luodi.auth.policy import require_login
from luodi.config import Settings
from luodi.db import utcnow
from luodi.docking import cases, workflow
from luodi.docking.access import get_case_for, roles_in
from luodi.docking.models import Case, Meeting
from luodi.docking.trail import record_event
from luodi.errors import Conflict, NotFound, ValidationFailed

__all__ = ["KEEP", "MAX_MINUTES", "MIN_MINUTES", "PRODID", "cancel_meeting", "get_meeting",
           "list_meetings", "minutes_of",
           "meeting_ics", "schedule_meeting", "update_meeting"]

MIN_MINUTES, MAX_MINUTES = 15, 480
MAX_AGENDA = 5000
PRODID = "-//luodi//docking//ZH"


class _Keep:
    """The type of :data:`KEEP`: "leave this field as it is" in :func:`update_meeting`."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


# --- checks -------------------------------------------------------------------------------

def _case_roles(session: Session, actor: Actor, case_id: int) -> tuple[Case, frozenset[str]]:
    case = get_case_for(session, actor, case_id)
    roles = roles_in(actor, case)
    if not roles:
        raise NotFound("没有这个对接案件 / No such case.")
    return case, roles


def _meeting_for(session: Session, actor: Actor, meeting_id: int, *,
                 for_update: bool = False) -> tuple[Meeting, Case]:
    """The meeting and its case; NotFound for those who may not read the case (no probing).

    ``for_update`` locks the meeting row (PostgreSQL), so two concurrent changes cannot both
    read the same SEQUENCE and bump it to the same number.
    """
    meeting = session.get(Meeting, meeting_id, with_for_update=for_update or None,
                          populate_existing=for_update)
    if meeting is None:
        raise NotFound("没有这个会谈 / No such meeting.")
    case, _roles = _case_roles(session, actor, meeting.case_id)
    return meeting, case


def _invalid(field: str, zh: str, en: str, **data: Any) -> ValidationFailed:
    return ValidationFailed(f"{zh} / {en}", data={"field": field, **data})


def _text(value: str | None, field: str, limit: int) -> str | None:
    text = (value or "").strip() or None
    if text is not None and len(text) > limit:
        raise _invalid(field, f"最多 {limit} 字", f"At most {limit} characters.", max=limit)
    return text


def _url(value: str | None) -> str | None:
    url = _text(value, "online_url", 500)
    if url is None:
        return None
    parts = urlsplit(url)
    # Only web links: a javascript: or file: URL in a calendar is an attack, not a meeting room.
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise _invalid("online_url", "线上会议链接须以 http:// 或 https:// 开头",
                       "The online link must be an http(s) URL.")
    return url


def _fields(*, starts_at: dt.datetime, minutes: int, place: str | None,
            online_url: str | None, agenda: str | None, check_future: bool) -> dict[str, Any]:
    """The meeting's column values, after every rule on them."""
    if starts_at.tzinfo is None:
        raise _invalid("starts_at", "开始时间须带时区", "The start time needs a time zone.")
    if check_future and starts_at <= utcnow():
        raise _invalid("starts_at", "开始时间须在将来", "The meeting must start in the future.")
    if isinstance(minutes, bool) or not isinstance(minutes, int) \
            or not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise _invalid("minutes", f"时长须为 {MIN_MINUTES}–{MAX_MINUTES} 分钟",
                       f"A meeting lasts {MIN_MINUTES} to {MAX_MINUTES} minutes.")
    place, url = _text(place, "place", 300), _url(online_url)
    if place is None and url is None:
        raise _invalid("place", "请填写地点或线上会议链接",
                       "Give a place or an online link.")
    start = starts_at.astimezone(dt.UTC)
    return {"starts_at": start, "ends_at": start + dt.timedelta(minutes=minutes),
            "place": place, "online_url": url, "agenda": _text(agenda, "agenda", MAX_AGENDA)}


def minutes_of(meeting: Meeting) -> int:
    """How long ``meeting`` lasts, in minutes."""
    return int((meeting.ends_at - meeting.starts_at).total_seconds() // 60)


def _when(meeting: Meeting) -> str:
    return f"{meeting.starts_at:%Y-%m-%d %H:%M} UTC, {minutes_of(meeting)} min"


# --- services -----------------------------------------------------------------------------

def schedule_meeting(session: Session, actor: Actor, case_id: int, *, starts_at: dt.datetime,
                     minutes: int = 60, place: str | None = None,
                     online_url: str | None = None, agenda: str | None = None) -> Meeting:
    """Schedule a meeting and move the case to ``meeting`` (parties, broker, staff)."""
    case, roles = _case_roles(session, actor, case_id)
    workflow.check(case.state, "meet", roles)  # refuse before writing anything
    fields = _fields(starts_at=starts_at, minutes=minutes, place=place, online_url=online_url,
                     agenda=agenda, check_future=True)
    meeting = Meeting(case_id=case.id, uid=f"{uuid4()}@luodi", sequence=0, status="scheduled",
                      created_by_id=actor.user_id, **fields)
    # If the transition refuses after all (the state changed meanwhile), atomic rolls the
    # meeting back with it: a meeting exists only together with its "meet" event.
    with cases.atomic(session):
        session.add(meeting)
        session.flush()
        cases.transition(session, actor, case.id, "meet",
                         note=f"约定会谈 / Meeting scheduled: {_when(meeting)}",
                         detail={"meeting_id": meeting.id})
    return meeting


def update_meeting(session: Session, actor: Actor, meeting_id: int, *,
                   starts_at: dt.datetime | _Keep = KEEP, minutes: int | _Keep = KEEP,
                   place: str | None | _Keep = KEEP, online_url: str | None | _Keep = KEEP,
                   agenda: str | None | _Keep = KEEP) -> Meeting:
    """Reschedule or amend a meeting; fields left at :data:`KEEP` stay. Bumps SEQUENCE."""
    with cases.atomic(session):
        meeting, case = _meeting_for(session, actor, meeting_id, for_update=True)
        given = {"starts_at": starts_at, "minutes": minutes, "place": place,
                 "online_url": online_url, "agenda": agenda}
        changed = _changes(meeting, case, given)
        if changed:
            for name, value in changed.items():
                setattr(meeting, name, value)
            meeting.sequence += 1
            record_event(session, case, actor, "meeting", action="reschedule",
                         note=f"会谈改期 / Meeting changed: {_when(meeting)}",
                         detail={"meeting_id": meeting.id, "sequence": meeting.sequence,
                                 "changed": sorted(changed)})
        session.commit()  # also ends the lock when nothing changed
    return meeting


def _changes(meeting: Meeting, case: Case, given: dict[str, Any]) -> dict[str, Any]:
    """The columns ``given`` would change, once the merged meeting passes every rule."""
    if meeting.status != "scheduled" or case.state == "closed":
        raise Conflict("会谈已取消或案件已关闭，不能修改 / A cancelled meeting, or one of a "
                       "closed case, cannot be changed.",
                       data={"status": meeting.status, "state": case.state})
    current: dict[str, Any] = {"starts_at": meeting.starts_at, "minutes": minutes_of(meeting),
                               "place": meeting.place, "online_url": meeting.online_url,
                               "agenda": meeting.agenda}
    merged = {**current, **{k: v for k, v in given.items() if not isinstance(v, _Keep)}}
    fields = _fields(**merged, check_future=not isinstance(given["starts_at"], _Keep))
    return {k: v for k, v in fields.items() if getattr(meeting, k) != v}


def cancel_meeting(session: Session, actor: Actor, meeting_id: int) -> Meeting:
    """Cancel a meeting (parties, broker, staff); cancelling it again changes nothing."""
    with cases.atomic(session):
        meeting, case = _meeting_for(session, actor, meeting_id, for_update=True)
        if meeting.status != "cancelled":
            meeting.status = "cancelled"
            meeting.sequence += 1
            record_event(session, case, actor, "meeting", action="cancel",
                         note=f"会谈取消 / Meeting cancelled: {_when(meeting)}",
                         detail={"meeting_id": meeting.id, "sequence": meeting.sequence})
        session.commit()  # also ends the lock when it was already cancelled
    return meeting


def list_meetings(session: Session, actor: Actor, case_id: int) -> list[Meeting]:
    """A case's meetings, soonest first (cancelled ones included, marked by their status)."""
    case, _roles = _case_roles(session, actor, case_id)
    return list(session.scalars(select(Meeting).where(Meeting.case_id == case.id)
                                .order_by(Meeting.starts_at, Meeting.id)))


def get_meeting(session: Session, actor: Actor, meeting_id: int) -> Meeting:
    """One meeting, for those who may read its case."""
    require_login(actor)
    return _meeting_for(session, actor, meeting_id)[0]


# --- iCalendar ----------------------------------------------------------------------------

def meeting_ics(session: Session, actor: Actor, meeting_id: int, settings: Settings) -> bytes:
    """The meeting as an RFC 5545 calendar (METHOD PUBLISH: a file to import, not an invite)."""
    require_login(actor)
    meeting, case = _meeting_for(session, actor, meeting_id)
    record = case.record
    title = record.title if record is not None else f"#{case.id}"
    case_url = f"{settings.base_url.rstrip('/')}/cases/{case.id}"
    lines = [meeting.agenda] if meeting.agenda else []
    if meeting.online_url:
        lines.append(f"线上会议 / Online: {meeting.online_url}")
    lines.append(f"案件 / Case: {case_url}")

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", utcnow().replace(microsecond=0))
    event.add("dtstart", meeting.starts_at.astimezone(dt.UTC))
    event.add("dtend", meeting.ends_at.astimezone(dt.UTC))
    event.add("summary", f"对接会谈 / Docking meeting: {title}")
    if meeting.place:
        event.add("location", meeting.place)
    if meeting.online_url:
        event.add("url", meeting.online_url)
    event.add("description", "\n\n".join(lines))
    event.add("status", "CANCELLED" if meeting.status == "cancelled" else "CONFIRMED")
    cal.add_component(event)
    return bytes(cal.to_ical())
