"""Stale-case reminders (对接停滞提醒): open cases with no event for a while are flagged.

A daily sweep finds the open cases whose last event (:func:`luodi.docking.trail.record_event`
moves ``last_event_at``) is older than ``case_stale_days`` and leaves an in-app reminder for the
case's broker and for every active operator. Reminders stay in-app only: the push outbox is
the one path by which the platform sends e-mail, with its opt-outs and weekly caps, and a
second path that bypasses them for internal staff nudges is not worth its cost.

A reminder is unique per (case, user, day), so sweeping twice on one day adds nothing; the
sweep reads the existing keys first instead of relying on the unique constraint, whose error
differs by database. :func:`sweep_daily` is what the worker's tick calls every minute: it
sweeps once per UTC day, using the sweep's own audit line as the marker.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from luodi import audit
from luodi import models as _registry  # noqa: F401 — maps users etc. for the audit FKs in jobs
from luodi.audit import AuditEvent
from luodi.auth.actor import Actor, system_actor
from luodi.auth.models import User
from luodi.auth.policy import authorize
from luodi.config import Settings
from luodi.db import Database, utcnow
from luodi.docking import workflow
from luodi.docking.models import Case, CaseReminder
from luodi.errors import NotAuthenticated, NotFound

__all__ = ["SWEEP_ACTION", "list_reminders", "mark_read", "stale_cases", "sweep_daily",
           "sweep_stale"]

log = logging.getLogger(__name__)
SWEEP_ACTION = "cases.sweep"


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def stale_cases(session: Session, settings: Settings, today: dt.date) -> list[Case]:
    """Open cases whose last event is older than ``case_stale_days`` before ``today``."""
    cutoff = _midnight(today) - dt.timedelta(days=settings.case_stale_days)
    return list(session.scalars(
        select(Case)
        .where(Case.state.in_(sorted(workflow.OPEN_STATES)), Case.last_event_at < cutoff)
        .options(selectinload(Case.achievement), selectinload(Case.demand))
        .order_by(Case.id)))


def _message(case: Case, today: dt.date) -> str:
    record = case.record
    title = record.title if record is not None else "—"
    days = (today - case.last_event_at.astimezone(dt.UTC).date()).days
    return (f"对接案件 #{case.id}《{title}》处于「{case.state}」状态，已 {days} 天没有进展，"
            f"请跟进。 / Docking case #{case.id} \"{title}\" (state '{case.state}') has had "
            f"no activity for {days} days: please follow it up.")


def _operator_ids(session: Session) -> list[int]:
    return list(session.scalars(select(User.id).where(User.role == "operator",
                                                      User.is_active.is_(True))))


def _active_brokers(session: Session, ids: Iterable[int | None]) -> set[int]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return set()
    return set(session.scalars(select(User.id).where(User.id.in_(wanted),
                                                     User.is_active.is_(True))))


def sweep_stale(session: Session, actor: Actor, settings: Settings, today: dt.date) -> int:
    """Leave reminders about stale open cases for their brokers and the operators.

    Returns how many reminders were created (none when re-run on the same day). Audited and
    committed once at the end.
    """
    authorize(session, actor, SWEEP_ACTION)
    stale = stale_cases(session, settings, today)
    operators = _operator_ids(session)
    brokers = _active_brokers(session, (c.broker_id for c in stale))
    existing: set[tuple[int, int]] = set()
    if stale:
        existing = {(c, u) for c, u in session.execute(
            select(CaseReminder.case_id, CaseReminder.user_id).where(
                CaseReminder.due_on == today,
                CaseReminder.case_id.in_([c.id for c in stale])))}
    made = 0
    for case in stale:
        recipients = dict.fromkeys(  # ordered and unique: a broker may also be an operator
            ([case.broker_id] if case.broker_id in brokers else []) + operators)
        for user_id in recipients:
            if user_id is None or (case.id, user_id) in existing:
                continue
            existing.add((case.id, user_id))
            session.add(CaseReminder(case_id=case.id, user_id=user_id, due_on=today,
                                     message=_message(case, today)))
            made += 1
    audit.record(session, actor, SWEEP_ACTION,
                 detail={"today": today.isoformat(), "stale_cases": len(stale),
                         "reminders": made})
    session.commit()
    return made


def _swept_on(session: Session, today: dt.date) -> bool:
    """Whether a sweep already ran on ``today`` (UTC), by its audit line."""
    start = _midnight(today)
    return session.scalar(
        select(AuditEvent.id).where(AuditEvent.action == SWEEP_ACTION,
                                    AuditEvent.outcome == "success",
                                    AuditEvent.at >= start,
                                    AuditEvent.at < start + dt.timedelta(days=1)).limit(1)
    ) is not None


def sweep_daily(db: Database, settings: Settings, now: dt.datetime) -> int | None:
    """The worker's daily sweep: reminders made, or None when today's sweep already ran.

    Cheap enough to call every minute: one indexed query on the audit log once the day's
    sweep is done. Two workers racing on the same day may both pass the check; the loser's
    insert hits the unique key and is rolled back, which leaves the winner's reminders.
    """
    today = now.astimezone(dt.UTC).date()
    with db.sessions() as session:
        if _swept_on(session, today):
            return None
        try:
            made = sweep_stale(session, system_actor("job"), settings, today)
        except IntegrityError:
            session.rollback()
            return None
    if made:
        log.info("stale-case sweep %s: %d reminders", today, made)
    return made


def list_reminders(session: Session, actor: Actor, *,
                   unread_only: bool = False) -> list[CaseReminder]:
    """The actor's own stale-case reminders, newest first."""
    if not actor.is_authenticated:
        raise NotAuthenticated("Please log in first.")
    if actor.user_id is None:  # the system actor has no inbox
        return []
    stmt = select(CaseReminder).where(CaseReminder.user_id == actor.user_id)
    if unread_only:
        stmt = stmt.where(CaseReminder.read_at.is_(None))
    return list(session.scalars(stmt.order_by(CaseReminder.due_on.desc(),
                                              CaseReminder.id.desc()).limit(500)))


def mark_read(session: Session, actor: Actor, reminder_id: int) -> CaseReminder:
    """Mark one of the actor's reminders read; NotFound for anyone else's (no probing)."""
    if not actor.is_authenticated:
        raise NotAuthenticated("Please log in first.")
    reminder = session.get(CaseReminder, reminder_id)
    if reminder is None or reminder.user_id != actor.user_id:
        raise NotFound("没有这条提醒 / No such reminder.")
    if reminder.read_at is None:
        reminder.read_at = utcnow()
        session.commit()
    return reminder
