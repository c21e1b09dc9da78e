"""Docking events (对接会): who may do what, idempotent registration, requests and answers,
the schedule replaced (never duplicated) in the database, and agendas."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import func, select

from luodi.audit import AuditEvent
from luodi.auth.actor import Actor
from luodi.auth.service import actor_for
from luodi.docking import events
from luodi.docking.models import EventMeeting, EventParticipant, MeetingRequest
from luodi.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from tests.factories import make_org, make_user

SLOTS = ["09:00", "09:20", "09:40"]


def make_event_world(session, *, tables: int = 2) -> dict:  # type: ignore[no-untyped-def]
    """An open event, two enterprises and two institutions each with a member, an operator."""
    people = {"operator": make_user(session, "operator")}
    for key, role, kind, name in (("ent1", "enterprise_member", "enterprise", "青山机器人公司"),
                                  ("ent2", "enterprise_member", "enterprise", "绿水新材料公司"),
                                  ("uni1", "institution_member", "institution", "东湖大学"),
                                  ("uni2", "institution_member", "institution", "南山研究院")):
        people[key] = make_user(session, role, org=make_org(session, kind, name=name))
    actors = {k: actor_for(u) for k, u in people.items()}
    event = events.create_event(session, actors["operator"], title="2026 春季成果对接会",
                                kind="matchmaking", held_on=dt.date(2026, 4, 18),
                                venue="科技大厦三楼", slots=SLOTS, slot_minutes=20,
                                tables=tables, description="一对一洽谈")
    return {"users": people, "actors": actors, "event": event}


def register_all(session, w, unavailable=None) -> dict[str, EventParticipant]:  # type: ignore[no-untyped-def]
    unavailable = unavailable or {}
    return {k: events.register(session, w["actors"][k], w["event"].id,
                               w["users"][k].organisation_id, unavailable=unavailable.get(k, ()))
            for k in ("ent1", "ent2", "uni1", "uni2")}


def ask_meeting(session, w, parts, who: str, whom: str, *, accept: bool | None = True,  # type: ignore[no-untyped-def]
         priority: int = 1) -> MeetingRequest:
    req = events.request_meeting(session, w["actors"][who], w["event"].id, parts[who].id,
                                 parts[whom].id, priority=priority, note=f"{who}→{whom}")
    if accept is not None:
        events.respond(session, w["actors"][whom], req.id, accept)
    return req


def _audited(session, action: str) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == action, AuditEvent.outcome == "success")) or 0


@pytest.fixture
def w(session):  # type: ignore[no-untyped-def]
    return make_event_world(session)


def test_only_staff_create_events_and_slots_are_checked(session, w) -> None:  # type: ignore[no-untyped-def]
    assert w["event"].status == "open" and w["event"].slots == SLOTS
    assert _audited(session, "events.create") == 1
    args = {"title": "路演", "kind": "roadshow", "held_on": dt.date(2026, 5, 1), "venue": None,
            "slot_minutes": 20, "tables": 3}
    with pytest.raises(PermissionDenied):
        events.create_event(session, w["actors"]["ent1"], slots=SLOTS, **args)
    for bad in ([], ["9:00"], ["09:00", "09:10"], ["09:40", "09:00"], ["25:00"]):
        with pytest.raises(ValidationFailed):
            events.create_event(session, w["actors"]["operator"], slots=bad, **args)
    with pytest.raises(ValidationFailed):
        events.create_event(session, w["actors"]["operator"], slots=SLOTS,
                            **{**args, "kind": "party"})
    listed = events.list_events(session, w["actors"]["ent1"])
    assert [e.id for e in listed] == [w["event"].id]
    with pytest.raises(NotFound):
        events.get_event(session, w["actors"]["ent1"], 999999)


def test_registration_is_idempotent_and_for_ones_own_organisation(session, w) -> None:  # type: ignore[no-untyped-def]
    ent1, event = w["actors"]["ent1"], w["event"]
    first = events.register(session, ent1, event.id, ent1.org_id, unavailable=[2])
    again = events.register(session, ent1, event.id, ent1.org_id, unavailable=[2])
    assert first.id == again.id and first.name == "青山机器人公司" and first.unavailable == [2]
    assert session.scalar(select(func.count(EventParticipant.id))) == 1
    assert _audited(session, "events.register") == 1  # nothing changed the second time
    changed = events.register(session, ent1, event.id, ent1.org_id, name="青山机器人（展位 A3）")
    assert changed.id == first.id and changed.unavailable == []
    with pytest.raises(PermissionDenied):  # someone else's organisation
        events.register(session, ent1, event.id, w["actors"]["uni1"].org_id)
    with pytest.raises(NotAuthenticated):
        events.register(session, Actor(), event.id, ent1.org_id)
    with pytest.raises(ValidationFailed):
        events.register(session, ent1, event.id, ent1.org_id, unavailable=[3])
    by_staff = events.register(session, w["actors"]["operator"], event.id,
                               w["actors"]["uni1"].org_id)
    assert by_staff.user_id is None and by_staff.name == "东湖大学"


def test_requests_answers_and_who_may_give_them(session, w) -> None:  # type: ignore[no-untyped-def]
    parts = register_all(session, w)
    a = w["actors"]
    req = ask_meeting(session, w, parts, "ent1", "uni1", accept=None, priority=2)
    assert (req.status, req.priority, req.note) == ("requested", 2, "ent1→uni1")
    with pytest.raises(PermissionDenied):  # on behalf of another participant
        events.request_meeting(session, a["ent2"], w["event"].id, parts["ent1"].id,
                               parts["uni2"].id)
    with pytest.raises(ValidationFailed):
        events.request_meeting(session, a["ent1"], w["event"].id, parts["ent1"].id,
                               parts["ent1"].id)
    with pytest.raises(Conflict):  # the same pair again, in either direction
        events.request_meeting(session, a["ent1"], w["event"].id, parts["ent1"].id,
                               parts["uni1"].id)
    with pytest.raises(Conflict):
        events.request_meeting(session, a["uni1"], w["event"].id, parts["uni1"].id,
                               parts["ent1"].id)
    with pytest.raises(ValidationFailed):
        events.request_meeting(session, a["ent1"], w["event"].id, parts["ent1"].id,
                               parts["uni2"].id, priority=5)
    for outsider in ("ent1", "ent2", "uni2"):  # only the asked side answers
        with pytest.raises(PermissionDenied):
            events.respond(session, a[outsider], req.id, True)
    assert events.respond(session, a["uni1"], req.id, True).status == "accepted"
    assert events.respond(session, a["operator"], req.id, False).status == "declined"
    with pytest.raises(NotFound):
        events.respond(session, a["uni1"], 999999, True)
    view = events.participation(session, a["uni1"], w["event"].id)
    assert view.mine.id == parts["uni1"].id and [r.id for r in view.received] == [req.id]
    assert view.sent == [] and view.names[parts["ent1"].id] == "青山机器人公司"


def test_only_staff_schedule_and_a_rerun_replaces_the_meetings(session, w) -> None:  # type: ignore[no-untyped-def]
    parts = register_all(session, w, unavailable={"uni2": [0]})
    for who, whom in (("ent1", "uni1"), ("ent1", "uni2"), ("ent2", "uni1"), ("ent2", "uni2"),
                      ("uni1", "uni2")):
        ask_meeting(session, w, parts, who, whom)
    ask_meeting(session, w, parts, "ent1", "ent2", accept=False)
    with pytest.raises(PermissionDenied):
        events.run_schedule(session, w["actors"]["ent1"], w["event"].id)
    figures = events.run_schedule(session, w["actors"]["operator"], w["event"].id, time_limit=5)
    # 南山研究院 misses slot 0, so only two of its three meetings fit: 4 of 5 is the optimum.
    assert (figures["requested"], figures["met"], figures["status"]) == (5, 4, "OPTIMAL")
    assert figures["greedy"]["met"] <= figures["met"] and figures["capacity"] == 6
    again = events.run_schedule(session, w["actors"]["operator"], w["event"].id, time_limit=5)
    meetings = list(session.scalars(select(EventMeeting)))
    assert len(meetings) == again["met"] == 4  # replaced, not added to
    requests = {r.id: r for r in session.scalars(select(MeetingRequest))}
    busy = Counter((p, m.slot) for m in meetings
                   for p in (requests[m.request_id].requester_id, requests[m.request_id].target_id))
    assert max(busy.values()) == 1  # nobody double-booked
    assert max(Counter((m.slot, m.table_no) for m in meetings).values()) == 1
    assert all(m.slot != 0 for m in meetings if parts["uni2"].id in (
        requests[m.request_id].requester_id, requests[m.request_id].target_id))
    assert all(requests[m.request_id].status == "accepted" for m in meetings)
    session.refresh(w["event"])
    assert w["event"].status == "scheduled" and w["event"].schedule_figures["met"] == 4
    assert _audited(session, "events.schedule") == 2
    with pytest.raises(Conflict):  # registration closes once scheduled…
        events.register(session, w["actors"]["operator"], w["event"].id,
                        make_org(session, "enterprise").id)
    same = events.register(session, w["actors"]["ent1"], w["event"].id,  # …a repeat is no change
                           w["actors"]["ent1"].org_id)
    assert same.id == parts["ent1"].id


def test_agendas_show_the_other_party_and_times_to_the_right_people(session, w) -> None:  # type: ignore[no-untyped-def]
    parts = register_all(session, w)
    ask_meeting(session, w, parts, "ent1", "uni1", priority=2)
    ask_meeting(session, w, parts, "uni2", "ent1")
    events.run_schedule(session, w["actors"]["operator"], w["event"].id, time_limit=5)
    mine = events.agenda(session, w["actors"]["ent1"], w["event"].id, parts["ent1"].id)
    assert [i.other_name for i in mine.items] in (["东湖大学", "南山研究院"],
                                                  ["南山研究院", "东湖大学"])
    assert [i.slot for i in mine.items] == sorted(i.slot for i in mine.items)
    first = mine.items[0]
    assert (first.starts, first.ends) == tuple(events.slot_times(w["event"])[first.slot])
    assert {i.requested_by_me for i in mine.items} == {True, False}
    assert mine.unscheduled == []
    host = events.agenda(session, w["actors"]["uni1"], w["event"].id, parts["uni1"].id)
    assert [i.other_name for i in host.items] == ["青山机器人公司"]
    with pytest.raises(PermissionDenied):  # another organisation's agenda
        events.agenda(session, w["actors"]["ent2"], w["event"].id, parts["ent1"].id)
    staff = events.agenda(session, w["actors"]["operator"], w["event"].id, parts["ent1"].id)
    assert len(staff.items) == 2
    with pytest.raises(PermissionDenied):
        events.agendas(session, w["actors"]["ent1"], w["event"].id)
    assert len(events.agendas(session, w["actors"]["operator"], w["event"].id)) == 4


def test_declining_a_scheduled_meeting_frees_it_and_overview_grid(session, w) -> None:  # type: ignore[no-untyped-def]
    parts = register_all(session, w)
    req = ask_meeting(session, w, parts, "ent1", "uni1")
    ask_meeting(session, w, parts, "ent2", "uni1")
    ask_meeting(session, w, parts, "ent2", "uni2", accept=None)
    events.run_schedule(session, w["actors"]["operator"], w["event"].id, time_limit=5)
    overview = events.event_overview(session, w["actors"]["operator"], w["event"].id)
    assert {k: len(v) for k, v in overview.requests.items()} == {
        "requested": 1, "accepted": 2, "declined": 0}
    assert len(overview.grid) == 3 and all(len(row) == 2 for row in overview.grid)
    assert sum(cell is not None for row in overview.grid for cell in row) == 2
    with pytest.raises(PermissionDenied):
        events.event_overview(session, w["actors"]["uni1"], w["event"].id)
    events.respond(session, w["actors"]["uni1"], req.id, False)
    assert session.scalar(select(func.count(EventMeeting.id))) == 1
    later = events.agenda(session, w["actors"]["uni1"], w["event"].id, parts["uni1"].id)
    assert [i.other_name for i in later.items] == ["绿水新材料公司"]


def test_a_full_event_leaves_accepted_requests_unscheduled(session) -> None:  # type: ignore[no-untyped-def]
    w = make_event_world(session, tables=1)
    parts = register_all(session, w)
    for who, whom in (("ent1", "uni1"), ("ent1", "uni2"), ("ent2", "uni1"), ("ent2", "uni2")):
        ask_meeting(session, w, parts, who, whom)
    ask_meeting(session, w, parts, "uni1", "uni2")
    figures = events.run_schedule(session, w["actors"]["operator"], w["event"].id, time_limit=5)
    assert figures["met"] == 3 and figures["capacity"] == 3  # one table, three slots
    waiting = sum(len(a.unscheduled) for a in events.agendas(
        session, w["actors"]["operator"], w["event"].id))
    assert waiting == 2 * (5 - 3)  # each unplaced request shows on both parties' agendas
