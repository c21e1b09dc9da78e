"""Docking events (对接会 / 路演): registration, 1:1 meeting requests, the schedule, agendas.

An operator creates an event with its slots ("09:00", "09:20", …) and tables. Organisations
register (only while the event is open), ask each other for 1:1 meetings, and the asked side
accepts or declines. The operator then runs the scheduler (:mod:`luodi.docking.scheduler`,
CP-SAT against a greedy baseline), which replaces the event's meetings in one transaction;
every participant reads and prints its agenda. Requests and answers stay possible after a
schedule (a re-run picks them up); a declined meeting leaves the schedule at once.

Every write is authorised by :mod:`luodi.auth.policy`, audited and committed here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.models import Organisation
from luodi.auth.policy import authorize, require_login
from luodi.db import utcnow
from luodi.docking import scheduler
from luodi.docking.models import DockingEvent, EventMeeting, EventParticipant, MeetingRequest
from luodi.errors import Conflict, NotFound, ValidationFailed

__all__ = ["KINDS", "REQUEST_STATUSES", "Agenda", "AgendaItem", "Overview", "Participation",
           "agenda", "agendas", "create_event", "event_overview", "get_event", "list_events",
           "participation", "register", "request_meeting", "respond", "run_schedule",
           "slot_times"]

KINDS = ("matchmaking", "roadshow")
REQUEST_STATUSES = ("requested", "accepted", "declined")
MAX_SLOTS, MAX_TABLES = 48, 500
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class AgendaItem:
    """One meeting on a participant's agenda."""

    slot: int
    starts: str
    ends: str
    table_no: int
    other_id: int
    other_name: str
    requested_by_me: bool
    priority: int
    note: str | None


@dataclass(frozen=True)
class Agenda:
    """A participant's meetings by slot, and accepted requests the schedule could not fit."""

    event: DockingEvent
    participant: EventParticipant
    items: list[AgendaItem]
    unscheduled: list[str]


@dataclass(frozen=True)
class Participation:
    """What an event page shows one viewer: everyone registered, and the viewer's own side."""

    event: DockingEvent
    participants: list[EventParticipant]
    mine: EventParticipant | None
    sent: list[MeetingRequest]
    received: list[MeetingRequest]
    names: dict[int, str]


@dataclass(frozen=True)
class Overview:
    """The organiser's view: participants, requests by status, the slot × table grid."""

    event: DockingEvent
    participants: list[EventParticipant]
    requests: dict[str, list[MeetingRequest]]
    grid: list[list[MeetingRequest | None]]  # [slot][table − 1]
    names: dict[int, str]


# --- reading ------------------------------------------------------------------------------

def slot_times(event: DockingEvent) -> list[tuple[str, str]]:
    """Each slot's start and end ("09:00", "09:20")."""
    out = []
    for start in event.slots:
        hours, minutes = map(int, start.split(":"))
        end = (hours * 60 + minutes + event.slot_minutes) % (24 * 60)
        out.append((start, f"{end // 60:02d}:{end % 60:02d}"))
    return out


def _event(session: Session, event_id: int, *, for_update: bool = False) -> DockingEvent:
    event = session.get(DockingEvent, event_id, with_for_update=for_update or None)
    if event is None:
        raise NotFound("没有这个对接活动 / No such event.")
    return event


def _participant(session: Session, event: DockingEvent, participant_id: int) -> EventParticipant:
    row = session.get(EventParticipant, participant_id)
    if row is None or row.event_id != event.id:
        raise NotFound("该活动没有这个参会方 / No such participant at this event.")
    return row


def _participants(session: Session, event_id: int) -> list[EventParticipant]:
    return list(session.scalars(select(EventParticipant).where(
        EventParticipant.event_id == event_id).order_by(EventParticipant.id)))


def _requests(session: Session, event_id: int, *statuses: str) -> list[MeetingRequest]:
    stmt = select(MeetingRequest).where(MeetingRequest.event_id == event_id)
    if statuses:
        stmt = stmt.where(MeetingRequest.status.in_(statuses))
    return list(session.scalars(stmt.order_by(MeetingRequest.id)))


def list_events(session: Session, actor: Actor, *, limit: int = 100) -> list[DockingEvent]:
    """Events, the latest date first (any signed-in user)."""
    authorize(session, actor, "events.read")
    return list(session.scalars(select(DockingEvent).order_by(
        DockingEvent.held_on.desc(), DockingEvent.id.desc()).limit(limit)))


def get_event(session: Session, actor: Actor, event_id: int) -> DockingEvent:
    """One event (any signed-in user)."""
    authorize(session, actor, "events.read")
    return _event(session, event_id)


def participation(session: Session, actor: Actor, event_id: int) -> Participation:
    """The event with its participants and the viewer's organisation's requests both ways."""
    event = get_event(session, actor, event_id)
    people = _participants(session, event_id)
    mine = next((p for p in people if actor.org_id is not None
                 and p.organisation_id == actor.org_id), None)
    sent: list[MeetingRequest] = []
    received: list[MeetingRequest] = []
    if mine is not None:
        for req in _requests(session, event_id):
            if req.requester_id == mine.id:
                sent.append(req)
            elif req.target_id == mine.id:
                received.append(req)
    return Participation(event, people, mine, sent, received, {p.id: p.name for p in people})


def _meetings(session: Session, event_id: int) -> list[tuple[EventMeeting, MeetingRequest]]:
    rows = session.execute(select(EventMeeting, MeetingRequest).join(
        MeetingRequest, EventMeeting.request_id == MeetingRequest.id).where(
        EventMeeting.event_id == event_id).order_by(EventMeeting.slot, EventMeeting.table_no))
    return [(m, r) for m, r in rows]


def _build_agendas(session: Session, event: DockingEvent,
                   people: list[EventParticipant]) -> list[Agenda]:
    names = {p.id: p.name for p in _participants(session, event.id)}
    times = slot_times(event)
    items: dict[int, list[AgendaItem]] = {p.id: [] for p in people}
    placed = set()
    for meeting, req in _meetings(session, event.id):
        placed.add(req.id)
        for me, other in ((req.requester_id, req.target_id), (req.target_id, req.requester_id)):
            if me in items:
                starts, ends = times[meeting.slot] if meeting.slot < len(times) else ("?", "?")
                items[me].append(AgendaItem(meeting.slot, starts, ends, meeting.table_no, other,
                                            names[other], me == req.requester_id,
                                            req.priority, req.note))
    waiting: dict[int, list[str]] = {p.id: [] for p in people}
    for req in _requests(session, event.id, "accepted"):
        if req.id not in placed:
            for me, other in ((req.requester_id, req.target_id),
                              (req.target_id, req.requester_id)):
                if me in waiting:
                    waiting[me].append(names[other])
    return [Agenda(event, p, items[p.id], waiting[p.id]) for p in people]


def agenda(session: Session, actor: Actor, event_id: int, participant_id: int) -> Agenda:
    """A participant's agenda (日程): its own members and staff may read it."""
    require_login(actor)
    event = _event(session, event_id)
    person = _participant(session, event, participant_id)
    authorize(session, actor, "events.agenda", person)
    return _build_agendas(session, event, [person])[0]


def agendas(session: Session, actor: Actor, event_id: int) -> list[Agenda]:
    """Every participant's agenda, for printing them all at once (organisers)."""
    authorize(session, actor, "events.manage")
    event = _event(session, event_id)
    return _build_agendas(session, event, _participants(session, event_id))


def event_overview(session: Session, actor: Actor, event_id: int) -> Overview:
    """The organiser's view of an event (staff)."""
    authorize(session, actor, "events.manage")
    event = _event(session, event_id)
    people = _participants(session, event_id)
    by_status: dict[str, list[MeetingRequest]] = {s: [] for s in REQUEST_STATUSES}
    for req in _requests(session, event_id):
        by_status.setdefault(req.status, []).append(req)
    grid: list[list[MeetingRequest | None]] = [[None] * event.tables for _ in event.slots]
    for meeting, req in _meetings(session, event_id):
        if meeting.slot < len(grid) and 1 <= meeting.table_no <= event.tables:
            grid[meeting.slot][meeting.table_no - 1] = req
    return Overview(event, people, by_status, grid, {p.id: p.name for p in people})


# --- writing ------------------------------------------------------------------------------

def _clean_slots(slots: Iterable[str], slot_minutes: int) -> list[str]:
    """Start times as HH:MM, in order, each slot ending before the next starts."""
    cleaned = [str(s).strip() for s in slots if str(s).strip()]
    if not 1 <= len(cleaned) <= MAX_SLOTS or not all(_HHMM.match(s) for s in cleaned):
        raise ValidationFailed("时段应为 1–48 个 HH:MM 开始时间 / Give 1–48 slot start times "
                               "as HH:MM.", data={"field": "slots"})  # 48: MAX_SLOTS
    minutes = [int(s[:2]) * 60 + int(s[3:]) for s in cleaned]
    if any(b - a < slot_minutes for a, b in zip(minutes, minutes[1:], strict=False)):
        raise ValidationFailed("时段须按时间顺序且互不重叠 / Slots must be in order and must not "
                               "overlap.", data={"field": "slots"})
    return cleaned


def create_event(session: Session, actor: Actor, *, title: str, kind: str, held_on: dt.date,
                 venue: str | None, slots: list[str], slot_minutes: int, tables: int,
                 description: str | None = None) -> DockingEvent:
    """Create a docking event (organisers only); it opens for registration at once."""
    authorize(session, actor, "events.manage")
    title = (title or "").strip()
    if not 1 <= len(title) <= 200:
        raise ValidationFailed("请填写活动名称 / Give the event a title.", data={"field": "title"})
    if kind not in KINDS:
        raise ValidationFailed("未知的活动类型 / Unknown event kind.", data={"field": "kind"})
    if not 5 <= slot_minutes <= 240 or not 1 <= tables <= MAX_TABLES:
        raise ValidationFailed("时段时长或桌数超出范围 / Slot length or number of tables is out "
                               "of range.", data={"field": "tables"})
    event = DockingEvent(title=title, kind=kind, held_on=held_on,
                         venue=(venue or "").strip()[:300] or None,
                         slots=_clean_slots(slots, slot_minutes), slot_minutes=slot_minutes,
                         tables=tables, description=(description or "").strip() or None,
                         created_by_id=actor.user_id, status="open")
    session.add(event)
    session.flush()
    audit.record(session, actor, "events.create", obj=("docking_events", event.id),
                 detail={"title": title, "slots": len(event.slots), "tables": tables})
    session.commit()
    return event


@dataclass(frozen=True)
class _OrgProbe:
    """What ``events.register`` decides on: the organisation being registered."""

    owner_org_id: int


def _clean_unavailable(event: DockingEvent, unavailable: Iterable[int]) -> list[int]:
    slots = sorted({int(s) for s in unavailable})
    if any(not 0 <= s < len(event.slots) for s in slots):
        raise ValidationFailed("没有这个时段 / No such slot.", data={"field": "unavailable"})
    return slots


def register(session: Session, actor: Actor, event_id: int, organisation_id: int, *,
             name: str | None = None, unavailable: Iterable[int] = ()) -> EventParticipant:
    """Register an organisation for an open event (idempotent: registering again updates the
    name and the slots it cannot attend, and returns the same participant)."""
    authorize(session, actor, "events.register", _OrgProbe(organisation_id))
    event = _event(session, event_id)
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound("没有这个单位 / No such organisation.")
    slots = _clean_unavailable(event, unavailable)
    label = (name or "").strip()[:200] or org.name
    row = session.scalars(select(EventParticipant).where(
        EventParticipant.event_id == event_id,
        EventParticipant.organisation_id == organisation_id)).first()
    if row is not None and (row.name, row.unavailable) == (label, slots):
        return row  # nothing to change, whatever the event's status
    if event.status != "open":
        raise Conflict("报名已截止 / Registration for this event is closed.")
    if row is None:
        row = EventParticipant(event_id=event_id, organisation_id=organisation_id,
                               user_id=actor.user_id if actor.org_id == organisation_id else None)
        session.add(row)
    row.name, row.unavailable = label, slots
    try:
        session.flush()
    except IntegrityError:  # a concurrent registration of the same organisation won
        session.rollback()
        raise Conflict("该单位已报名，请刷新后再试 / This organisation has just been "
                       "registered; reload and try again.") from None
    audit.record(session, actor, "events.register", obj=("event_participants", row.id),
                 detail={"event": event_id, "organisation": organisation_id,
                         "unavailable": slots})
    session.commit()
    return row


def request_meeting(session: Session, actor: Actor, event_id: int,
                    requester_participant_id: int, target_participant_id: int, *,
                    priority: int = 1, note: str | None = None) -> MeetingRequest:
    """Ask another participant for a 1:1 meeting (on behalf of the requesting participant)."""
    event = _event(session, event_id)
    requester = _participant(session, event, requester_participant_id)
    authorize(session, actor, "events.request", requester)
    target = _participant(session, event, target_participant_id)
    if event.status == "closed":
        raise Conflict("活动已结束 / The event is closed.")
    if target.id == requester.id:
        raise ValidationFailed("不能约见自己 / You cannot request a meeting with yourself.",
                               data={"field": "target_participant_id"})
    if priority not in scheduler.PRIORITY_WEIGHTS:
        raise ValidationFailed("优先级应为 1 或 2 / Priority is 1 or 2.",
                               data={"field": "priority"})
    # One request per pair: if they already asked us, the answer is to accept theirs.
    existing = session.scalars(select(MeetingRequest.id).where(
        MeetingRequest.event_id == event_id,
        or_(and_(MeetingRequest.requester_id == requester.id,
                 MeetingRequest.target_id == target.id),
            and_(MeetingRequest.requester_id == target.id,
                 MeetingRequest.target_id == requester.id)))).first()
    if existing is not None:
        raise Conflict("双方之间已有约见请求 / There is already a meeting request between "
                       "these two.", data={"request_id": existing})
    req = MeetingRequest(event_id=event_id, requester_id=requester.id, target_id=target.id,
                         priority=priority, note=(note or "").strip()[:300] or None,
                         status="requested")
    session.add(req)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict("双方之间已有约见请求 / There is already a meeting request between "
                       "these two.") from None
    audit.record(session, actor, "events.request", obj=("event_meeting_requests", req.id),
                 detail={"event": event_id, "requester": requester.id, "target": target.id,
                         "priority": priority})
    session.commit()
    return req


def respond(session: Session, actor: Actor, request_id: int, accept: bool) -> MeetingRequest:
    """Accept or decline a meeting request (the asked participant; the answer may change).

    Declining a request that is already on the schedule removes that meeting.
    """
    req = session.get(MeetingRequest, request_id)
    if req is None:
        raise NotFound("没有这个约见请求 / No such meeting request.")
    event = _event(session, req.event_id)
    authorize(session, actor, "events.respond", _participant(session, event, req.target_id))
    if event.status == "closed":
        raise Conflict("活动已结束 / The event is closed.")
    before, req.status = req.status, "accepted" if accept else "declined"
    if not accept:
        session.execute(delete(EventMeeting).where(EventMeeting.request_id == req.id))
    audit.record(session, actor, "events.respond", obj=("event_meeting_requests", req.id),
                 detail={"from": before, "to": req.status})
    session.commit()
    return req


def _solve(event: DockingEvent, people: list[EventParticipant], accepted: list[MeetingRequest],
           time_limit: float) -> tuple[scheduler.Schedule, scheduler.Schedule]:
    index = {p.id: i for i, p in enumerate(people)}
    pairs = [(index[r.requester_id], index[r.target_id]) for r in accepted]
    weights = [scheduler.PRIORITY_WEIGHTS.get(r.priority, 2) for r in accepted]
    blocked = {i: {s for s in p.unavailable if s < len(event.slots)}
               for i, p in enumerate(people) if p.unavailable}
    args = (pairs, weights, len(people), len(event.slots), event.tables, blocked)
    return (scheduler.schedule(*args, time_limit=time_limit),
            scheduler.greedy_schedule(*args))


def run_schedule(session: Session, actor: Actor, event_id: int, *,
                 time_limit: float = 10.0) -> dict[str, Any]:
    """Schedule the accepted requests (organisers): the event's meetings are replaced in one
    transaction, and the figures — CP-SAT's and greedy's — are stored on the event."""
    authorize(session, actor, "events.schedule")
    event = _event(session, event_id, for_update=True)  # one run at a time per event
    if event.status == "closed":
        raise Conflict("活动已结束 / The event is closed.")
    people = _participants(session, event_id)
    accepted = _requests(session, event_id, "accepted")
    best, greedy = _solve(event, people, accepted, time_limit)
    session.execute(delete(EventMeeting).where(EventMeeting.event_id == event_id))
    session.add_all(EventMeeting(event_id=event_id, request_id=accepted[r].id, slot=s,
                                 table_no=t) for r, s, t in best.assignments)
    figures: dict[str, Any] = {**best.as_json(), "participants": len(people),
                               "slots": len(event.slots), "tables": event.tables,
                               "capacity": len(event.slots) * event.tables,
                               "time_limit": time_limit, "greedy": greedy.as_json()}
    event.schedule_figures, event.status, event.scheduled_at = figures, "scheduled", utcnow()
    audit.record(session, actor, "events.schedule", obj=("docking_events", event_id),
                 detail={k: figures[k] for k in ("met", "requested", "status")})
    session.commit()
    return figures
