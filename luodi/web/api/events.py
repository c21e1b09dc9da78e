"""API: docking events (对接会 / 路演) — registration, 1:1 meeting requests, the schedule, agendas.

Handlers only shape what :mod:`luodi.docking.events` returns; the services authorise, audit
and commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from luodi.docking import events
from luodi.docking.models import DockingEvent
from luodi.errors import ValidationFailed
from luodi.web.deps import CtxDep, UserCtx

router = APIRouter(tags=["events"])


# --- shapes -------------------------------------------------------------------------------

class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(max_length=200)
    kind: str = Field("matchmaking", description=" | ".join(events.KINDS))
    held_on: dt.date
    venue: str | None = Field(None, max_length=300)
    slots: list[str] = Field(description='Start times as "HH:MM", in order, not overlapping',
                             max_length=events.MAX_SLOTS)
    slot_minutes: int = Field(20, ge=5, le=240)
    tables: int = Field(10, ge=1, le=events.MAX_TABLES)
    description: str | None = Field(None, max_length=5000)


class SlotOut(BaseModel):
    index: int
    starts: str
    ends: str


class EventOut(BaseModel):
    id: int
    title: str
    kind: str
    held_on: dt.date
    venue: str | None
    slots: list[SlotOut]
    slot_minutes: int
    tables: int
    status: str = Field(description="open | scheduled | closed")
    description: str | None
    scheduled_at: dt.datetime | None
    schedule_figures: dict[str, Any] | None = Field(
        None, description="The last schedule: CP-SAT's figures and greedy's under 'greedy'")


class ParticipantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organisation_id: int | None = Field(None, description="Default: my organisation")
    name: str | None = Field(None, max_length=200, description="Shown on agendas")
    unavailable: list[int] = Field(default_factory=list, max_length=events.MAX_SLOTS,
                                   description="Slot indexes (0-based) we cannot attend")


class ParticipantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    event_id: int
    organisation_id: int
    name: str
    unavailable: list[int]


class EventDetailOut(EventOut):
    participants: list[ParticipantOut]
    my_participant_id: int | None = Field(description="My organisation's participant, if any")


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requester_participant_id: int
    target_participant_id: int
    priority: int = Field(1, ge=1, le=2, description="1 normal, 2 high (counts more)")
    note: str | None = Field(None, max_length=300)


class RequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    event_id: int
    requester_id: int
    target_id: int
    status: str = Field(description=" | ".join(events.REQUEST_STATUSES))
    priority: int
    note: str | None


class ResponseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accept: bool


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    time_limit: float = Field(10.0, gt=0, le=120, description="CP-SAT's limit in seconds")


class AgendaItemOut(BaseModel):
    slot: int
    starts: str
    ends: str
    table_no: int
    other_participant_id: int
    other_name: str
    requested_by_me: bool
    priority: int
    note: str | None


class AgendaOut(BaseModel):
    event: EventOut
    participant: ParticipantOut
    meetings: list[AgendaItemOut]
    unscheduled: list[str] = Field(description="Accepted, but the schedule had no room")


def event_out(event: DockingEvent) -> EventOut:
    """An event with its slots' start and end times."""
    return EventOut(id=event.id, title=event.title, kind=event.kind, held_on=event.held_on,
                    venue=event.venue, slot_minutes=event.slot_minutes, tables=event.tables,
                    slots=[SlotOut(index=i, starts=a, ends=b)
                           for i, (a, b) in enumerate(events.slot_times(event))],
                    status=event.status, description=event.description,
                    scheduled_at=event.scheduled_at, schedule_figures=event.schedule_figures)


# --- routes -------------------------------------------------------------------------------

@router.get("/events", response_model=list[EventOut], summary="Docking events, latest first")
def list_events(ctx: CtxDep, limit: int = Query(100, ge=1, le=500)) -> list[EventOut]:
    return [event_out(e) for e in events.list_events(ctx.session, ctx.actor, limit=limit)]


@router.post("/events", response_model=EventOut, status_code=201,
             summary="Create a docking event (organisers)")
def create_event(body: EventIn, ctx: UserCtx) -> EventOut:
    return event_out(events.create_event(ctx.session, ctx.actor, **body.model_dump()))


@router.get("/events/{event_id}", response_model=EventDetailOut,
            summary="One event with its participants")
def get_event(event_id: int, ctx: CtxDep) -> EventDetailOut:
    view = events.participation(ctx.session, ctx.actor, event_id)
    return EventDetailOut(**event_out(view.event).model_dump(),
                          participants=[ParticipantOut.model_validate(p)
                                        for p in view.participants],
                          my_participant_id=view.mine.id if view.mine else None)


@router.post("/events/{event_id}/participants", response_model=ParticipantOut,
             status_code=201, summary="Register an organisation (idempotent; while open)")
def register(event_id: int, body: ParticipantIn, ctx: UserCtx) -> ParticipantOut:
    org = body.organisation_id if body.organisation_id is not None else ctx.actor.org_id
    if org is None:
        raise ValidationFailed("请指定报名单位 / Name the organisation to register.",
                               data={"field": "organisation_id"})
    row = events.register(ctx.session, ctx.actor, event_id, org, name=body.name,
                          unavailable=body.unavailable)
    return ParticipantOut.model_validate(row)


@router.post("/events/{event_id}/requests", response_model=RequestOut, status_code=201,
             summary="Ask another participant for a 1:1 meeting")
def request_meeting(event_id: int, body: RequestIn, ctx: UserCtx) -> RequestOut:
    req = events.request_meeting(ctx.session, ctx.actor, event_id,
                                 body.requester_participant_id, body.target_participant_id,
                                 priority=body.priority, note=body.note)
    return RequestOut.model_validate(req)


@router.post("/event-requests/{request_id}/response", response_model=RequestOut,
             summary="Accept or decline a meeting request (the asked side)")
def respond(request_id: int, body: ResponseIn, ctx: UserCtx) -> RequestOut:
    return RequestOut.model_validate(events.respond(ctx.session, ctx.actor, request_id,
                                                    body.accept))


@router.post("/events/{event_id}/schedule", response_model=dict[str, Any],
             summary="Schedule the accepted requests (CP-SAT; replaces the event's meetings)")
def run_schedule(event_id: int, body: ScheduleIn, ctx: UserCtx) -> dict[str, Any]:
    return events.run_schedule(ctx.session, ctx.actor, event_id, time_limit=body.time_limit)


@router.get("/events/{event_id}/agenda/{participant_id}", response_model=AgendaOut,
            summary="A participant's agenda: meetings by slot, table and the other party")
def get_agenda(event_id: int, participant_id: int, ctx: CtxDep) -> AgendaOut:
    result = events.agenda(ctx.session, ctx.actor, event_id, participant_id)
    return AgendaOut(
        event=event_out(result.event),
        participant=ParticipantOut.model_validate(result.participant),
        meetings=[AgendaItemOut(slot=i.slot, starts=i.starts, ends=i.ends, table_no=i.table_no,
                                other_participant_id=i.other_id, other_name=i.other_name,
                                requested_by_me=i.requested_by_me, priority=i.priority,
                                note=i.note) for i in result.items],
        unscheduled=result.unscheduled)
