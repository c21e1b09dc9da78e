"""API: a docking case's messages and meetings (with their .ics), and stale-case reminders.

Handlers only shape what :mod:`luodi.docking.messages`, :mod:`luodi.docking.meetings` and
:mod:`luodi.docking.reminders` return; the services check who may act (a case someone may not
read is a 404, never a 403) and commit.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from luodi.docking import meetings, messages, reminders
from luodi.docking.models import CaseMessage, CaseReminder, Meeting
from luodi.web.deps import CtxDep, UserCtx

router = APIRouter(tags=["docking"])


# --- shapes -------------------------------------------------------------------------------

class CaseMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(max_length=20000, description=f"1–{messages.MAX_BODY} characters "
                      "once stripped")


class CaseMessageOut(BaseModel):
    id: int
    case_id: int
    author_label: str = Field(description="The author's part in the case, never a name")
    mine: bool = Field(description="Written by the caller")
    body: str
    at: dt.datetime


class CaseMeetingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    starts_at: dt.datetime = Field(description="With a time zone; in the future")
    minutes: int = Field(60, description=f"{meetings.MIN_MINUTES}–{meetings.MAX_MINUTES}")
    place: str | None = Field(None, description="A place, or give online_url (or both)")
    online_url: str | None = Field(None, description="An http(s) link to the online room")
    agenda: str | None = None


class CaseMeetingPatch(BaseModel):
    """Only the fields sent change; send null to clear place, online_url or agenda."""

    model_config = ConfigDict(extra="forbid")
    starts_at: dt.datetime | None = None
    minutes: int | None = None
    place: str | None = None
    online_url: str | None = None
    agenda: str | None = None


class CaseMeetingOut(BaseModel):
    id: int
    case_id: int
    uid: str = Field(description="iCalendar UID: stays the same across changes")
    sequence: int = Field(description="iCalendar SEQUENCE: bumped on every change")
    status: str = Field(description="scheduled | held | cancelled")
    starts_at: dt.datetime
    ends_at: dt.datetime
    minutes: int
    place: str | None
    online_url: str | None
    agenda: str | None
    created_at: dt.datetime
    ics_url: str


class CaseReminderOut(BaseModel):
    id: int
    case_id: int
    case_url: str
    due_on: dt.date
    message: str = Field(description="Bilingual (zh-CN / en)")
    created_at: dt.datetime
    read: bool


def _message_out(message: CaseMessage, user_id: int | None) -> CaseMessageOut:
    return CaseMessageOut(id=message.id, case_id=message.case_id, author_label=message.author_label,
                      mine=user_id is not None and message.author_id == user_id,
                      body=message.body, at=message.at)


def meeting_out(meeting: Meeting) -> CaseMeetingOut:
    """One meeting as the API shows it (the pages reuse this)."""
    return CaseMeetingOut(id=meeting.id, case_id=meeting.case_id, uid=meeting.uid,
                      sequence=meeting.sequence, status=meeting.status,
                      starts_at=meeting.starts_at, ends_at=meeting.ends_at,
                      minutes=meetings.minutes_of(meeting), place=meeting.place,
                      online_url=meeting.online_url, agenda=meeting.agenda,
                      created_at=meeting.created_at,
                      ics_url=f"/api/v1/meetings/{meeting.id}.ics")


def _reminder_out(reminder: CaseReminder) -> CaseReminderOut:
    return CaseReminderOut(id=reminder.id, case_id=reminder.case_id,
                       case_url=f"/cases/{reminder.case_id}", due_on=reminder.due_on,
                       message=reminder.message, created_at=reminder.created_at,
                       read=reminder.read_at is not None)


# --- messages -----------------------------------------------------------------------------

@router.get("/cases/{case_id}/messages", response_model=list[CaseMessageOut],
            summary="A case's messages, oldest first")
def list_messages(case_id: int, ctx: CtxDep) -> list[CaseMessageOut]:
    return [_message_out(m, ctx.actor.user_id)
            for m in messages.list_messages(ctx.session, ctx.actor, case_id)]


@router.post("/cases/{case_id}/messages", response_model=CaseMessageOut, status_code=201,
             summary="Write to the other party (and the broker)")
def post_message(case_id: int, body: CaseMessageIn, ctx: UserCtx) -> CaseMessageOut:
    message = messages.post_message(ctx.session, ctx.actor, case_id, body.body)
    return _message_out(message, ctx.actor.user_id)


# --- meetings -----------------------------------------------------------------------------

@router.get("/cases/{case_id}/meetings", response_model=list[CaseMeetingOut],
            summary="A case's meetings, soonest first")
def list_meetings(case_id: int, ctx: CtxDep) -> list[CaseMeetingOut]:
    return [meeting_out(m) for m in meetings.list_meetings(ctx.session, ctx.actor, case_id)]


@router.post("/cases/{case_id}/meetings", response_model=CaseMeetingOut, status_code=201,
             summary="Schedule a meeting (moves the case to 'meeting')")
def schedule_meeting(case_id: int, body: CaseMeetingIn, ctx: UserCtx) -> CaseMeetingOut:
    meeting = meetings.schedule_meeting(ctx.session, ctx.actor, case_id,
                                        **body.model_dump())
    return meeting_out(meeting)


@router.get("/meetings/{meeting_id}.ics", summary="The meeting as an iCalendar file",
            response_class=Response,
            responses={200: {"content": {"text/calendar": {}}}})
def meeting_ics(meeting_id: int, ctx: CtxDep) -> Response:
    content = meetings.meeting_ics(ctx.session, ctx.actor, meeting_id, ctx.settings)
    return Response(content=content, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="meeting-{meeting_id}.ics"'})


@router.patch("/meetings/{meeting_id}", response_model=CaseMeetingOut,
              summary="Reschedule or amend a meeting (bumps its SEQUENCE)")
def update_meeting(meeting_id: int, body: CaseMeetingPatch, ctx: UserCtx) -> CaseMeetingOut:
    changes = body.model_dump(exclude_unset=True)
    # starts_at and minutes cannot be cleared: a null for them means "leave as is".
    for name in ("starts_at", "minutes"):
        if changes.get(name, 0) is None:
            del changes[name]
    return meeting_out(meetings.update_meeting(ctx.session, ctx.actor, meeting_id, **changes))


@router.post("/meetings/{meeting_id}/cancel", response_model=CaseMeetingOut,
             summary="Cancel a meeting (idempotent)")
def cancel_meeting(meeting_id: int, ctx: UserCtx) -> CaseMeetingOut:
    return meeting_out(meetings.cancel_meeting(ctx.session, ctx.actor, meeting_id))


# --- stale-case reminders -----------------------------------------------------------------

@router.get("/case-reminders", response_model=list[CaseReminderOut],
            summary="My reminders about stale docking cases, newest first")
def list_reminders(ctx: CtxDep, unread_only: bool = False) -> list[CaseReminderOut]:
    return [_reminder_out(r) for r in reminders.list_reminders(ctx.session, ctx.actor,
                                                                unread_only=unread_only)]


@router.post("/case-reminders/{reminder_id}/read", response_model=CaseReminderOut,
             summary="Mark one of my reminders read")
def mark_reminder_read(reminder_id: int, ctx: UserCtx) -> CaseReminderOut:
    return _reminder_out(reminders.mark_read(ctx.session, ctx.actor, reminder_id))
