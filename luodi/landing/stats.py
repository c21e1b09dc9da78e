"""Landing statistics (落地统计) — every figure from the ledger, each one documented query.

:func:`compute_stats` reads only the case trail (``cases``, ``case_events``) and the deals
(``deals`` with the names of their institution and broker); nothing is counted in a separate
counter, so every figure can be recomputed from the same rows (``luodi export deals`` gives
the deal rows; tests/landing/test_reconcile.py does exactly that). The definitions:

* **funnel** (:func:`luodi.landing.funnel.reached_counts`, ``closed_by_state``): the cohort
  of cases *opened* in the period and, per stage, how many reached it (a transition into it
  or any later stage), with step and overall rates; closed cases by the stage they closed in;
  and how many that landed had their deal cancelled afterwards (``landed_then_cancelled``).
* **stage_days** (``stage_durations``): median and p90 of days per stage over the stays
  that *ended* in the period.
* **stalled** (``stalled_by_stage``): open cases with no event for ``case_stale_days`` at
  ``today`` — a snapshot, not filtered by the period.
* **landings**, **京津冀 share**, **Beijing → 天津/河北** (:mod:`luodi.landing.landings`):
  signed deals with ``signed_on`` in the period.

Periods are whole days, both ends inclusive, either open. Trail figures use UTC days and ignore
events after the end of ``today`` (the as-of day). Shares are None, never 0, when there is
nothing to divide by. Money is rounded to 2 places, shares and rates to 4, days to 2.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.orm import Session

from luodi.auth.actor import Actor
from luodi.auth.policy import authorize
from luodi.config import Settings
from luodi.db import utcnow
from luodi.docking.workflow import OPEN_STATES
from luodi.errors import ValidationFailed
from luodi.inventory.codes import ContractCategory, region_chain
from luodi.inventory.taxonomy import active_taxonomy
from luodi.landing import funnel as trail
from luodi.landing import landings

__all__ = ["FunnelStage", "Group", "StageDays", "Stats", "compute_stats",
           "funnel_from_ranks", "group_label", "money", "period_window", "quantile",
           "region_label", "share"]

QUANTILES = (0.5, 0.9)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class FunnelStage:
    """One funnel stage: cases of the cohort that reached it, and the rates."""

    stage: str
    reached: int
    step_rate: float | None  # reached / reached at the previous stage (opened for the first)
    overall_rate: float | None  # reached / opened


@dataclass(frozen=True)
class StageDays:
    """Days spent in a stage over the stays that ended in the period."""

    stage: str
    stays: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class Group:
    """Landings of one group of a dimension (a field, an institution, a district…)."""

    key: Any
    label: str
    count: int
    value_wan: Decimal


@dataclass(frozen=True)
class Stats:
    """The landing statistics for one period; :meth:`as_json` is the stable output."""

    date_from: dt.date | None
    date_to: dt.date | None
    today: dt.date
    stale_days: int
    opened: int
    funnel: tuple[FunnelStage, ...]
    closed: dict[str, int]
    landed_then_cancelled: int
    stage_days: tuple[StageDays, ...]
    stalled: dict[str, int]
    totals: landings.Totals
    groups: dict[str, tuple[Group, ...]]
    generated_at: dt.datetime = field(default_factory=utcnow)

    @property
    def jjj_share_count(self) -> float | None:
        """Landings in 京津冀 ÷ all landings (None without landings)."""
        return share(self.totals.jjj_count, self.totals.count)

    @property
    def jjj_share_value(self) -> float | None:
        """Σ amount landing in 京津冀 ÷ Σ amount of all landings (None if the total is 0)."""
        return share(self.totals.jjj_value, self.totals.value)

    def as_json(self) -> dict[str, Any]:
        """The figures with stable keys (money 2 places, shares 4, days 2); see docs/landing.md."""
        return {
            "period": {"from": _iso(self.date_from), "to": _iso(self.date_to),
                       "today": self.today.isoformat(), "days": "UTC"},
            "funnel": {
                "opened": self.opened,
                "stages": [vars(s).copy() for s in self.funnel],
                "closed": {"total": sum(self.closed.values()),
                           "by_state": {s: self.closed.get(s, 0) for s in trail.STAY_STAGES}},
                "landed_then_cancelled": self.landed_then_cancelled,
            },
            "stage_days": [vars(s).copy() for s in self.stage_days],
            "stalled": {"stale_days": self.stale_days, "total": sum(self.stalled.values()),
                        "by_stage": {s: self.stalled.get(s, 0) for s in trail.FUNNEL
                                     if s in OPEN_STATES}},
            "landings": {"count": self.totals.count, "value_wan": money(self.totals.value),
                         **{f"by_{dim}": [_group_json(g) for g in groups]
                            for dim, groups in self.groups.items()}},
            "jjj": {"count": self.totals.jjj_count, "value_wan": money(self.totals.jjj_value)},
            "jjj_share_count": self.jjj_share_count,
            "jjj_share_value": self.jjj_share_value,
            "beijing_to_tianjin_hebei": self._beijing_json(),
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
        }

    def _beijing_json(self) -> dict[str, Any]:
        t = self.totals
        return {"sellers_count": t.beijing_count, "sellers_value_wan": money(t.beijing_value),
                "count": t.beijing_tj_hb_count, "value_wan": money(t.beijing_tj_hb_value),
                "share_count": share(t.beijing_tj_hb_count, t.beijing_count),
                "share_value": share(t.beijing_tj_hb_value, t.beijing_value)}


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _group_json(group: Group) -> dict[str, Any]:
    return {"key": group.key, "label": group.label, "count": group.count,
            "value_wan": money(group.value_wan)}


def money(value: Decimal) -> float:
    """万元 as a float with 2 places (half-up, as the registration forms round)."""
    return float(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def share(part: int | Decimal, whole: int | Decimal) -> float | None:
    """``part / whole`` rounded to 4 places; None when ``whole`` is 0 (no fake zero)."""
    if not whole:
        return None
    return round(float(Decimal(part) / Decimal(whole)), 4)


def region_label(code: str | None) -> str:
    """'北京市 海淀区' for a current code; the province for a retired one; '' if unknown."""
    if not code:
        return ""
    try:
        return " ".join(region_chain(code))
    except ValidationFailed:
        try:
            return region_chain(code[:2] + "0000")[0]
        except ValidationFailed:
            return ""


def period_window(date_from: dt.date | None, date_to: dt.date | None,
                  today: dt.date) -> trail.Window:
    """The period's UTC instants: [midnight of date_from, midnight after date_to), and the
    as-of instant (midnight after ``today``)."""

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)

    one = dt.timedelta(days=1)
    return trail.Window(start=midnight(date_from) if date_from else None,
                        end=midnight(date_to + one) if date_to else None,
                        as_of=midnight(today + one))


def funnel_from_ranks(by_top: dict[int | None, int]) -> tuple[int, tuple[FunnelStage, ...]]:
    """Opened and the funnel stages from the cases counted per furthest rank reached."""
    opened = sum(by_top.values())
    stages, previous = [], opened
    for rank, stage in enumerate(trail.FUNNEL):
        reached = sum(n for top, n in by_top.items() if top is not None and top >= rank)
        stages.append(FunnelStage(stage, reached, share(reached, previous),
                                  share(reached, opened)))
        previous = reached
    return opened, tuple(stages)


def quantile(values: list[float], q: float) -> float:
    """The q-quantile of sorted ``values``: linear between the order statistics around
    position (n − 1)·q — ``statistics.quantiles(method="inclusive")`` and numpy's default."""
    position = (len(values) - 1) * q
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def _stage_days(durations: dict[str, list[float]]) -> tuple[StageDays, ...]:
    out = []
    for stage in trail.STAY_STAGES:
        values = durations.get(stage, [])
        if values:
            median, p90 = (round(quantile(values, q), 2) for q in QUANTILES)
            out.append(StageDays(stage, len(values), median, p90))
        else:
            out.append(StageDays(stage, 0, None, None))
    return tuple(out)


def group_label(dimension: str, key: Any, label: str | None) -> str:
    """The label shown for a group: a region's name, a category's or field's Chinese name,
    the joined name (institution, broker) — or "unspecified" for deals without the key."""
    if key is None:
        return "未填 / unspecified"
    if dimension == "district":
        return region_label(key)
    if dimension == "category":
        try:
            return ContractCategory.parse(key).label()
        except ValidationFailed:
            return str(key)
    if dimension == "field":
        try:
            return active_taxonomy().get(key).name_zh
        except ValidationFailed:
            return str(key)
    return label or ""


def _groups(session: Session, date_from: dt.date | None,
            date_to: dt.date | None) -> dict[str, tuple[Group, ...]]:
    return {dim: tuple(Group(key, group_label(dim, key, label), n, value)
                       for key, label, n, value in landings.group_rows(session, dim, date_from,
                                                                       date_to))
            for dim in landings.DIMENSIONS}


def compute_stats(session: Session, actor: Actor, *, date_from: dt.date | None = None,
                  date_to: dt.date | None = None, today: dt.date | None = None,
                  settings: Settings | None = None) -> Stats:
    """The landing statistics for ``[date_from, date_to]`` (``stats.read``: staff, viewers).

    ``today`` (default: the current UTC day) is the as-of day: trail figures ignore later
    events, and stalled cases are those idle ``case_stale_days`` (from ``settings``, else the
    setting's default) before it. Each figure is one SQL query, documented where it lives:
    :mod:`luodi.landing.funnel` and :mod:`luodi.landing.landings`.
    """
    authorize(session, actor, "stats.read")
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed(f"开始日期晚于结束日期 / The period starts ({date_from}) after "
                               f"it ends ({date_to}).", data={"field": "date_from"})
    today = today or utcnow().date()
    stale_days = (settings.case_stale_days if settings is not None
                  else int(Settings.model_fields["case_stale_days"].default))
    window = period_window(date_from, date_to, today)
    opened, stages = funnel_from_ranks(trail.reached_counts(session, window))
    cutoff = window.as_of - dt.timedelta(days=stale_days + 1)  # midnight of today − N days
    return Stats(
        date_from=date_from, date_to=date_to, today=today, stale_days=stale_days,
        opened=opened, funnel=stages, closed=trail.closed_by_state(session, window),
        landed_then_cancelled=trail.landed_then_cancelled(session, window),
        stage_days=_stage_days(trail.stage_durations(session, window)),
        stalled=trail.stalled_by_stage(session, cutoff),
        totals=landings.totals(session, date_from, date_to),
        groups=_groups(session, date_from, date_to))
