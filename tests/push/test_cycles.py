"""Push cycles end to end on a small world: plan, ledger, outbox, consent and the exports."""

from __future__ import annotations

import csv
from collections import Counter

import pytest
from sqlalchemy import func, select

from luodi.audit import AuditEvent
from luodi.auth.actor import system_actor
from luodi.auth.service import actor_for
from luodi.errors import PermissionDenied
from luodi.push import consent
from luodi.push.cycles import run_cycle
from luodi.push.exports import PUSH_HEADERS, export_judgments, export_pushes
from luodi.push.inbox import give_feedback
from luodi.push.ledger import Announcement, OutboxMessage, Push, PushCycle, PushPreference
from luodi.push.webhooks import create_endpoint
from tests.push.world import build, loose

KEYS = {"cycle", "pushes", "recipients", "cap_per_recipient", "coverage", "exposure_gini",
        "mean_score", "greedy"}


@pytest.fixture
def world(session, settings):  # type: ignore[no-untyped-def]
    return build(session, settings)


def _pairs(session):  # type: ignore[no-untyped-def]
    return Counter((p.enterprise_id, p.achievement_id) for p in session.scalars(select(Push)))


def test_a_dry_run_plans_within_the_caps_and_writes_nothing(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    result = run_cycle(session, system_actor(), loose(settings), dry_run=True)
    figures = result.as_json()
    assert KEYS <= set(figures) and set(figures["greedy"]) >= {"coverage", "exposure_gini"}
    assert figures["cycle"] is None and figures["dry_run"] is True
    per_firm = Counter(r.enterprise_id for r in result.rows)
    assert result.rows and max(per_firm.values()) <= 2
    assert figures["coverage"] >= figures["greedy"]["coverage"]
    assert world.achievements["wheat"].id not in {r.achievement_id for r in result.rows}
    assert all(r.reason.endswith("。") and r.reason_en for r in result.rows)
    assert session.scalar(select(func.count()).select_from(PushCycle)) == 0
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_cycle_writes_pushes_digests_and_announcements_once(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    s = loose(settings)
    planned = run_cycle(session, system_actor(), s, dry_run=True)
    result = run_cycle(session, system_actor(), s)
    assert [(r.enterprise_id, r.achievement_id) for r in result.rows] == \
        [(r.enterprise_id, r.achievement_id) for r in planned.rows]  # the dry run is the plan
    pushes = session.scalars(select(Push).order_by(Push.id)).all()
    assert len(pushes) == result.figures["pushes"] == len(result.rows)
    robots = world.firms["robots"]
    grasp = next(p for p in pushes if p.enterprise_id == robots.record.id
                 and p.achievement_id == world.achievements["grasp"].id)
    assert grasp.rank == 1 and "寻求仓储分拣机械臂视觉定位技术" in grasp.reason
    mails = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email")).all()
    assert {m.user_id for m in mails} == {f.user.id for f in world.firms.values()}
    mail = next(m for m in mails if m.user_id == robots.user.id)
    assert mail.status == "pending" and grasp.id in mail.push_ids
    assert mail.payload["kind"] == "digest" and mail.payload["announcements"][0]["items"] == 2
    assert session.scalar(select(func.count()).select_from(Announcement)) == 1
    assert session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "push.cycle")) == 1
    again = run_cycle(session, system_actor(), s)
    assert max(_pairs(session).values()) == 1  # no pair is ever pushed twice
    assert not {(r.enterprise_id, r.achievement_id) for r in again.rows} & \
        {(p.enterprise_id, p.achievement_id) for p in pushes}
    assert again.figures["announcements"] == 0  # the catalogue was announced already


def test_a_scheduled_period_is_planned_once(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    first = run_cycle(session, system_actor(), loose(settings), period="2026-11-23T01:00Z")
    second = run_cycle(session, system_actor(), loose(settings), period="2026-11-23T01:00Z")
    assert second.cycle_id == first.cycle_id
    assert session.scalar(select(func.count()).select_from(PushCycle)) == 1


def test_caps_opt_outs_conflicts_and_the_floor(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    robots, battery = world.firms["robots"], world.firms["battery"]
    member = actor_for(robots.user)
    consent.set_subscription(session, member, settings, robots.org.id, fields=[], keywords=[],
                             max_per_cycle=1, paused=False)
    consent.opt_out(session, member, robots.record.id,
                    achievement_id=world.achievements["grasp"].id)
    consent.declare_conflict(session, system_actor(), battery.record.id,
                             world.tto.record.id, reason="校企共建实验室")
    result = run_cycle(session, system_actor(), loose(settings), dry_run=True)
    mine = [r for r in result.rows if r.enterprise_id == robots.record.id]
    assert len(mine) == 1 and mine[0].achievement_id != world.achievements["grasp"].id
    assert not [r for r in result.rows if r.enterprise_id == battery.record.id]
    high = run_cycle(session, system_actor(), loose(settings, push_min_score=1e6), dry_run=True)
    assert high.rows == [] and high.figures["coverage"] == 0.0


def test_choices_decide_who_gets_what(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    robots, battery, assembly = (world.firms[k] for k in ("robots", "battery", "assembly"))
    consent.set_preferences(session, actor_for(assembly.user), personalised=False, email=True,
                            email_max_per_week=None)
    consent.set_preferences(session, actor_for(battery.user), personalised=True, email=False,
                            email_max_per_week=None)
    consent.set_preferences(session, actor_for(robots.user), personalised=True, email=True,
                            email_max_per_week=0)
    endpoint, _secret = create_endpoint(  # no DNS here: a loopback target, allowed for tests
        session, actor_for(robots.user), settings.model_copy(update={"webhook_allow_private": True}),
        organisation_id=robots.org.id, url="http://127.0.0.1:9/luodi")
    result = run_cycle(session, system_actor(), loose(settings))
    assert assembly.record.id not in {r.enterprise_id for r in result.rows}  # personalised off
    mails = {m.user_id: m for m in session.scalars(select(OutboxMessage)
                                                   .where(OutboxMessage.channel == "email"))}
    assert mails[assembly.user.id].payload["kind"] == "announcements"
    assert mails[assembly.user.id].push_ids == [] and mails[assembly.user.id].status == "pending"
    assert (mails[battery.user.id].status, mails[battery.user.id].last_error) == \
        ("suppressed", "email_off")
    assert (mails[robots.user.id].status, mails[robots.user.id].last_error) == \
        ("suppressed", "frequency_cap")
    [hook] = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "webhook"))
    assert hook.endpoint_id == endpoint.id and hook.payload["type"] == "push.delivered"
    ids = {p.id for p in session.scalars(select(Push).where(
        Push.enterprise_id == robots.record.id))}
    assert set(hook.push_ids) == ids and {p["push_id"] for p in hook.payload["data"]["pushes"]} \
        == ids
    assert "description" not in str(hook.payload) and "保密" not in str(hook.payload)
    assert result.figures["emails"] == 1 and result.figures["emails_suppressed"] == 2


def test_a_paused_subscription_and_all_members_opted_out_are_not_recipients(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    robots = world.firms["robots"]
    session.add(PushPreference(user_id=robots.user.id, personalised=False))
    session.commit()
    consent.set_subscription(session, system_actor(), settings, world.firms["battery"].org.id,
                             fields=[], keywords=[], max_per_cycle=None, paused=True)
    result = run_cycle(session, system_actor(), loose(settings), dry_run=True)
    firms = {r.enterprise_id for r in result.rows}
    assert firms == {world.firms["assembly"].record.id}


def test_only_staff_run_cycles(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        run_cycle(session, actor_for(world.firms["robots"].user), settings, dry_run=True)


def test_exports_list_every_channel_and_judgments_feed_eval(session, settings, world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from luodi.push.evaluation import run_eval

    run_cycle(session, system_actor(), loose(settings))
    pushes = session.scalars(select(Push).order_by(Push.id)).all()
    by_firm = {f.record.id: f for f in world.firms.values()}
    for push, verdict in zip(pushes, ("interested", "relevant", "not_relevant"), strict=False):
        kwargs = {"reason": "wrong_field"} if verdict == "not_relevant" else {}
        give_feedback(session, actor_for(by_firm[push.enterprise_id].user), push.id,
                      feedback=verdict, **kwargs)
    path = tmp_path / "pushes.csv"
    count = export_pushes(session, system_actor(), path)
    with path.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == PUSH_HEADERS and len(rows) == count
    channels = Counter(r["channel"] for r in rows)
    assert channels["inbox"] == len(pushes) and channels["email"] == len(pushes)
    assert {r["feedback"] for r in rows} >= {"interested", "relevant", "not_relevant"}
    task = tmp_path / "judged"
    counts = export_judgments(session, system_actor(), task)
    assert counts["judgments"] == 3
    qrels = (task / "qrels.tsv").read_text(encoding="utf-8").splitlines()
    assert qrels[0] == "query-id\tcorpus-id\tscore" and {q.split("\t")[2] for q in qrels[1:]} \
        == {"0", "1", "2"}
    report = run_eval(task, "bm25", settings)
    assert report.as_json()["queries"] >= 1
