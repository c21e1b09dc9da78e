"""Reports: cycles for operators, reach and "why passed" for institutions, counted from rows."""

from __future__ import annotations

import pytest

from luodi.auth.service import actor_for
from luodi.db import utcnow
from luodi.errors import NotFound, PermissionDenied
from luodi.push import inbox, reports
from luodi.push.ledger import OutboxMessage
from tests.factories import make_user
from tests.push import ledger_factories as lf


@pytest.fixture
def world(session, settings):  # type: ignore[no-untyped-def]
    """Three enterprises pushed two achievements of one institution; one of another."""
    tto, rival = lf.institution_party(session, settings), lf.institution_party(session, settings)
    firms = [lf.enterprise_party(session, settings) for _ in range(3)]
    robot = lf.achievement(session, settings, tto.record)
    wheat = lf.achievement(session, settings, tto.record)
    never = lf.achievement(session, settings, tto.record)
    theirs = lf.achievement(session, settings, rival.record)
    c = lf.cycle(session, figures={"uncovered_ids": [never.id]})
    pushes = {(i, "robot"): lf.push(session, c, f.record, robot, rank=1)
              for i, f in enumerate(firms)}
    pushes[0, "wheat"] = lf.push(session, c, firms[0].record, wheat, rank=2)
    pushes[1, "theirs"] = lf.push(session, c, firms[1].record, theirs, rank=2)
    return {"tto": tto, "rival": rival, "firms": firms, "robot": robot, "wheat": wheat,
            "never": never, "cycle": c, "pushes": pushes,
            "operator": make_user(session, "operator")}


def _say(session, world, firm: int, item: str, feedback: str, reason=None, note=None):  # type: ignore[no-untyped-def]
    actor = actor_for(world["firms"][firm].user)
    inbox.give_feedback(session, actor, world["pushes"][firm, item].id, feedback=feedback,
                        reason=reason, note=note)


def test_institution_view_aggregates_reach_and_why_passed(session, world) -> None:  # type: ignore[no-untyped-def]
    _say(session, world, 0, "robot", "interested")
    _say(session, world, 1, "robot", "not_relevant", "other", "我们只做农业")
    _say(session, world, 2, "robot", "not_relevant", "too_costly")
    _say(session, world, 0, "wheat", "not_relevant", "too_costly")
    _say(session, world, 1, "theirs", "not_relevant", "other", "别家的说明")

    view = reports.institution_view(session, actor_for(world["tto"].user),
                                    world["tto"].record.id)
    assert [r.achievement.id for r in view.achievements] == [world["robot"].id, world["wheat"].id]
    robot = view.achievements[0]
    assert robot.counts == {"pushed": 3, "read": 3, "relevant": 0, "not_relevant": 2,
                            "interested": 1, "no_reply": 0}
    assert [e.id for e in robot.interested_enterprises] == [world["firms"][0].record.id]
    assert view.achievements[1].counts["not_relevant"] == 1
    assert view.why_passed == {"wrong_field": 0, "too_early": 0, "too_costly": 2, "have_it": 0,
                               "too_far": 0, "not_now": 0, "other": 1}
    assert view.notes == ["我们只做农业"]
    assert view.totals == {"pushed": 4, "read": 4, "relevant": 0, "not_relevant": 3,
                           "interested": 1, "no_reply": 0}


def test_institution_view_refused_to_others(session, world) -> None:  # type: ignore[no-untyped-def]
    inst_id = world["tto"].record.id
    for who in (world["rival"].user, world["firms"][0].user):
        with pytest.raises(PermissionDenied):
            reports.institution_view(session, actor_for(who), inst_id)
    staff = reports.institution_view(session, actor_for(world["operator"]), inst_id)
    assert staff.totals["pushed"] == 4
    with pytest.raises(NotFound):
        reports.institution_view(session, actor_for(world["operator"]), 999_999)


def test_institution_view_of_an_unpushed_institution_is_empty(session, settings) -> None:  # type: ignore[no-untyped-def]
    quiet = lf.institution_party(session, settings)
    lf.achievement(session, settings, quiet.record)
    view = reports.institution_view(session, actor_for(quiet.user), quiet.record.id)
    assert view.achievements == [] and view.notes == [] and view.totals["pushed"] == 0
    assert set(view.why_passed.values()) == {0}


def test_cycle_detail_counts_deliveries_feedback_and_uncovered(session, world) -> None:  # type: ignore[no-untyped-def]
    c, firms = world["cycle"], world["firms"]
    for i, (channel, status) in enumerate([("email", "sent"), ("email", "sent"),
                                           ("email", "suppressed"), ("webhook", "failed")]):
        session.add(OutboxMessage(key=f"{channel}:{c.id}:{i}", channel=channel, cycle_id=c.id,
                                  status=status, next_attempt_at=utcnow()))
    session.commit()
    _say(session, world, 0, "robot", "relevant")
    operator = actor_for(world["operator"])

    detail = reports.cycle_detail(session, operator, c.id)
    assert detail.deliveries == {"email": {"sent": 2, "suppressed": 1},
                                 "webhook": {"failed": 1},
                                 "inbox": {"delivered": 5, "read": 1}}
    assert detail.feedback == {"relevant": 1, "not_relevant": 0, "interested": 0, "no_reply": 4}
    assert [a.id for a in detail.uncovered] == [world["never"].id]
    rows = {r.enterprise.id: r for r in detail.recipients}
    assert len(rows) == 3 and rows[firms[0].record.id].organisation_id == firms[0].org.id
    assert [p.rank for p in rows[firms[0].record.id].pushes] == [1, 2]
    assert [x.id for x in reports.list_cycles(session, operator)] == [c.id]


def test_cycles_are_for_staff(session, world) -> None:  # type: ignore[no-untyped-def]
    buyer = actor_for(world["firms"][0].user)
    with pytest.raises(PermissionDenied):
        reports.list_cycles(session, buyer)
    with pytest.raises(PermissionDenied):
        reports.cycle_detail(session, buyer, world["cycle"].id)
    with pytest.raises(NotFound):
        reports.cycle_detail(session, actor_for(world["operator"]), 999_999)
