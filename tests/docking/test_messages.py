"""Case messages (对接留言): who may write and read them, what they are signed with, the trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from luodi.auth.actor import ANONYMOUS
from luodi.docking.messages import PART_LABELS, list_messages, post_message
from luodi.docking.models import CaseEvent, CaseMessage
from luodi.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from tests.docking.case_fixtures import as_actor, case_world
from tests.factories import login


@pytest.fixture
def world(session, settings):  # type: ignore[no-untyped-def]
    return case_world(session, settings, state="accepted", idle_days=3)


def test_parties_broker_and_staff_write_and_read(session, world) -> None:  # type: ignore[no-untyped-def]
    before = world.case.last_event_at
    writers = [world.seeker.user, world.owner.user, world.broker, world.operator]
    for n, user in enumerate(writers):
        post_message(session, as_actor(user), world.case.id, f"  第{n}条留言 / message {n}  ")
    for user in writers:
        got = list_messages(session, as_actor(user), world.case.id)
        assert [m.body for m in got] == [f"第{n}条留言 / message {n}" for n in range(4)]
    labels = [m.author_label for m in list_messages(session, as_actor(world.operator),
                                                     world.case.id)]
    assert labels == list(PART_LABELS.values())
    # Signed by part, never by who they are: no name, no e-mail address.
    assert not any("@" in label for label in labels)
    session.refresh(world.case)
    assert world.case.last_event_at > before


def test_the_trail_notes_the_message_but_not_its_body(session, world) -> None:  # type: ignore[no-untyped-def]
    message = post_message(session, as_actor(world.seeker.user), world.case.id,
                           "我们的报价是 120 万元")
    events = list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == world.case.id)))
    assert [(e.kind, e.detail) for e in events] == [("message", {"message_id": message.id})]
    assert events[0].note is None and events[0].internal is False
    assert "120" not in repr([(e.note, e.detail) for e in events])


def test_outsiders_and_anonymous_are_refused(session, world) -> None:  # type: ignore[no-untyped-def]
    outsider = as_actor(world.outsider)
    with pytest.raises(NotFound):
        post_message(session, outsider, world.case.id, "你好")
    with pytest.raises(NotFound):
        list_messages(session, outsider, world.case.id)
    with pytest.raises(NotAuthenticated):
        list_messages(session, ANONYMOUS, world.case.id)
    with pytest.raises(NotFound):
        post_message(session, as_actor(world.seeker.user), world.case.id + 999, "你好")
    assert session.scalar(select(CaseMessage.id)) is None


@pytest.mark.parametrize("body", ["", "   \n\t ", "字" * 5001])
def test_a_body_is_one_to_five_thousand_characters(session, world, body) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed):
        post_message(session, as_actor(world.seeker.user), world.case.id, body)
    longest = post_message(session, as_actor(world.seeker.user), world.case.id,
                           " " + "字" * 5000 + " ")
    assert len(longest.body) == 5000


def test_no_messages_on_a_closed_case(session, settings) -> None:  # type: ignore[no-untyped-def]
    world = case_world(session, settings, state="closed")
    with pytest.raises(Conflict):
        post_message(session, as_actor(world.owner.user), world.case.id, "还在吗？")
    assert list_messages(session, as_actor(world.owner.user), world.case.id) == []


# --- through HTTP -------------------------------------------------------------------------

def _as(client, user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    return {"x-csrf-token": login(client, user.email)}


def test_api_round_trip(client, world) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/v1/cases/{world.case.id}/messages"
    headers = _as(client, world.seeker.user)
    created = client.post(url, json={"body": " 方便下周来实验室看看吗？ "}, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["body"] == "方便下周来实验室看看吗？" and body["mine"] is True
    assert body["author_label"] == PART_LABELS["seeker"]
    assert client.post(url, json={"body": "x", "author_id": 1},
                       headers=headers).status_code == 422
    assert client.post(url, json={"body": "   "}, headers=headers).status_code == 422

    _as(client, world.broker)
    listed = client.get(url)
    assert listed.status_code == 200
    assert [(m["body"], m["mine"]) for m in listed.json()] == [("方便下周来实验室看看吗？", False)]

    headers = _as(client, world.outsider)
    assert client.get(url).status_code == 404
    refused = client.post(url, json={"body": "你好"}, headers=headers)
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"

    client.cookies.clear()
    assert client.get(url).status_code == 401
    assert client.post(url, json={"body": "你好"}).status_code == 401
