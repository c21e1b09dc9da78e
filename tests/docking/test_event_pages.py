"""Docking events through HTTP: the API round trip, and the pages in zh-CN and English for
members and organisers, down to the printable agenda with the other parties' names and times."""

from __future__ import annotations

import re

from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from luodi.auth.service import actor_for
from luodi.docking import events
from luodi.docking.models import EventMeeting, EventParticipant, MeetingRequest
from tests.docking.test_events import ask_meeting, make_event_world, register_all
from tests.factories import login, make_org, make_user

API = "/api/v1"


def _as(client, user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Log in as ``user`` (forgetting whoever was logged in); returns the CSRF header."""
    client.cookies.clear()
    return {"x-csrf-token": login(client, user.email)}


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form without csrf_token"
    return match.group(1)


def _post(client, page: str, url: str, data: dict | None = None):  # type: ignore[no-untyped-def]
    token = _csrf(client.get(page).text)
    return client.post(url, data={"csrf_token": token, **(data or {})}, follow_redirects=False)


def _clean(html: str) -> str:
    assert ' style="' not in html and "<script>" not in html and "onclick" not in html
    return html


def test_api_round_trip(client, session) -> None:  # type: ignore[no-untyped-def]
    w = make_event_world(session)
    users = w["users"]
    h = _as(client, users["operator"])
    body = {"title": "路演日", "kind": "roadshow", "held_on": "2026-06-01", "venue": "会议中心",
            "slots": ["14:00", "14:30"], "slot_minutes": 30, "tables": 4}
    created = client.post(f"{API}/events", json=body, headers=h)
    assert created.status_code == 201, created.text
    assert created.json()["slots"][1] == {"index": 1, "starts": "14:30", "ends": "15:00"}
    assert client.post(f"{API}/events", json={**body, "colour": "red"},
                       headers=h).status_code == 422  # extra fields are refused
    event_id = w["event"].id

    ids = {}
    for key in ("ent1", "uni1"):
        h = _as(client, users[key])
        r = client.post(f"{API}/events/{event_id}/participants", json={"unavailable": [2]},
                        headers=h)
        assert r.status_code == 201, r.text
        ids[key] = r.json()["id"]
        again = client.post(f"{API}/events/{event_id}/participants", json={"unavailable": [2]},
                            headers=h)
        assert again.json()["id"] == ids[key]  # idempotent
    h = _as(client, users["ent2"])
    other = client.post(f"{API}/events/{event_id}/participants",
                        json={"organisation_id": users["ent1"].organisation_id}, headers=h)
    assert other.status_code == 403 and other.json()["code"] == "permission_denied"

    h = _as(client, users["ent1"])
    detail = client.get(f"{API}/events/{event_id}").json()
    assert detail["my_participant_id"] == ids["ent1"] and len(detail["participants"]) == 2
    req = client.post(f"{API}/events/{event_id}/requests", headers=h, json={
        "requester_participant_id": ids["ent1"], "target_participant_id": ids["uni1"],
        "priority": 2, "note": "想了解中试条件"})
    assert req.status_code == 201 and req.json()["status"] == "requested"
    dup = client.post(f"{API}/events/{event_id}/requests", headers=h, json={
        "requester_participant_id": ids["ent1"], "target_participant_id": ids["uni1"]})
    assert dup.status_code == 409
    own = client.post(f"{API}/event-requests/{req.json()['id']}/response", headers=h,
                      json={"accept": True})
    assert own.status_code == 403  # the requester cannot accept its own request
    assert client.post(f"{API}/events/{event_id}/schedule", headers=h,
                       json={}).status_code == 403

    h = _as(client, users["uni1"])
    ok = client.post(f"{API}/event-requests/{req.json()['id']}/response", headers=h,
                     json={"accept": True})
    assert ok.status_code == 200 and ok.json()["status"] == "accepted"
    h = _as(client, users["operator"])
    figures = client.post(f"{API}/events/{event_id}/schedule", headers=h,
                          json={"time_limit": 5}).json()
    assert (figures["met"], figures["requested"], figures["greedy"]["met"]) == (1, 1, 1)

    h = _as(client, users["ent1"])
    agenda = client.get(f"{API}/events/{event_id}/agenda/{ids['ent1']}").json()
    item = agenda["meetings"][0]
    assert (item["other_name"], item["requested_by_me"], item["priority"]) == ("东湖大学", True, 2)
    assert item["starts"] in ("09:00", "09:20") and item["table_no"] == 1  # slot 2 was out
    assert client.get(f"{API}/events/{event_id}/agenda/{ids['uni1']}").status_code == 403
    listed = client.get(f"{API}/events").json()
    assert {e["id"] for e in listed} == {event_id, created.json()["id"]}
    assert next(e for e in listed if e["id"] == event_id)["status"] == "scheduled"
    client.cookies.clear()
    assert client.get(f"{API}/events").status_code == 401


def test_member_pages_register_request_answer_in_both_languages(client, session) -> None:  # type: ignore[no-untyped-def]
    w = make_event_world(session)
    users, event_id = w["users"], w["event"].id
    page = f"/events/{event_id}"
    _as(client, users["uni1"])
    home = client.get("/").text
    assert 'href="/events"' in home and 'data-testid="nav-events"' in home
    listing = client.get("/events")
    assert listing.status_code == 200 and "2026 春季成果对接会" in listing.text
    assert 'data-testid="create-event"' not in listing.text  # members do not create events
    first = _clean(client.get(page).text)
    assert 'lang="zh-CN"' in first and 'data-testid="register"' in first
    assert "科技大厦三楼" in first and "09:00–10:00" in first
    assert _post(client, page, f"{page}/register", {"unavailable": "0"}).status_code == 303

    _as(client, users["ent1"])
    assert _post(client, page, f"{page}/register").status_code == 303
    mine = session.scalar(select(EventParticipant).where(
        EventParticipant.organisation_id == users["ent1"].organisation_id))
    uni = session.scalar(select(EventParticipant).where(
        EventParticipant.organisation_id == users["uni1"].organisation_id))
    assert uni.unavailable == [0]
    text = client.get(page).text
    assert 'data-testid="my-registration"' in text and f'<option value="{uni.id}">东湖大学' in text
    sent = _post(client, page, f"{page}/requests", {"requester_id": mine.id,
                                                   "target_id": uni.id, "priority": "2",
                                                   "note": "洽谈样机"})
    assert sent.status_code == 303
    again = _post(client, page, f"{page}/requests", {"requester_id": mine.id,
                                                    "target_id": uni.id})
    assert again.status_code == 409 and 'data-testid="event-error"' in again.text
    req = session.scalar(select(MeetingRequest))
    assert req.priority == 2 and req.note == "洽谈样机"
    hijack = _post(client, page, f"/event-requests/{req.id}/response", {"accept": "yes"})
    assert hijack.status_code == 403

    _as(client, users["uni1"])
    received = client.get(page).text
    assert f'data-request="{req.id}"' in received and "青山机器人公司" in received
    assert _post(client, page, f"/event-requests/{req.id}/response",
                 {"accept": "yes"}).status_code == 303
    session.refresh(req)
    assert req.status == "accepted"
    assert 'data-testid="schedule"' not in received  # organisers only
    assert client.post(f"{page}/schedule", data={"csrf_token": _csrf(received)},
                       follow_redirects=False).status_code == 403
    client.get("/lang/en")
    en = _clean(client.get(page).text)
    assert 'lang="en"' in en and "Requests to us" in en and "Accepted" in en


def test_organiser_schedules_and_agendas_print(client, session) -> None:  # type: ignore[no-untyped-def]
    w = make_event_world(session)
    parts = register_all(session, w, unavailable={"uni2": [0]})
    for who, whom in (("ent1", "uni1"), ("ent1", "uni2"), ("ent2", "uni1"), ("ent2", "uni2")):
        ask_meeting(session, w, parts, who, whom)
    page = f"/events/{w['event'].id}"
    _as(client, w["users"]["operator"])
    listing = client.get("/events").text
    assert 'data-testid="create-event"' in listing
    made = _post(client, "/events", "/events", {
        "title": "秋季路演", "kind": "roadshow", "held_on": "2026-10-10", "venue": "",
        "slots": "14:00，14:30", "slot_minutes": "30", "tables": "3"})
    assert made.status_code == 303 and made.headers["location"].startswith("/events/")
    bad = _post(client, "/events", "/events", {"title": "x", "kind": "roadshow",
                                               "held_on": "2026-10-10", "slots": "14:00,14:10",
                                               "slot_minutes": "30", "tables": "3"})
    assert bad.status_code == 422 and 'role="alert"' in bad.text

    before = _clean(client.get(page).text)
    assert 'data-testid="schedule"' in before and 'data-testid="grid"' not in before
    assert _post(client, page, f"{page}/schedule", {"time_limit": "5"}).status_code == 303
    after = _clean(client.get(page).text)
    assert 'data-testid="grid"' in after and 'data-testid="schedule-figures"' in after
    assert "青山机器人公司" in after and "南山研究院" in after
    assert session.scalar(select(func.count(EventMeeting.id))) == 4
    assert _post(client, page, f"{page}/schedule").status_code == 303  # again: replaced
    assert session.scalar(select(func.count(EventMeeting.id))) == 4

    sheet = _clean(client.get(f"{page}/agenda/{parts['ent1'].id}").text)
    assert 'data-print hidden' in sheet  # shown by luodi.js; no inline script
    assert sheet.count('data-testid="agenda-item"') == 2
    assert "东湖大学" in sheet and "南山研究院" in sheet and "青山机器人公司" in sheet
    times = re.findall(r'agenda-time">(\d\d:\d\d)–(\d\d:\d\d)<', sheet)
    assert len(times) == 2 and all(t in [("09:00", "09:20"), ("09:20", "09:40"),
                                         ("09:40", "10:00")] for t in times)
    all_sheets = client.get(f"{page}/agendas").text
    assert all_sheets.count('data-testid="agenda"') == 4

    _as(client, w["users"]["ent2"])
    assert client.get(f"{page}/agenda/{parts['ent1'].id}").status_code == 403
    assert client.get(f"{page}/agendas").status_code == 403
    own = client.get(f"{page}/agenda/{parts['ent2'].id}")
    assert own.status_code == 200 and 'lang="zh-CN"' in own.text
    client.get("/lang/en")
    en = client.get(f"{page}/agenda/{parts['ent2'].id}").text
    assert 'lang="en"' in en and "Meeting with" in en and "Print" in en
    assert "东湖大学" in en and "南山研究院" in en
    client.cookies.clear()
    assert client.get("/events", follow_redirects=False).status_code == 303  # to the login


def test_event_pages_query_count_does_not_grow_with_participants(app, client, session) -> None:  # type: ignore[no-untyped-def]
    w = make_event_world(session, tables=10)
    parts = register_all(session, w)
    ask_meeting(session, w, parts, "ent1", "uni1")
    events.run_schedule(session, w["actors"]["operator"], w["event"].id, time_limit=5)
    page = f"/events/{w['event'].id}"
    urls = ((w["users"]["operator"], page), (w["users"]["operator"], f"{page}/agendas"),
            (w["users"]["uni1"], page), (w["users"]["ent1"], f"{page}/agenda/{parts['ent1'].id}"))
    seen: list[str] = []

    def count(*_args) -> None:  # type: ignore[no-untyped-def]
        seen.append("q")

    def queries() -> list[int]:
        counts = []
        for user, url in urls:
            _as(client, user)
            seen.clear()
            assert client.get(url).status_code == 200, url
            counts.append(len(seen))
        return counts

    engine = app.state.db.engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        before = queries()
        reopened = session.merge(w["event"])
        reopened.status = "open"  # let more organisations register
        session.commit()
        for n in range(6):
            user = make_user(session, "enterprise_member",
                             org=make_org(session, "enterprise", name=f"后来企业{n}"))
            me = events.register(session, actor_for(user), w["event"].id, user.organisation_id)
            for host in ("uni1", "uni2"):
                req = events.request_meeting(session, actor_for(user), w["event"].id, me.id,
                                             parts[host].id)
                events.respond(session, w["actors"][host], req.id, True)
        events.run_schedule(session, w["actors"]["operator"], w["event"].id, time_limit=5)
        assert queries() == before
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
