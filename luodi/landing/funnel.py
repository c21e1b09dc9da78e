"""Figures from the case trail (对接轨迹): funnel, time per stage and stalled cases.

Each function here is one SQL query over ``cases`` / ``case_events`` whose exact definition is
its docstring; :mod:`luodi.landing.stats` assembles them. Only *transition* events count (the
trail's state changes, :func:`luodi.docking.trail.record_event`); notes, consents, files and
meetings do not move a case through the funnel.

Days are UTC days, like the stale-case sweep (:mod:`luodi.docking.reminders`). ``window`` is a
:class:`Window`: the period as half-open UTC instants and the *as-of* instant (the end of the
report's ``today``); events at or after the as-of instant are ignored, so a report for a past
``today`` can be re-run and gives the same figures while nothing older is rewritten.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, and_, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from luodi.db import UTCDateTime
from luodi.docking.models import Case, CaseEvent
from luodi.docking.workflow import OPEN_STATES, STATES
from luodi.landing.models import Deal

__all__ = ["FUNNEL", "STAY_STAGES", "Window", "closed_by_state", "landed_then_cancelled",
           "reached_counts", "stage_durations", "stalled_by_stage"]

# The funnel in order: reaching a stage implies every earlier one (closed is not a stage).
FUNNEL: tuple[str, ...] = tuple(s for s in STATES if s != "closed")
# Stages a case can leave again; a stay in landed (or closed) never ends.
STAY_STAGES: tuple[str, ...] = FUNNEL[:-1]


@dataclass(frozen=True)
class Window:
    """The report's period as UTC instants: ``[start, end)`` (None = open) and ``as_of``."""

    start: dt.datetime | None
    end: dt.datetime | None
    as_of: dt.datetime

    def within(self, column: Any) -> ColumnElement[bool]:
        """``column`` in the period and before the as-of instant."""
        parts = [column < self.as_of]
        if self.start is not None:
            parts.append(column >= self.start)
        if self.end is not None:
            parts.append(column < self.end)
        return and_(*parts)


class days_between(FunctionElement[float]):  # noqa: N801 — reads like the SQL function it is
    """``later - earlier`` in days (fractional), compiled per dialect.

    SQLite keeps timestamps as ISO text (julianday parses it); PostgreSQL subtracts to an
    interval. Both give days as a floating-point number.
    """

    type = Float()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "sqlite")
def _days_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"(julianday({compiler.process(later, **kw)}) - " \
           f"julianday({compiler.process(earlier, **kw)}))"


@compiles(days_between, "postgresql")
def _days_postgresql(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    # EXTRACT gives numeric; as double precision it sorts several times faster.
    return f"(CAST(EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - " \
           f"{compiler.process(earlier, **kw)})) AS DOUBLE PRECISION) / 86400.0)"


def _transitions() -> ColumnElement[bool]:
    return CaseEvent.kind == "transition"


def reached_counts(session: Session, window: Window) -> dict[int | None, int]:
    """Cases opened in the period, grouped by the furthest funnel stage their trail entered.

    Query: for every case with ``opened_at`` in the period (and before the as-of instant), the
    maximum funnel rank (interested 0 … landed 6) over its transition events whose
    ``to_state`` is a funnel stage and whose ``at`` is before the as-of instant; then the number
    of cases per maximum rank (None: no such event). The caller turns this into "reached stage
    n" = cases whose maximum rank is ≥ n — a later stage implies the earlier ones, so a case
    that went contacts_revealed → negotiating without a meeting has reached "meeting" too.
    A case that was closed keeps the stages it reached before closing.
    """
    rank = case({state: i for i, state in enumerate(FUNNEL)}, value=CaseEvent.to_state)
    per_case = (
        select(Case.id, func.max(rank).label("top"))
        .select_from(Case)
        .outerjoin(CaseEvent, and_(CaseEvent.case_id == Case.id, _transitions(),
                                   CaseEvent.to_state.in_(FUNNEL),
                                   CaseEvent.at < window.as_of))
        .where(window.within(Case.opened_at))
        .group_by(Case.id)
        .subquery("per_case"))
    rows = session.execute(select(per_case.c.top, func.count()).group_by(per_case.c.top))
    return {None if top is None else int(top): int(n) for top, n in rows}


def closed_by_state(session: Session, window: Window) -> dict[str, int]:
    """Cases opened in the period and closed before the as-of instant, by closing state.

    Query: transition events with ``to_state = 'closed'`` and ``at`` before the as-of instant,
    of cases with ``opened_at`` in the period; count of distinct cases per ``from_state`` (the
    stage the case was in when it was closed).
    """
    rows = session.execute(
        select(CaseEvent.from_state, func.count(func.distinct(CaseEvent.case_id)))
        .join(Case, Case.id == CaseEvent.case_id)
        .where(_transitions(), CaseEvent.to_state == "closed", CaseEvent.at < window.as_of,
               window.within(Case.opened_at))
        .group_by(CaseEvent.from_state))
    return {str(state): int(n) for state, n in rows}


def landed_then_cancelled(session: Session, window: Window) -> int:
    """Cases opened in the period whose deal is now cancelled (合同解除).

    Query: count of ``deals`` with ``status = 'cancelled'`` joined to their case, the case's
    ``opened_at`` in the period. Such a case stays ``landed`` in the trail (nothing is undone)
    and so counts as having reached "landed" in the funnel; this figure says how many of those
    did not hold, while the landings (signed deals only) leave them out.
    """
    return int(session.scalar(
        select(func.count()).select_from(Deal).join(Case, Case.id == Deal.case_id)
        .where(Deal.status == "cancelled", window.within(Case.opened_at))) or 0)


def stage_durations(session: Session, window: Window) -> dict[str, list[float]]:
    """Days spent per stage, for the stays that ended in the period (each list sorted).

    A *stay* in stage S starts with a transition event into S and ends with the case's next
    transition event (ordered by ``at``, then ``id``); repeated transitions into the same
    state (a further meeting: meeting → meeting) neither end nor restart the stay. Only events
    before the as-of instant are read; a stay counts when its *ending* event is in the period.
    Its length is the difference of the two ``at`` values in fractional days.

    Query: ``LEAD(at) OVER (PARTITION BY case_id ORDER BY at, id)`` over the transitions
    (window functions: SQLite ≥ 3.25 and PostgreSQL) gives each stay's end; the query returns
    one row per ended stay, (stage, days), and nothing else. The percentiles are taken in
    Python (:func:`luodi.landing.stats.quantile`): measured on 100k cases, sorting the column
    here is faster on both databases than ranking it in SQL with ``ROW_NUMBER`` (which sorts
    the same rows in the database, spilling to disk under PostgreSQL's default work_mem).
    """
    left_at = func.lead(CaseEvent.at, type_=UTCDateTime()).over(
        partition_by=CaseEvent.case_id, order_by=(CaseEvent.at, CaseEvent.id))
    moves = select(CaseEvent.to_state.label("stage"), CaseEvent.at.label("entered"),
                   left_at.label("left_at")).where(
        _transitions(), CaseEvent.to_state.is_not(None), CaseEvent.at < window.as_of,
        or_(CaseEvent.from_state.is_(None), CaseEvent.from_state != CaseEvent.to_state))
    if window.start is not None or window.end is not None:
        # Only cases with a transition in the period can have a stay that ended in it: the
        # window function then sorts those cases' events, not the whole trail.
        moves = moves.where(CaseEvent.case_id.in_(
            select(CaseEvent.case_id).where(_transitions(), window.within(CaseEvent.at))))
    stays = moves.subquery("stays")
    rows = session.execute(
        select(stays.c.stage, days_between(stays.c.left_at, stays.c.entered))
        .where(stays.c.stage.in_(STAY_STAGES), stays.c.left_at.is_not(None),
               window.within(stays.c.left_at)))
    durations: dict[str, list[float]] = {}
    for stage, days in rows:
        durations.setdefault(stage, []).append(float(days))
    for values in durations.values():
        values.sort()
    return durations


def stalled_by_stage(session: Session, cutoff: dt.datetime) -> dict[str, int]:
    """Open cases whose last event is older than ``cutoff``, by current state.

    Query: cases with ``state`` in the workflow's open states (interested … negotiating; an
    agreed case waits for its deal and is not open) and ``last_event_at < cutoff``, counted per
    ``state``. ``cutoff`` is midnight (UTC) of ``today`` minus ``case_stale_days`` — the same
    rule as the stale-case reminders. This is a snapshot of the cases' current state, not
    filtered by the period.
    """
    rows = session.execute(
        select(Case.state, func.count())
        .where(Case.state.in_(sorted(OPEN_STATES)), Case.last_event_at < cutoff)
        .group_by(Case.state))
    return {str(state): int(n) for state, n in rows}
