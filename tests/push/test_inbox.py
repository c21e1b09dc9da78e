"""The recipient's inbox: whose pushes, the non-personalised option, reading and feedback."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from luodi.audit import AuditEvent
from luodi.auth.actor import ANONYMOUS
from luodi.auth.service import actor_for
from luodi.errors import NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from luodi.push import consent, inbox
from tests.factories import make_user
from tests.push import ledger_factories as lf


@pytest.fixture
def world(session, settings):  # type: ignore[no-untyped-def]
    buyer = lf.enterprise_party(session, settings)
    other = lf.enterprise_party(session, settings)
    tto = lf.institution_party(session, settings)
    robot = lf.achievement(session, settings, tto.record)
    wheat = lf.achievement(session, settings, tto.record)
    old, new = lf.cycle(session), lf.cycle(session)
    return {
        "buyer": buyer, "other": other, "tto": tto, "robot": robot, "wheat": wheat,
        "p_old": lf.push(session, old, buyer.record, robot, rank=1),
        "p_new2": lf.push(session, new, buyer.record, wheat, rank=2),
        "p_other": lf.push(session, new, other.record, robot, rank=1),
        "operator": make_user(session, "operator"),
    }


def _actor(party_or_user):  # type: ignore[no-untyped-def]
    return actor_for(getattr(party_or_user, "user", party_or_user))


def _audit(session, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                         AuditEvent.outcome == "success")
                                .order_by(AuditEvent.id)))


def test_inbox_shows_own_organisation_newest_cycle_first(session, world) -> None:  # type: ignore[no-untyped-def]
    lf.announcement(session)
    page = inbox.inbox(session, _actor(world["buyer"]))
    assert [p.id for p in page.items] == [world["p_new2"].id, world["p_old"].id]
    assert page.total == 2 and page.unread == 2 and page.personalised
    assert len(page.announcements) == 1
    assert page.items[0].achievement.institution.name == world["tto"].record.name

    theirs = inbox.inbox(session, _actor(world["other"]))
    assert [p.id for p in theirs.items] == [world["p_other"].id]


def test_inbox_is_refused_to_institutions_anonymous_and_to_peeking(session, world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        inbox.inbox(session, _actor(world["tto"]))
    with pytest.raises(NotAuthenticated):
        inbox.inbox(session, ANONYMOUS)
    with pytest.raises(PermissionDenied):
        inbox.inbox(session, _actor(world["other"]), organisation_id=world["buyer"].org.id)
    staff = inbox.inbox(session, _actor(world["operator"]), organisation_id=world["buyer"].org.id)
    assert staff.total == 2


def test_inbox_filters_and_pages(session, world) -> None:  # type: ignore[no-untyped-def]
    buyer = _actor(world["buyer"])
    inbox.open_push(session, buyer, world["p_old"].id)
    assert [p.id for p in inbox.inbox(session, buyer, unread_only=True).items] == [
        world["p_new2"].id]
    inbox.give_feedback(session, buyer, world["p_old"].id, feedback="relevant")
    assert [p.id for p in inbox.inbox(session, buyer, feedback="relevant").items] == [
        world["p_old"].id]
    assert [p.id for p in inbox.inbox(session, buyer, feedback="none").items] == [
        world["p_new2"].id]
    second = inbox.inbox(session, buyer, page=2, per_page=1)
    assert [p.id for p in second.items] == [world["p_old"].id] and second.total == 2
    with pytest.raises(ValidationFailed):
        inbox.inbox(session, buyer, feedback="bogus")


def test_personalised_off_leaves_only_announcements(session, world) -> None:  # type: ignore[no-untyped-def]
    lf.announcement(session)
    buyer = _actor(world["buyer"])
    consent.set_preferences(session, buyer, personalised=False, email=True,
                            email_max_per_week=None)
    page = inbox.inbox(session, buyer)
    assert page.items == [] and page.total == 0 and page.personalised is False
    assert len(page.announcements) == 1
    assert inbox.unread_count(session, buyer) == 0


def test_open_marks_read_only_for_the_recipient(session, world) -> None:  # type: ignore[no-untyped-def]
    push_id = world["p_old"].id
    inbox.open_push(session, _actor(world["operator"]), push_id)
    assert world["p_old"].read_at is None
    assert inbox.unread_count(session, _actor(world["buyer"])) == 2
    opened = inbox.open_push(session, _actor(world["buyer"]), push_id)
    first = opened.read_at
    assert first is not None
    assert inbox.open_push(session, _actor(world["buyer"]), push_id).read_at == first
    assert inbox.unread_count(session, _actor(world["buyer"])) == 1
    assert inbox.unread_count(session, _actor(world["tto"])) == 0
    with pytest.raises(PermissionDenied):
        inbox.open_push(session, _actor(world["other"]), push_id)
    with pytest.raises(NotFound):
        inbox.open_push(session, _actor(world["buyer"]), 999_999)


@pytest.mark.parametrize(("feedback", "reason", "note", "field"), [
    ("bogus", None, None, "feedback"),
    ("not_relevant", None, None, "reason"),
    ("not_relevant", "made_up", None, "reason"),
    ("not_relevant", "other", "   ", "note"),
    ("not_relevant", "other", "长" * 501, "note"),
])
def test_feedback_validation(session, world, feedback, reason, note, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as err:
        inbox.give_feedback(session, _actor(world["buyer"]), world["p_old"].id,
                            feedback=feedback, reason=reason, note=note)
    assert err.value.data["field"] == field
    assert " / " in err.value.message  # bilingual


def test_feedback_changes_are_audited_and_interest_hooked(session, world) -> None:  # type: ignore[no-untyped-def]
    buyer, push_id = _actor(world["buyer"]), world["p_old"].id
    push = inbox.give_feedback(session, buyer, push_id, feedback="not_relevant",
                               reason="other", note="  已有类似产线  ")
    assert (push.feedback, push.feedback_reason, push.feedback_note) == (
        "not_relevant", "other", "已有类似产线")
    assert push.feedback_by_id == world["buyer"].user.id and push.read_at is not None
    push = inbox.give_feedback(session, buyer, push_id, feedback="interested",
                               reason="too_early", note="ignored")
    assert (push.feedback, push.feedback_reason, push.feedback_note) == ("interested", None, None)
    inbox.give_feedback(session, buyer, push_id, feedback="interested")  # same again: no line
    lines = _audit(session, "push.feedback")
    assert [line.detail["new"]["feedback"] for line in lines] == ["not_relevant", "interested"]
    assert lines[1].detail["old"] == {"feedback": "not_relevant", "reason": "other",
                                      "note": "已有类似产线"}
    interest = _audit(session, "push.interest")
    assert len(interest) == 1 and interest[0].object_id == str(push_id)
    assert interest[0].detail["achievement_id"] == world["robot"].id


def test_only_the_recipient_gives_feedback(session, world) -> None:  # type: ignore[no-untyped-def]
    push_id = world["p_old"].id
    for who in (world["operator"], world["other"], world["tto"]):
        with pytest.raises(PermissionDenied):
            inbox.give_feedback(session, _actor(who), push_id, feedback="relevant")
    with pytest.raises(NotAuthenticated):
        inbox.give_feedback(session, ANONYMOUS, push_id, feedback="relevant")
    session.expire_all()
    assert world["p_old"].feedback is None
