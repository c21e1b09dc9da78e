"""Case meetings (对接会谈): scheduling moves the case, changes bump SEQUENCE, the .ics file."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from luodi.auth.actor import ANONYMOUS
from luodi.docking import meetings
from luodi.docking.meetings import (
    cancel_meeting,
    list_meetings,
    meeting_ics,
    schedule_meeting,
    update_meeting,
)
from luodi.docking.models import CaseEvent, Meeting
from luodi.docking.workflow import IllegalTransition
from luodi.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from tests.docking.case_fixtures import OWNER_CONTACT, SEEKER_CONTACT, as_actor, case_world
from tests.factories import login

BEIJING = dt.timezone(dt.timedelta(hours=8))
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _soon(days: int = 3, hour: int = 14) -> dt.datetime:
    """A time in the future, in Beijing time (the service stores it in UTC)."""
    day = dt.datetime.now(BEIJING).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, 30), tzinfo=BEIJING)


def _count(session, model) -> int:  # type: ignore[no-untyped-def]
    return int(session.scalar(select(func.count()).select_from(model)))


def _events(session, case_id: int) -> list[CaseEvent]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                                .order_by(CaseEvent.id)))


def _vevent(data: bytes):  # type: ignore[no-untyped-def]
    cal = Calendar.from_ical(data)
    assert str(cal["prodid"]) == meetings.PRODID and str(cal["method"]) == "PUBLISH"
    assert str(cal["version"]) == "2.0"
    events = cal.walk("VEVENT")
    assert len(events) == 1
    return events[0]


@pytest.fixture
def world(session, settings):  # type: ignore[no-untyped-def]
    return case_world(session, settings, state="contacts_revealed", idle_days=2)


def test_scheduling_moves_the_case_to_meeting(session, world) -> None:  # type: ignore[no-untyped-def]
    starts = _soon()
    meeting = schedule_meeting(session, as_actor(world.owner.user), world.case.id,
                               starts_at=starts, minutes=90, place="清华科技园 A 座 302",
                               agenda="介绍隔膜中试数据")
    assert meeting.uid.endswith("@luodi") and meeting.sequence == 0
    assert meeting.status == "scheduled" and meeting.starts_at == starts
    assert meeting.starts_at.utcoffset() == dt.timedelta(0)
    assert meeting.ends_at - meeting.starts_at == dt.timedelta(minutes=90)
    session.refresh(world.case)
    assert world.case.state == "meeting"
    trail = _events(session, world.case.id)
    assert [(e.action, e.from_state, e.to_state) for e in trail] == \
        [("meet", "contacts_revealed", "meeting")]
    assert trail[0].detail["meeting_id"] == meeting.id

    # A further meeting from "meeting" is allowed, and the broker may set it up.
    again = schedule_meeting(session, as_actor(world.broker), world.case.id,
                             starts_at=_soon(10), online_url="https://meeting.tencent.com/x/1")
    assert again.uid != meeting.uid
    assert [m.id for m in list_meetings(session, as_actor(world.seeker.user),
                                        world.case.id)] == [meeting.id, again.id]


def test_scheduling_too_early_in_the_workflow_writes_nothing(session, settings) -> None:  # type: ignore[no-untyped-def]
    world = case_world(session, settings, state="interested")
    with pytest.raises(IllegalTransition):
        schedule_meeting(session, as_actor(world.owner.user), world.case.id,
                         starts_at=_soon(), place="线下")
    session.refresh(world.case)
    assert world.case.state == "interested"
    assert _count(session, Meeting) == 0 and _events(session, world.case.id) == []


def test_a_refused_transition_rolls_the_meeting_back(session, world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def refuse(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise Conflict("state changed meanwhile")

    monkeypatch.setattr(meetings.cases, "transition", refuse)
    with pytest.raises(Conflict):
        schedule_meeting(session, as_actor(world.owner.user), world.case.id,
                         starts_at=_soon(), place="线下")
    assert _count(session, Meeting) == 0


@pytest.mark.parametrize("change", [
    {"starts_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)},
    {"starts_at": dt.datetime(2099, 1, 1, 9, 0)},  # noqa: DTZ001 — naive on purpose
    {"minutes": 14}, {"minutes": 481},
    {"place": "  ", "online_url": None},
    {"place": None, "online_url": "javascript:alert(1)"},
    {"place": None, "online_url": "ftp://example.org/room"},
])
def test_bad_meetings_are_refused(session, world, change) -> None:  # type: ignore[no-untyped-def]
    fields = {"starts_at": _soon(), "minutes": 60, "place": "线下", **change}
    with pytest.raises(ValidationFailed):
        schedule_meeting(session, as_actor(world.owner.user), world.case.id, **fields)
    assert _count(session, Meeting) == 0
    session.refresh(world.case)
    assert world.case.state == "contacts_revealed"


def test_outsiders_cannot_see_or_touch_meetings(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    meeting = schedule_meeting(session, as_actor(world.seeker.user), world.case.id,
                               starts_at=_soon(), place="线下")
    outsider = as_actor(world.outsider)
    with pytest.raises(NotFound):
        schedule_meeting(session, outsider, world.case.id, starts_at=_soon(), place="线下")
    for call in (lambda: list_meetings(session, outsider, world.case.id),
                 lambda: update_meeting(session, outsider, meeting.id, place="别处"),
                 lambda: cancel_meeting(session, outsider, meeting.id)):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(NotFound):
        meeting_ics(session, outsider, meeting.id, settings)
    with pytest.raises(NotFound):
        cancel_meeting(session, as_actor(world.owner.user), meeting.id + 999)


def test_the_ics_parses_back_and_names_no_one(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    starts = _soon(hour=9)
    meeting = schedule_meeting(session, as_actor(world.owner.user), world.case.id,
                               starts_at=starts, minutes=45, place="清华科技园 A 座 302",
                               online_url="https://meeting.example.cn/j/7788",
                               agenda="1. 中试数据\n2. 许可方式")
    site = settings.model_copy(update={"base_url": "https://luodi.example.cn/"})
    data = meeting_ics(session, as_actor(world.seeker.user), meeting.id, site)
    event = _vevent(data)
    assert str(event["uid"]) == meeting.uid and int(event.decoded("sequence")) == 0
    assert event.decoded("dtstart") == starts and event.decoded("dtend") == \
        starts + dt.timedelta(minutes=45)
    assert re.search(rb"DTSTART:\d{8}T013000Z", data)  # 09:30 in Beijing is 01:30 UTC
    assert event.decoded("dtstamp").tzinfo is not None
    assert str(event["summary"]) == f"对接会谈 / Docking meeting: {world.achievement.title}"
    assert str(event["location"]) == "清华科技园 A 座 302"
    assert str(event["url"]) == "https://meeting.example.cn/j/7788"
    description = str(event["description"])
    assert "1. 中试数据\n2. 许可方式" in description
    assert f"https://luodi.example.cn/cases/{world.case.id}" in description
    assert str(event["status"]) == "CONFIRMED"

    text = data.decode()
    for contact in (SEEKER_CONTACT, OWNER_CONTACT):
        for value in contact.values():
            assert value not in text
    without_uid = "\n".join(line for line in text.splitlines() if not line.startswith("UID"))
    assert not EMAIL.search(without_uid) and not MOBILE.search(without_uid)
    for prop in ("ORGANIZER", "ATTENDEE", "CONTACT"):
        assert prop not in text


def test_rescheduling_bumps_the_sequence_and_keeps_the_uid(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    actor = as_actor(world.broker)
    meeting = schedule_meeting(session, actor, world.case.id, starts_at=_soon(), place="线下")
    uid, later = meeting.uid, _soon(days=5)
    assert update_meeting(session, actor, meeting.id, place="线下").sequence == 0  # no change
    moved = update_meeting(session, actor, meeting.id, starts_at=later, minutes=30,
                           online_url="https://meeting.example.cn/j/1", agenda=None)
    assert (moved.uid, moved.sequence, moved.starts_at) == (uid, 1, later)
    assert moved.place == "线下" and meeting.ends_at == later + dt.timedelta(minutes=30)
    event = _vevent(meeting_ics(session, actor, meeting.id, settings))
    assert str(event["uid"]) == uid and int(event.decoded("sequence")) == 1
    assert event.decoded("dtstart") == later
    trail = _events(session, world.case.id)
    assert (trail[-1].kind, trail[-1].action, trail[-1].detail["sequence"]) == \
        ("meeting", "reschedule", 1)
    with pytest.raises(ValidationFailed):  # a new time must be in the future too
        update_meeting(session, actor, meeting.id,
                       starts_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    with pytest.raises(ValidationFailed):  # removing the only place of a meeting
        update_meeting(session, actor, meeting.id, online_url=None, place=None)


def test_a_cancelled_meeting_says_so(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    actor = as_actor(world.seeker.user)
    meeting = schedule_meeting(session, actor, world.case.id, starts_at=_soon(), place="线下")
    cancelled = cancel_meeting(session, as_actor(world.owner.user), meeting.id)
    assert (cancelled.status, cancelled.sequence) == ("cancelled", 1)
    assert cancel_meeting(session, actor, meeting.id).sequence == 1  # idempotent
    event = _vevent(meeting_ics(session, actor, meeting.id, settings))
    assert str(event["status"]) == "CANCELLED" and int(event.decoded("sequence")) == 1
    trail = _events(session, world.case.id)
    assert [(e.kind, e.action) for e in trail][-1] == ("meeting", "cancel")
    assert len(trail) == 2
    with pytest.raises(Conflict):
        update_meeting(session, actor, meeting.id, place="别处")


# --- through HTTP -------------------------------------------------------------------------

def _as(client, user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    return {"x-csrf-token": login(client, user.email)}


def test_api_round_trip_with_ics_download(client, session, world) -> None:  # type: ignore[no-untyped-def]
    headers = _as(client, world.seeker.user)
    url = f"/api/v1/cases/{world.case.id}/meetings"
    starts = _soon()
    created = client.post(url, headers=headers, json={
        "starts_at": starts.isoformat(), "minutes": 60, "place": "天津滨海新区某会议室"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["status"], body["sequence"], body["minutes"]) == ("scheduled", 0, 60)
    assert dt.datetime.fromisoformat(body["starts_at"]) == starts
    mid = body["id"]
    assert body["ics_url"] == f"/api/v1/meetings/{mid}.ics"
    assert client.post(url, headers=headers, json={"starts_at": starts.isoformat(),
                                                   "place": "x", "uid": "mine"}).status_code == 422

    ics = client.get(body["ics_url"])
    assert ics.status_code == 200, ics.text
    assert ics.headers["content-type"] == "text/calendar; charset=utf-8"
    assert ics.headers["content-disposition"] == f'attachment; filename="meeting-{mid}.ics"'
    assert str(_vevent(ics.content)["uid"]) == body["uid"]

    headers = _as(client, world.owner.user)
    patched = client.patch(f"/api/v1/meetings/{mid}", headers=headers,
                           json={"minutes": 120, "agenda": "议程"})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["sequence"], patched.json()["minutes"]) == (1, 120)
    listed = client.get(url)
    assert [m["agenda"] for m in listed.json()] == ["议程"]
    cancelled = client.post(f"/api/v1/meetings/{mid}/cancel", headers=headers)
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["sequence"] == 2

    headers = _as(client, world.outsider)
    assert client.get(url).status_code == 404
    assert client.get(f"/api/v1/meetings/{mid}.ics").status_code == 404
    assert client.patch(f"/api/v1/meetings/{mid}", headers=headers,
                        json={"place": "x"}).status_code == 404
    assert client.post(f"/api/v1/meetings/{mid}/cancel", headers=headers).status_code == 404
    client.cookies.clear()
    assert client.get(f"/api/v1/meetings/{mid}.ics").status_code == 401


def test_scheduling_in_the_wrong_state_is_a_409(client, session, settings) -> None:  # type: ignore[no-untyped-def]
    world = case_world(session, settings, state="accepted")
    headers = _as(client, world.owner.user)
    refused = client.post(f"/api/v1/cases/{world.case.id}/meetings", headers=headers,
                          json={"starts_at": _soon().isoformat(), "place": "线下"})
    assert refused.status_code == 409 and refused.json()["code"] == "illegal_transition"
    assert _count(session, Meeting) == 0


def test_anonymous_service_calls_must_log_in(session, world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAuthenticated):
        list_meetings(session, ANONYMOUS, world.case.id)


def test_a_case_walked_through_the_workflow_gets_its_meeting(session, settings) -> None:  # type: ignore[no-untyped-def]
    from luodi.docking import cases
    from tests.push import ledger_factories as lf

    buyer, tto = lf.enterprise_party(session, settings), lf.institution_party(session, settings)
    robot = lf.achievement(session, settings, tto.record)
    seeker, owner = as_actor(buyer.user), as_actor(tto.user)
    case = cases.open_case(session, seeker, kind="achievements", record_id=robot.id)
    with pytest.raises(IllegalTransition):
        schedule_meeting(session, owner, case.id, starts_at=_soon(), place="线下")
    cases.transition(session, owner, case.id, "accept")
    cases.consent_contacts(session, seeker, case.id, name="王经理", email="wang@example.cn")
    cases.consent_contacts(session, owner, case.id, name="李老师", email="li@example.edu.cn")
    meeting = schedule_meeting(session, seeker, case.id, starts_at=_soon(), place="线下")
    session.refresh(case)
    assert case.state == "meeting" and _count(session, Meeting) == 1
    assert _events(session, case.id)[-1].detail == {"meeting_id": meeting.id}


def test_openapi_documents_the_routes(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/openapi.json").json()
    for path in ("/api/v1/cases/{case_id}/messages", "/api/v1/cases/{case_id}/meetings",
                 "/api/v1/meetings/{meeting_id}", "/api/v1/meetings/{meeting_id}.ics",
                 "/api/v1/meetings/{meeting_id}/cancel", "/api/v1/case-reminders",
                 "/api/v1/case-reminders/{reminder_id}/read"):
        assert path in spec["paths"], path
    assert spec["paths"]["/api/v1/cases/{case_id}/meetings"]["post"]["tags"] == ["docking"]
    assert {"CaseMeetingIn", "CaseMeetingOut", "CaseMessageOut", "CaseReminderOut"} <= set(
        spec["components"]["schemas"])
