"""Reconciliation: every landing figure recomputed from the exported CSV alone, the funnel and
the days per stage recomputed in plain Python from the events, and random ledgers checked for
shares in [0, 1], groups that add up and periods that partition."""

from __future__ import annotations

import csv
import datetime as dt
import random
import statistics
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from luodi.auth.actor import system_actor
from luodi.docking.models import Case, CaseEvent
from luodi.landing.exports import DEAL_HEADERS, export_deals
from luodi.landing.funnel import FUNNEL, STAY_STAGES
from luodi.landing.stats import Stats, compute_stats, money, share
from tests.landing import stats_fixtures as sf
from tests.landing.stats_fixtures import add_case, add_deal, at, clear_ledger, ledger_world

SYSTEM = system_actor()
TODAY = dt.date(2026, 12, 31)
LANDINGS = sf.BEIJING + sf.TIANJIN + sf.HEBEI + sf.ELSEWHERE
SELLERS = ("110108", "110105", "120116", "130638", "310115", None)
PERIODS = [(None, None), (dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
           (dt.date(2025, 11, 1), dt.date(2025, 11, 30)), (dt.date(2026, 2, 1), None),
           (None, dt.date(2025, 12, 31))]


def _trail(rng: random.Random) -> list[tuple[str, float]]:
    """A path along the funnel, sometimes skipping the meeting, sometimes meeting twice,
    sometimes closed on the way."""
    stop = rng.randrange(len(FUNNEL))
    trail, day = [], 0.0
    for state in FUNNEL[1:stop + 1]:
        day += rng.choice([0.25, 1, 2.5, 4, 9, 20])
        if state == "meeting" and rng.random() < 0.3:
            continue  # contacts_revealed → negotiating
        trail.append((state, day))
        if state == "meeting" and rng.random() < 0.4:
            day += 3
            trail.append(("meeting", day))
    if stop < len(FUNNEL) - 1 and rng.random() < 0.4:
        trail.append(("closed", day + rng.choice([1, 6, 30])))
    return trail


def _varied_ledger(session, w, seed: int = 11) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    for i in range(300):
        opened = at(2025, 10, 1) + dt.timedelta(days=rng.randrange(450), hours=rng.randrange(24))
        case = add_case(session, w, opened=opened, trail=_trail(rng), commit=False)
        if case.state == "landed" or rng.random() < 0.25:
            add_deal(session, w, case, amount=f"{rng.randrange(0, 500_000) / 100:.2f}",
                     signed_on=opened.date() + dt.timedelta(days=rng.randrange(120)),
                     landing=rng.choice(LANDINGS), seller=rng.choice(SELLERS),
                     category=rng.choice(sf.CATEGORIES), field_code=rng.choice(sf.FIELDS),
                     institution=rng.choice([0, 1, None]), broker=rng.choice([0, 1, None]),
                     status="cancelled" if rng.random() < 0.15 else "signed",
                     registration_no=f"{2026_0000_0000_0000 + i}", commit=False)
    session.commit()


# --- the reference: landings from the CSV ---------------------------------------------------


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == DEAL_HEADERS
        return list(reader)


def _key(value: str, numeric: bool = False) -> Any:
    if value == "":
        return None
    return int(value) if numeric else value


def _from_csv(rows: list[dict[str, str]]) -> dict[str, Any]:
    """The landing figures as someone with only the spreadsheet would compute them."""
    signed = [r for r in rows if r["status"] == "signed"]
    value = lambda rs: sum((Decimal(r["amount"]) for r in rs), Decimal(0))  # noqa: E731
    jjj = [r for r in signed if r["landing_region_code"][:2] in ("11", "12", "13")]
    bj = [r for r in signed if r["seller_region_code"].startswith("11")]
    bj_tjhb = [r for r in bj if r["landing_region_code"][:2] in ("12", "13")]
    out: dict[str, Any] = {
        "count": len(signed), "value_wan": money(value(signed)),
        "jjj": {"count": len(jjj), "value_wan": money(value(jjj))},
        "jjj_share_count": share(len(jjj), len(signed)),
        "jjj_share_value": share(value(jjj), value(signed)),
        "beijing_to_tianjin_hebei": {
            "sellers_count": len(bj), "sellers_value_wan": money(value(bj)),
            "count": len(bj_tjhb), "value_wan": money(value(bj_tjhb)),
            "share_count": share(len(bj_tjhb), len(bj)),
            "share_value": share(value(bj_tjhb), value(bj))}}
    for dim, column, numeric in (("field", "field_code", False),
                                 ("institution", "institution_id", True),
                                 ("broker", "broker_id", True),
                                 ("district", "landing_region_code", False),
                                 ("category", "category", False)):
        groups: dict[Any, list[dict[str, str]]] = defaultdict(list)
        for r in signed:
            groups[_key(r[column], numeric)].append(r)
        out[f"by_{dim}"] = {k: (len(rs), money(value(rs))) for k, rs in groups.items()}
    return out


def _from_stats(body: dict[str, Any]) -> dict[str, Any]:
    landings = body["landings"]
    out = {k: body[k] for k in ("jjj", "jjj_share_count", "jjj_share_value",
                                "beijing_to_tianjin_hebei")}
    out |= {"count": landings["count"], "value_wan": landings["value_wan"]}
    for dim in ("field", "institution", "broker", "district", "category"):
        out[f"by_{dim}"] = {g["key"]: (g["count"], g["value_wan"])
                            for g in landings[f"by_{dim}"]}
    return out


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: f"{p[0]}..{p[1]}")
def test_every_landing_figure_is_recomputed_from_the_exported_csv(session, tmp_path,
                                                                   period) -> None:  # type: ignore[no-untyped-def]
    w = ledger_world(session)
    _varied_ledger(session, w)
    date_from, date_to = period
    path = tmp_path / "deals.csv"
    rows = export_deals(session, SYSTEM, path, date_from=date_from, date_to=date_to)
    exported = _read(path)
    assert rows == len(exported)
    assert {r["status"] for r in exported} == {"signed", "cancelled"}
    assert all((date_from is None or r["signed_on"] >= date_from.isoformat())
               and (date_to is None or r["signed_on"] <= date_to.isoformat()) for r in exported)
    body = compute_stats(session, SYSTEM, date_from=date_from, date_to=date_to,
                         today=TODAY).as_json()
    assert body["landings"]["count"] > 0
    assert _from_stats(body) == _from_csv(exported)


# --- the reference: funnel and days per stage from the events --------------------------------


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _in(moment: dt.datetime, start: dt.date | None, end: dt.date | None) -> bool:
    return ((start is None or moment >= _midnight(start))
            and (end is None or moment < _midnight(end + dt.timedelta(days=1))))


def _trail_reference(session, date_from, date_to, today):  # type: ignore[no-untyped-def]
    as_of = _midnight(today + dt.timedelta(days=1))
    events: dict[int, list[CaseEvent]] = defaultdict(list)
    for e in session.scalars(select(CaseEvent).order_by(CaseEvent.at, CaseEvent.id)):
        if e.kind == "transition" and e.at < as_of:
            events[e.case_id].append(e)
    cohort = [c.id for c in session.scalars(select(Case))
              if _in(c.opened_at, date_from, date_to) and c.opened_at < as_of]
    reached, closed = [0] * len(FUNNEL), defaultdict(int)
    for case_id in cohort:
        ranks = [FUNNEL.index(e.to_state) for e in events[case_id] if e.to_state in FUNNEL]
        for rank in range(max(ranks) + 1 if ranks else 0):
            reached[rank] += 1
        for e in events[case_id]:
            if e.to_state == "closed":
                closed[e.from_state] += 1
    stays: dict[str, list[float]] = defaultdict(list)
    for trail in events.values():
        moves = [e for e in trail if e.from_state != e.to_state]
        for entered, left in zip(moves, moves[1:], strict=False):
            if entered.to_state in STAY_STAGES and _in(left.at, date_from, date_to):
                stays[entered.to_state].append((left.at - entered.at).total_seconds() / 86400)
    return len(cohort), reached, dict(closed), stays


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: f"{p[0]}..{p[1]}")
def test_funnel_and_stage_days_match_a_plain_recomputation_from_the_events(session,
                                                                           period) -> None:  # type: ignore[no-untyped-def]
    w = ledger_world(session)
    _varied_ledger(session, w)
    today = dt.date(2026, 4, 15)  # some events lie after it
    opened, reached, closed, stays = _trail_reference(session, *period, today)
    got = compute_stats(session, SYSTEM, date_from=period[0], date_to=period[1], today=today)
    assert got.opened == opened and opened > 0
    assert [s.reached for s in got.funnel] == reached
    assert got.closed == closed
    for d in got.stage_days:
        durations = sorted(stays.get(d.stage, []))
        assert d.stays == len(durations)
        if len(durations) >= 2:
            q = statistics.quantiles(durations, n=10, method="inclusive")
            assert d.median == pytest.approx(statistics.median(durations), abs=0.006)
            assert d.p90 == pytest.approx(q[8], abs=0.006)
        elif durations:
            assert d.median == d.p90 == pytest.approx(durations[0], abs=0.006)


# --- random ledgers ----------------------------------------------------------------------------

DEAL = st.fixed_dictionaries({
    "amount": st.decimals(min_value=0, max_value=100_000, places=2),
    "signed": st.integers(0, 200), "landing": st.sampled_from(LANDINGS),
    "seller": st.sampled_from(SELLERS), "category": st.sampled_from(sf.CATEGORIES),
    "cancelled": st.booleans()})
CASES = st.lists(st.tuples(st.integers(0, 200), st.integers(0, 10_000), st.none() | DEAL),
                 max_size=25)
DAY0 = dt.date(2026, 1, 1)


def _write(session, w, cases) -> None:  # type: ignore[no-untyped-def]
    clear_ledger(session)
    for opened_day, seed, deal in cases:
        opened = at(2026, 1, 1) + dt.timedelta(days=opened_day, hours=seed % 24)
        case = add_case(session, w, opened=opened, trail=_trail(random.Random(seed)),
                        commit=False)
        if deal:
            add_deal(session, w, case, amount=deal["amount"],
                     signed_on=DAY0 + dt.timedelta(days=deal["signed"]),
                     landing=deal["landing"], seller=deal["seller"],
                     category=deal["category"],
                     status="cancelled" if deal["cancelled"] else "signed", commit=False)
    session.commit()


def _additive(s: Stats) -> list[Any]:
    t = s.totals
    return [s.opened, *(f.reached for f in s.funnel), sum(s.closed.values()),
            *(d.stays for d in s.stage_days), t.count, t.value, t.jjj_count, t.jjj_value,
            t.beijing_count, t.beijing_value, t.beijing_tj_hb_count, t.beijing_tj_hb_value]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cases=CASES, cut=st.integers(0, 200), span=st.integers(0, 200))
def test_random_ledgers_keep_shares_bounded_groups_summed_and_periods_partitioned(
        session, cases, cut, span) -> None:  # type: ignore[no-untyped-def]
    w = ledger_world(session)
    _write(session, w, cases)
    a, b = DAY0, DAY0 + dt.timedelta(days=cut)
    c = b + dt.timedelta(days=span + 1)

    def run(start: dt.date, end: dt.date) -> Stats:
        return compute_stats(session, SYSTEM, date_from=start, date_to=end, today=TODAY)

    whole, first, second = run(a, c), run(a, b), run(b + dt.timedelta(days=1), c)
    for s in (whole, first, second):
        body = s.as_json()
        shares = [body["jjj_share_count"], body["jjj_share_value"],
                  *(body["beijing_to_tianjin_hebei"][k] for k in ("share_count", "share_value")),
                  *(f.step_rate for f in s.funnel), *(f.overall_rate for f in s.funnel)]
        assert all(x is None or 0 <= x <= 1 for x in shares)
        for groups in s.groups.values():
            assert sum(g.count for g in groups) == s.totals.count
            assert sum((g.value_wan for g in groups), Decimal(0)) == s.totals.value
        assert all(d.median is None or 0 <= d.median <= d.p90 for d in s.stage_days)
        assert [f.reached for f in s.funnel] == sorted((f.reached for f in s.funnel),
                                                       reverse=True)
    assert _additive(whole) == [x + y for x, y in zip(_additive(first), _additive(second),
                                                      strict=True)]
