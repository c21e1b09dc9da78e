"""Freshness: expiry sweep, reminders, renewal and what may be pushed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from luodi.audit import AuditEvent
from luodi.auth.actor import system_actor
from luodi.auth.service import actor_for
from luodi.cli import app as cli_app
from luodi.errors import NotFound, PermissionDenied
from luodi.inventory import freshness
from luodi.inventory.models import Achievement, Reminder
from tests.factories import make_org, make_user
from tests.inventory import factories as inv

# A month ahead of the real date, so records created now keep their default review dates.
TODAY = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)
SYSTEM = system_actor(via="job")


@pytest.fixture
def owned(session, settings):  # type: ignore[no-untyped-def]
    """An institution with an account organisation and a member, plus an enterprise."""
    org = make_org(session, "institution")
    member = make_user(session, "institution_member", org=org)
    inst = inv.institution(session, settings, org=org)
    ent = inv.enterprise(session, settings)
    return org, actor_for(member), inst, ent


def _achievement(session, settings, inst, expires, **extra):  # type: ignore[no-untyped-def]
    return inv.achievement(session, settings, inst, expires_on=expires, **extra)


def test_sweep_expires_live_records_and_keeps_their_status(session, settings, owned) -> None:
    _org, _member, inst, ent = owned
    old = _achievement(session, settings, inst, TODAY - dt.timedelta(days=1))
    fresh = _achievement(session, settings, inst, TODAY, title="今天到期仍然有效的成果")
    draft = _achievement(session, settings, inst, TODAY - dt.timedelta(days=9),
                         title="过期的草稿不会被标记", status="draft")
    docking = inv.demand(session, settings, ent, expires_on=TODAY - dt.timedelta(days=3))
    docking.status = "in_docking"  # docking moves records on; set it as that stage would
    session.commit()

    result = freshness.sweep(session, SYSTEM, settings, TODAY)

    assert result.expired == {"achievements": 1, "demands": 1}
    session.expire_all()
    assert (old.status, old.status_before_expiry) == ("expired", "published")
    assert (docking.status, docking.status_before_expiry) == ("expired", "in_docking")
    assert fresh.status == "published" and draft.status == "draft"
    assert session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "achievements.expire")) == 1


def test_expired_records_leave_pushes(session, settings, owned) -> None:
    _org, _member, inst, _ent = owned
    old = _achievement(session, settings, inst, TODAY - dt.timedelta(days=1))
    ok = _achievement(session, settings, inst, TODAY + dt.timedelta(days=100), title="有效成果")
    # Past its date but not yet swept: still refused, the date decides as well as the status.
    assert not freshness.is_pushable(old, TODAY)
    assert freshness.is_pushable(ok, TODAY)
    freshness.sweep(session, SYSTEM, settings, TODAY)
    session.refresh(old)
    assert old.status == "expired" and not freshness.is_pushable(old, TODAY)
    ok.status = "draft"
    assert not freshness.is_pushable(ok, TODAY)


def test_reminders_go_to_the_owner_once(session, settings, owned) -> None:
    org, member, inst, _ent = owned
    soon = _achievement(session, settings, inst, TODAY + dt.timedelta(days=10))
    later = _achievement(session, settings, inst, TODAY + dt.timedelta(days=200), title="远期成果")
    unowned_inst = inv.institution(session, settings, name="无账号的研究所")
    unowned = _achievement(session, settings, unowned_inst, TODAY + dt.timedelta(days=5),
                           title="无主成果")

    first = freshness.sweep(session, SYSTEM, settings, TODAY)
    second = freshness.sweep(session, SYSTEM, settings, TODAY)
    third = freshness.sweep(session, SYSTEM, settings, TODAY + dt.timedelta(days=1))

    assert first.reminders == {"expiry_soon": 2}
    assert second.total_reminders == 0 and third.total_reminders == 0  # unique per due date
    rows = session.scalars(select(Reminder).order_by(Reminder.id)).all()
    assert [(r.record_id, r.organisation_id, r.kind) for r in rows] == [
        (soon.id, org.id, "expiry_soon"), (unowned.id, None, "expiry_soon")]
    assert later.id not in {r.record_id for r in rows}
    mine = freshness.reminders_for(session, member)
    assert [r.record_id for r in mine] == [soon.id]
    assert "到期" in mine[0].message and "expires on" in mine[0].message
    staff = actor_for(make_user(session, "operator"))
    assert [r.record_id for r in freshness.reminders_for(session, staff)] == [unowned.id]
    other = actor_for(make_user(session, "institution_member"))
    assert freshness.reminders_for(session, other) == []


def test_expiry_and_review_reminders(session, settings, owned) -> None:
    _org, member, inst, _ent = owned
    old = _achievement(session, settings, inst, TODAY - dt.timedelta(days=2))
    stale = _achievement(session, settings, inst, TODAY + dt.timedelta(days=90), title="待复核成果",
                         review_due_on=TODAY - dt.timedelta(days=1))
    result = freshness.sweep(session, SYSTEM, settings, TODAY)
    assert result.reminders == {"expired": 1, "review_due": 1}
    kinds = {(r.record_id, r.kind) for r in freshness.reminders_for(session, member)}
    assert kinds == {(old.id, "expired"), (stale.id, "review_due")}


def test_mark_read(session, settings, owned) -> None:
    _org, member, inst, _ent = owned
    _achievement(session, settings, inst, TODAY + dt.timedelta(days=3))
    freshness.sweep(session, SYSTEM, settings, TODAY)
    (reminder,) = freshness.reminders_for(session, member)
    other = actor_for(make_user(session, "institution_member"))
    with pytest.raises(NotFound):
        freshness.mark_read(session, other, reminder.id)
    freshness.mark_read(session, member, reminder.id)
    assert freshness.reminders_for(session, member) == []
    assert len(freshness.reminders_for(session, member, include_read=True)) == 1


def test_renew_restores_status_and_extends(session, settings, owned) -> None:
    _org, member, inst, _ent = owned
    old = _achievement(session, settings, inst, TODAY - dt.timedelta(days=1))
    freshness.sweep(session, SYSTEM, settings, TODAY)
    assert freshness.reminders_for(session, member)

    renewed = freshness.renew(session, member, "achievements", old.id, settings=settings,
                              today=TODAY)

    assert renewed.status == "published" and renewed.status_before_expiry is None
    assert renewed.expires_on == TODAY + dt.timedelta(days=settings.record_validity_days)
    assert renewed.review_due_on == TODAY + dt.timedelta(days=settings.review_interval_days)
    assert freshness.is_pushable(renewed, TODAY)
    assert freshness.reminders_for(session, member) == []  # renewing answers the reminder
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "achievements.renew")).one()
    assert event.detail["status_from"] == "expired" and event.actor_id == member.user_id
    # A second sweep the same day leaves the renewed record alone.
    assert freshness.sweep(session, SYSTEM, settings, TODAY).total_expired == 0


def test_renew_restores_in_docking(session, settings, owned) -> None:
    _org, _member, _inst, ent = owned
    demand = inv.demand(session, settings, ent, expires_on=TODAY - dt.timedelta(days=1))
    demand.status = "in_docking"
    session.commit()
    freshness.sweep(session, SYSTEM, settings, TODAY)
    staff = actor_for(make_user(session, "operator"))
    assert freshness.renew(session, staff, "demands", demand.id, settings=settings,
                           today=TODAY).status == "in_docking"


def test_only_owners_and_staff_renew_and_only_staff_sweep(session, settings, owned) -> None:
    _org, member, inst, _ent = owned
    old = _achievement(session, settings, inst, TODAY - dt.timedelta(days=1))
    stranger = actor_for(make_user(session, "institution_member"))
    with pytest.raises(PermissionDenied):
        freshness.renew(session, stranger, "achievements", old.id, settings=settings)
    with pytest.raises(PermissionDenied):
        freshness.sweep(session, member, settings, TODAY)
    with pytest.raises(NotFound):
        freshness.renew(session, member, "achievements", 999_999, settings=settings)
    session.refresh(old)
    assert old.status == "published"


def test_cli_sweep(session, settings, owned, env) -> None:  # type: ignore[no-untyped-def]
    _org, _member, inst, _ent = owned
    old = _achievement(session, settings, inst, TODAY - dt.timedelta(days=1))
    _achievement(session, settings, inst, TODAY + dt.timedelta(days=7), title="即将到期成果")
    runner = CliRunner()
    result = runner.invoke(cli_app, ["freshness", "sweep", "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "expired achievements 1, demands 0;" in result.output
    session.expire_all()
    assert session.get(Achievement, old.id).status == "expired"
    again = runner.invoke(cli_app, ["freshness", "sweep", "--today", TODAY.isoformat()])
    assert again.exit_code == 0 and "reminders: 0" in again.output
    bad = runner.invoke(cli_app, ["freshness", "sweep", "--today", "2027-13-01"])
    assert bad.exit_code != 0
