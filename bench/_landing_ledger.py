"""A synthetic docking ledger for bench/landing_stats.py: cases with realistic trails, deals.

Cases open uniformly over two years (2024-07-01 … 2026-06-30). Each moves through the
workflow with a per-stage chance to advance and an exponential wait (mean days per stage
below); a case that does not advance is closed (55 %) or just goes quiet (still open, maybe
stalled). Between contacts and negotiation, 80 % meet first (30 % of those meet again, a
meeting → meeting transition); the others negotiate directly. Besides transitions the trail
holds consents (two, before contacts are revealed), meeting records and notes, about five
events per case in all. Waits that run past 2026-06-30 leave the case where it is.

Landed cases get a deal (the first ``deals`` of them; any further landed case is cut back
to "agreed"). Sellers are 55 % Beijing; Beijing sellers land 50 % in Beijing, 25 % in
Tianjin or Hebei; 4 % of deals are cancelled. Rows go in with core ``insert()`` executemany
in batches, ids assigned here so events can point at their case without RETURNING.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert

from luodi.auth.models import Organisation, User
from luodi.docking.models import Case, CaseEvent
from luodi.inventory.models import Institution
from luodi.inventory.taxonomy import active_taxonomy
from luodi.landing.models import CATEGORIES, Deal

START = dt.datetime(2024, 7, 1, tzinfo=dt.UTC)
END = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
ADVANCE = {"interested": 0.7, "accepted": 0.8, "contacts_revealed": 0.86, "meeting": 0.6,
           "negotiating": 0.45, "agreed": 0.9}
MEAN_WAIT = {"interested": 4, "accepted": 6, "contacts_revealed": 10, "meeting": 14,
             "negotiating": 25, "agreed": 12}
BEIJING = ("110101", "110102", "110105", "110106", "110108", "110111", "110112", "110114",
           "110115")
TIANJIN = ("120101", "120104", "120110", "120113", "120116")
HEBEI = ("130102", "130104", "130203", "130602", "130632", "130638", "131002", "131082")
ELSEWHERE = ("310115", "310104", "440305", "440106", "320508", "330106", "370211", "420111",
             "510107", "610113", "340104")
INSTITUTIONS, BROKERS, ORGS = 50, 30, 40
BATCH = 10_000


def _next_state(state: str, rng: random.Random) -> str:
    if state == "contacts_revealed":
        return "meeting" if rng.random() < 0.8 else "negotiating"
    if state == "meeting":
        return "meeting" if rng.random() < 0.2 else "negotiating"
    order = ("interested", "accepted", "contacts_revealed", "negotiating", "agreed", "landed")
    return order[order.index(state) + 1]


def _extras(target: str, before: dt.datetime,
            at: dt.datetime) -> list[tuple[dt.datetime, str]]:
    """Non-transition events that go with a step (consents before a reveal, a meeting)."""
    if target == "contacts_revealed":
        return [(max(before, at - dt.timedelta(hours=30)), "consent"), (at, "consent")]
    if target == "meeting":
        return [(at, "meeting")]
    return []


def trail(rng: random.Random, opened: dt.datetime) -> list[tuple[dt.datetime, str, Any, Any]]:
    """One case's events, in time order: (at, kind, from_state, to_state)."""
    events: list[tuple[dt.datetime, str, Any, Any]] = [(opened, "transition", None,
                                                        "interested")]
    state, at = "interested", opened
    while state not in ("landed", "closed"):
        before, at = at, at + dt.timedelta(days=rng.expovariate(1 / MEAN_WAIT[state]))
        if at >= END:
            break
        if rng.random() < ADVANCE[state]:
            target = _next_state(state, rng)
            events += [(when, kind, None, None) for when, kind in _extras(target, before, at)]
        elif rng.random() < 0.55:
            target = "closed"
        else:
            break  # goes quiet
        events.append((at, "transition", state, target))
        state = target
    last = events[-1][0]
    for _ in range(rng.choice((0, 0, 0, 0, 1, 1, 2))):
        events.append((opened + (last - opened) * rng.random(), "note", None, None))
    events.sort(key=lambda e: e[0])
    return events


def _deal(rng: random.Random, case_id: int, signed: dt.date, n: int) -> dict[str, Any]:
    seller = rng.choices((BEIJING, TIANJIN, HEBEI, ELSEWHERE), (55, 10, 10, 25))[0]
    if seller is BEIJING:
        landing = rng.choices((BEIJING, TIANJIN, HEBEI, ELSEWHERE), (50, 12, 13, 25))[0]
    else:
        landing = rng.choices((seller, BEIJING, ELSEWHERE), (60, 15, 25))[0]
    amount = min(math.exp(rng.gauss(4.5, 1.3)), 999_999)
    fields = active_taxonomy().codes
    return {"case_id": case_id, "category": rng.choice(CATEGORIES), "title": f"技术合同{case_id}",
            "amount_wan": Decimal(f"{amount:.2f}"), "signed_on": signed,
            "registration_no": f"{1101082024000000 + n}" if rng.random() < 0.8 else None,
            "transfer_mode": rng.choice(("transfer", "license", "equity_investment")),
            "field_code": rng.choice(fields) if rng.random() < 0.95 else None,
            "landing_region_code": rng.choice(landing), "seller_region_code": rng.choice(seller),
            "broker_id": rng.randint(1, BROKERS) if rng.random() < 0.8 else None,
            "institution_id": rng.randint(1, INSTITUTIONS) if rng.random() < 0.9 else None,
            "status": "cancelled" if rng.random() < 0.04 else "signed"}


def _cut_back(events: list[tuple[dt.datetime, str, Any, Any]]) -> None:
    # Beyond the wanted number of deals a landed case stays agreed: no deal, no landing.
    landing = next(i for i, e in enumerate(events) if e[3] == "landed")
    del events[landing]


def generate(cases: int, deals: int, seed: int = 20260101) -> Iterator[tuple[str, list[dict]]]:
    """Batches of rows, (table name, rows): parties first, then cases, events and deals."""
    rng = random.Random(seed)
    yield "organisations", [{"id": i, "name": f"基准机构{i}", "kind": "enterprise"}
                            for i in range(1, ORGS + 1)]
    yield "institutions", [{"id": i, "name": f"基准大学{i}", "region_code": rng.choice(BEIJING)}
                           for i in range(1, INSTITUTIONS + 1)]
    yield "users", [{"id": i, "email": f"broker{i}@bench.example", "display_name": f"经理人{i}",
                     "role": "broker", "password_hash": "x"} for i in range(1, BROKERS + 1)]
    case_rows: list[dict] = []
    event_rows: list[dict] = []
    deal_rows: list[dict] = []
    event_id = 0
    for case_id in range(1, cases + 1):
        opened = START + (END - START) * rng.random()
        events = trail(rng, opened)
        landed = [e for e in events if e[3] == "landed"]
        if landed and len(deal_rows) >= deals:
            _cut_back(events)
            landed = []
        if landed:
            deal_rows.append(_deal(rng, case_id, landed[0][0].date(), len(deal_rows)))
        state = next(e[3] for e in reversed(events) if e[1] == "transition")
        case_rows.append({"id": case_id, "kind": "achievements",
                          "seeker_org_id": rng.randint(1, ORGS), "state": state,
                          "broker_id": rng.randint(1, BROKERS) if rng.random() < 0.6 else None,
                          "opened_at": opened, "last_event_at": events[-1][0]})
        for at, kind, source, target in events:
            event_id += 1
            event_rows.append({"id": event_id, "case_id": case_id, "at": at, "kind": kind,
                               "action": target if kind == "transition" else None,
                               "from_state": source, "to_state": target, "internal": False})
        if len(event_rows) >= BATCH:
            yield "cases", case_rows
            yield "case_events", event_rows
            case_rows, event_rows = [], []
    yield "cases", case_rows
    yield "case_events", event_rows
    for start in range(0, len(deal_rows), BATCH):
        yield "deals", deal_rows[start:start + BATCH]


TABLES = {"organisations": Organisation, "institutions": Institution, "users": User,
          "cases": Case, "case_events": CaseEvent, "deals": Deal}


def load(conn: Connection, cases: int, deals: int) -> dict[str, int]:
    """Insert the synthetic ledger through ``conn``; returns the row count per table."""
    counts: dict[str, int] = {}
    for table, rows in generate(cases, deals):
        if rows:
            conn.execute(insert(TABLES[table].__table__), rows)  # type: ignore[attr-defined]
            counts[table] = counts.get(table, 0) + len(rows)
    return counts
