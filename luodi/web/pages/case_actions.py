"""Actions on a docking case page (对接操作): each a CSRF-checked POST calling one service.

Success redirects back to the case (POST-redirect-GET) at the part of the page acted on. A
refusal the person can act on — an illegal transition (409), a rule on the input (422), a part
that may not take the step (403) — re-renders the case page with the message and the form as
sent. Not logged in (401) or not a reader of the case (404) stay error pages, so a case's
existence is never confirmed to outsiders.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from luodi.docking import cases, files, meetings, messages, reminders
from luodi.errors import ValidationFailed
from luodi.landing import deals
from luodi.web.deps import Ctx
from luodi.web.pages.case_page import BEIJING, case_page
from luodi.web.pages.deal_form import form_to_input
from luodi.web.pages.forms import UserFormCtx, act_or_rerender, field, redirect, safe_next

router = APIRouter(prefix="/cases")


def _act(ctx: Ctx, case_id: int, anchor: str, call: Callable[[], object]) -> Response:
    """Run one service call; a correctable refusal re-renders the case page with the message."""
    return act_or_rerender(ctx, call, anchor=anchor, done=f"/cases/{case_id}",
                           page=lambda **kw: case_page(ctx, case_id, **kw))


@router.post("/{case_id}/transition")
def take_action(case_id: int, ctx: UserFormCtx) -> Response:
    """accept, negotiate, agree, close (with a reason): the workflow table decides."""
    return _act(ctx, case_id, "actions", lambda: cases.transition(
        ctx.session, ctx.actor, case_id, field(ctx, "action"), note=field(ctx, "note") or None))


@router.post("/{case_id}/consent")
def consent(case_id: int, ctx: UserFormCtx) -> Response:
    """同意交换联系方式: this side shares a contact; the second consent reveals both."""
    return _act(ctx, case_id, "contacts", lambda: cases.consent_contacts(
        ctx.session, ctx.actor, case_id, name=field(ctx, "name"), email=field(ctx, "email"),
        phone=field(ctx, "phone") or None))


@router.post("/{case_id}/nda")
def record_nda(case_id: int, ctx: UserFormCtx) -> Response:
    return _act(ctx, case_id, "dossier", lambda: cases.record_nda(
        ctx.session, ctx.actor, case_id, note=field(ctx, "note") or None))


@router.post("/{case_id}/deal")
def record_deal(case_id: int, ctx: UserFormCtx) -> Response:
    """登记成交: the deal of an agreed case; the case lands and its page shows the deal."""
    return _act(ctx, case_id, "deal", lambda: deals.record_deal(
        ctx.session, ctx.actor, case_id, form_to_input(ctx.extra["form"])))


def _broker_id(ctx: Ctx) -> int | None:
    raw = field(ctx, "broker_user_id")
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationFailed("请选择一位技术经理人 / Choose a broker.",
                               data={"field": "broker_user_id"})
    return int(raw)


@router.post("/{case_id}/broker")
def assign_broker(case_id: int, ctx: UserFormCtx) -> Response:
    return _act(ctx, case_id, "broker", lambda: cases.assign_broker(
        ctx.session, ctx.actor, case_id, _broker_id(ctx)))


@router.post("/{case_id}/notes")
def add_note(case_id: int, ctx: UserFormCtx) -> Response:
    internal = field(ctx, "internal") not in ("", "0", "false", "off")
    return _act(ctx, case_id, "trail", lambda: cases.add_note(
        ctx.session, ctx.actor, case_id, field(ctx, "note"), internal=internal))


@router.post("/{case_id}/messages")
def post_message(case_id: int, ctx: UserFormCtx) -> Response:
    return _act(ctx, case_id, "messages", lambda: messages.post_message(
        ctx.session, ctx.actor, case_id, field(ctx, "body")))


def _starts_at(ctx: Ctx) -> dt.datetime:
    """The form's date and time, read as Beijing time."""
    try:
        day = dt.date.fromisoformat(field(ctx, "date"))
        time = dt.time.fromisoformat(field(ctx, "time"))
    except ValueError:
        raise ValidationFailed("请填写会谈的日期和时间 / Give the meeting's date and time.",
                               data={"field": "starts_at"}) from None
    return dt.datetime.combine(day, time.replace(tzinfo=None), tzinfo=BEIJING)


def _minutes(ctx: Ctx) -> int:
    raw = field(ctx, "minutes") or "60"
    if not raw.isdigit():
        raise ValidationFailed("时长须为整数分钟 / Give the length in whole minutes.",
                               data={"field": "minutes"})
    return int(raw)


@router.post("/{case_id}/meetings")
def schedule_meeting(case_id: int, ctx: UserFormCtx) -> Response:
    """约定会谈: also moves the case to ``meeting`` (the workflow's meet step)."""
    return _act(ctx, case_id, "meetings", lambda: meetings.schedule_meeting(
        ctx.session, ctx.actor, case_id, starts_at=_starts_at(ctx), minutes=_minutes(ctx),
        place=field(ctx, "place") or None, online_url=field(ctx, "online_url") or None,
        agenda=field(ctx, "agenda") or None))


@router.post("/{case_id}/meetings/{meeting_id}/cancel")
def cancel_meeting(case_id: int, meeting_id: int, ctx: UserFormCtx) -> Response:
    def call() -> Any:
        meeting = meetings.get_meeting(ctx.session, ctx.actor, meeting_id)
        if meeting.case_id != case_id:
            raise ValidationFailed("这个会谈不属于本案件 / The meeting belongs to another case.")
        return meetings.cancel_meeting(ctx.session, ctx.actor, meeting_id)

    return _act(ctx, case_id, "meetings", call)


@router.post("/{case_id}/files")
def upload_file(case_id: int, ctx: UserFormCtx) -> Response:
    """Add a file to the dossier (multipart); read one byte past the limit, no more."""
    upload = ctx.extra["form"].get("file")

    def call() -> Any:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationFailed("请选择一个文件 / Choose a file.", data={"field": "file"})
        data = upload.file.read(ctx.settings.dossier_max_mb * 2**20 + 1)
        return files.upload_file(ctx.session, ctx.actor, ctx.settings, case_id,
                                 filename=upload.filename, data=data,
                                 content_type=upload.content_type or files.FALLBACK_TYPE)

    return _act(ctx, case_id, "dossier", call)


@router.post("/reminders/{reminder_id}/read")
def reminder_read(reminder_id: int, ctx: UserFormCtx) -> Response:
    """Mark a stale-case reminder read (on the case list)."""
    reminders.mark_read(ctx.session, ctx.actor, reminder_id)
    return redirect(safe_next(field(ctx, "next"), "/cases"))
