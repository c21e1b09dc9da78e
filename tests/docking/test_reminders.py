"""Stale-case reminders: who is reminded of which case, once a day, from the worker's tick."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from luodi.audit import AuditEvent
from luodi.auth.actor import ANONYMOUS, system_actor
from luodi.auth.models import User
from luodi.db import utcnow
from luodi.docking.models import CaseReminder
from luodi.docking.reminders import list_reminders, mark_read, sweep_daily, sweep_stale
from luodi.errors import NotAuthenticated, NotFound, PermissionDenied
from luodi.push.schedule import tick
from tests.docking.case_fixtures import as_actor, case_world, make_case
from tests.factories import login, make_user

SYSTEM = system_actor("job")


def _today() -> dt.date:
    return utcnow().date()


def _operators(session) -> set[int]:  # type: ignore[no-untyped-def]
    return set(session.scalars(select(User.id).where(User.role == "operator",
                                                     User.is_active.is_(True))))


def _reminders(session) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    session.expire_all()
    rows = session.execute(select(CaseReminder.case_id, CaseReminder.user_id))
    return sorted((case_id, user_id) for case_id, user_id in rows)


@pytest.fixture
def stale(session, settings):  # type: ignore[no-untyped-def]
    """A case idle one day longer than case_stale_days."""
    return case_world(session, settings, state="meeting", idle_days=settings.case_stale_days + 1)


def test_a_stale_case_reminds_its_broker_and_every_operator(session, settings, stale) -> None:  # type: ignore[no-untyped-def]
    make_user(session, "operator")  # a second operator
    retired = make_user(session, "operator")
    retired.is_active = False
    session.commit()
    made = sweep_stale(session, SYSTEM, settings, _today())
    wanted = {stale.broker.id} | _operators(session)
    assert retired.id not in wanted and len(wanted) == 3
    assert made == 3 and _reminders(session) == sorted((stale.case.id, u) for u in wanted)

    reminder = session.scalar(select(CaseReminder).where(CaseReminder.user_id == stale.broker.id))
    assert reminder.due_on == _today() and reminder.read_at is None
    days = settings.case_stale_days + 1
    for part in (f"#{stale.case.id}", stale.achievement.title, "meeting", f"{days} 天",
                 f"{days} days"):
        assert part in reminder.message
    audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "cases.sweep"))
    assert audit.detail == {"today": _today().isoformat(), "stale_cases": 1, "reminders": 3}


def test_sweeping_again_the_same_day_adds_nothing(session, settings, stale) -> None:  # type: ignore[no-untyped-def]
    first = sweep_stale(session, SYSTEM, settings, _today())
    before = _reminders(session)
    assert first == len(before) > 0
    assert sweep_stale(session, SYSTEM, settings, _today()) == 0
    assert _reminders(session) == before
    # The next day the case, still idle, is flagged again.
    assert sweep_stale(session, SYSTEM, settings, _today() + dt.timedelta(days=1)) == first


def test_active_closed_and_agreed_cases_are_left_alone(session, settings) -> None:  # type: ignore[no-untyped-def]
    long_ago = settings.case_stale_days + 30
    world = case_world(session, settings, state="negotiating",
                       idle_days=settings.case_stale_days - 0.5)
    for state in ("closed", "agreed"):
        make_case(session, world.achievement, seeker=world.seeker, owner=world.owner,
                  state=state, idle_days=long_ago, broker=world.broker)
    assert sweep_stale(session, SYSTEM, settings, _today()) == 0
    assert _reminders(session) == []


def test_a_case_without_broker_reminds_the_operators(session, settings) -> None:  # type: ignore[no-untyped-def]
    world = case_world(session, settings, state="interested", with_broker=False,
                       idle_days=settings.case_stale_days + 3)
    assert sweep_stale(session, SYSTEM, settings, _today()) == len(_operators(session))
    assert {u for _, u in _reminders(session)} == _operators(session)
    assert world.broker.id not in {u for _, u in _reminders(session)}


def test_only_staff_sweep(session, settings, stale) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        sweep_stale(session, as_actor(stale.broker), settings, _today())
    with pytest.raises(NotAuthenticated):
        sweep_stale(session, ANONYMOUS, settings, _today())
    assert sweep_stale(session, as_actor(stale.operator), settings, _today()) > 0


def test_reminders_are_read_by_their_recipient_only(session, settings, stale) -> None:  # type: ignore[no-untyped-def]
    sweep_stale(session, SYSTEM, settings, _today())
    broker, operator = as_actor(stale.broker), as_actor(stale.operator)
    mine = list_reminders(session, broker)
    assert [r.case_id for r in mine] == [stale.case.id]
    with pytest.raises(NotFound):
        mark_read(session, operator, mine[0].id)
    with pytest.raises(NotAuthenticated):
        list_reminders(session, ANONYMOUS)
    assert mark_read(session, broker, mine[0].id).read_at is not None
    assert list_reminders(session, broker, unread_only=True) == []
    assert len(list_reminders(session, broker)) == 1
    assert list_reminders(session, as_actor(stale.seeker.user)) == []
    assert list_reminders(session, SYSTEM) == []


def test_the_worker_tick_sweeps_once_a_day(session, settings, db, stale) -> None:  # type: ignore[no-untyped-def]
    quiet = settings.model_copy(update={"push_schedule": ""})  # no push cycle to plan
    first = tick(quiet)
    assert first["case_reminders"] == 2 == len(_reminders(session))
    assert tick(quiet)["case_reminders"] is None  # today's sweep already ran
    sweeps = session.scalar(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.action == "cases.sweep"))
    assert sweeps == 1
    tomorrow = utcnow() + dt.timedelta(days=1)
    assert sweep_daily(db, quiet, tomorrow) == 2
    assert len(_reminders(session)) == 4


def test_the_tick_sweeps_with_nothing_stale(session, settings) -> None:  # type: ignore[no-untyped-def]
    result = tick(settings.model_copy(update={"push_schedule": ""}))
    assert result["case_reminders"] == 0 and result["planned"] is None


# --- through HTTP -------------------------------------------------------------------------

def test_api_lists_and_marks_my_reminders(client, session, settings, stale) -> None:  # type: ignore[no-untyped-def]
    sweep_stale(session, SYSTEM, settings, _today())
    client.cookies.clear()
    assert client.get("/api/v1/case-reminders").status_code == 401
    headers = {"x-csrf-token": login(client, stale.broker.email)}
    listed = client.get("/api/v1/case-reminders")
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()
    assert (item["case_id"], item["case_url"], item["read"]) == \
        (stale.case.id, f"/cases/{stale.case.id}", False)
    assert item["due_on"] == _today().isoformat() and stale.achievement.title in item["message"]
    read = client.post(f"/api/v1/case-reminders/{item['id']}/read", headers=headers)
    assert read.status_code == 200 and read.json()["read"] is True
    assert client.get("/api/v1/case-reminders?unread_only=true").json() == []

    others = session.scalar(select(CaseReminder.id).where(CaseReminder.user_id != stale.broker.id))
    refused = client.post(f"/api/v1/case-reminders/{others}/read", headers=headers)
    assert refused.status_code == 404
