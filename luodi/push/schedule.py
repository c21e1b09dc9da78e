"""When scheduled push cycles run, and the tick that runs them and delivers their messages.

The schedule is a cron line (``LUODI_PUSH_SCHEDULE``, UTC). A scheduled cycle is named by its
firing time (its *period*), which is unique in the ledger, so the tick can run every minute, in
any number of workers, after any crash: the latest period without a cycle is planned once, and
a period missed while no worker ran is planned when one comes back. A cycle waits while
achievements still lack their vectors: a pair pushed once is never pushed again, so planning on
a half-embedded index would spend those pairs on weaker matches.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from huey import crontab
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from luodi.auth.actor import system_actor
from luodi.config import Settings
from luodi.db import Database, utcnow
from luodi.push.ledger import PushCycle

__all__ = ["due_period", "tick"]

log = logging.getLogger(__name__)
LOOKBACK = dt.timedelta(days=8)  # a weekly schedule's latest firing is always within reach


def _validator(line: str) -> Any:
    parts = line.split()
    if len(parts) != 5:
        raise ValueError(f"LUODI_PUSH_SCHEDULE must be a 5-field cron line, not {line!r}")
    minute, hour, day, month, weekday = parts
    return crontab(minute=minute, hour=hour, day=day, month=month, day_of_week=weekday)


def due_period(schedule: str, now: dt.datetime) -> str | None:
    """The latest firing time of ``schedule`` at or before ``now`` (UTC), as a period name."""
    if not schedule.strip():
        return None
    fires = _validator(schedule)
    at = now.astimezone(dt.UTC).replace(second=0, microsecond=0)
    earliest = at - LOOKBACK
    while at > earliest:
        if fires(at.replace(tzinfo=None)):
            return at.strftime("%Y-%m-%dT%H:%MZ")
        at -= dt.timedelta(minutes=1)
    return None


def _plan_due(db: Database, settings: Settings, now: dt.datetime) -> int | None:
    from luodi.push.cycles import run_cycle
    from luodi.push.index import indexes_for

    period = due_period(settings.push_schedule, now)
    if period is None:
        return None
    with db.sessions() as session:
        if session.scalar(select(PushCycle.id).where(PushCycle.period == period)) is not None:
            return None
        if indexes_for(settings).pending(session, "achievements"):
            log.info("push cycle %s waits: achievements still being embedded", period)
            return None
        try:
            result = run_cycle(session, system_actor("job"), settings, period=period)
        except IntegrityError:  # another worker wrote this period first
            session.rollback()
            return None
    log.info("push cycle %s planned: %s", period, result.as_json())
    return result.cycle_id


def tick(settings: Settings, *, now: dt.datetime | None = None, plan: bool = True,
         max_rounds: int = 50) -> dict[str, Any]:
    """Plan a due cycle (unless ``plan`` is false), send what the outbox holds, mark
    finished cycles delivered, and sweep stale docking cases (once per UTC day)."""
    from luodi.docking.reminders import sweep_daily
    from luodi.push.cycles import settle_cycles
    from luodi.push.outbox import dispatch_until_idle

    now = now or utcnow()
    db = Database.from_url(settings.resolved_database_url)
    try:
        planned = _plan_due(db, settings, now) if plan else None
        report = dispatch_until_idle(db, settings, max_rounds=max_rounds)
        with db.sessions() as session:
            settled = settle_cycles(session)
        swept = sweep_daily(db, settings, now)  # stale docking cases, once per UTC day
    finally:
        db.dispose()
    return {"planned": planned, "dispatched": report, "settled": settled, "case_reminders": swept}
