"""Scheduling the 1:1 meetings of a docking event (对接会): CP-SAT, and a greedy plan to compare.

Pure code over indexes: the event service feeds it the accepted meeting requests as pairs of
participant indexes, one weight per request, the number of slots and tables, and the slots each
participant cannot attend; it gets back (request, slot, table) triples and the figures.

The model (OR-Tools CP-SAT), with a boolean ``x[r, s]`` for each request ``r`` and each slot ``s``
that both of its participants can attend::

    maximise   Σ weight[r] · x[r, s]
    subject to Σ_s x[r, s] ≤ 1                      each request is met at most once
               Σ_{r ∋ p} x[r, s] ≤ 1                each participant has one meeting per slot
               Σ_r x[r, s] ≤ tables                 no more meetings in a slot than tables
               Σ_{r ∈ pair} Σ_s x[r, s] ≤ 1         two parties meet once, even if both asked

Tables are interchangeable, so they are not in the model: the meetings of a slot get table
numbers 1…``tables`` after solving (:func:`assign_tables`). Weights come from the requester's
priority through :data:`PRIORITY_WEIGHTS`: a high-priority meeting counts 3, a normal one 2, so
the schedule prefers one high-priority meeting to one normal one but never gives up two normal
meetings for one high-priority meeting — the number of meetings stays the first concern.

Slots are nearly interchangeable, and that symmetry makes the model slow to prove optimal
(on the 200-participant benchmark it needed about 20 s). So :func:`schedule` goes in stages:

1. *Which meetings* — the relaxation without slots: each participant meets at most as many
   times as it has free slots, the room holds slots × tables, each pair meets once. Its
   optimum bounds every schedule.
2. *When* — a slot for each picked meeting (a feasibility model). If there is one, the
   schedule reaches the bound of stage 1 and is optimal; on real events this is the usual case.
3. Otherwise the full model above, hinted with the greedy plan, in the time that is left.

The result is never worse than greedy: if the time limit ends the search below the greedy
weight (or with no solution), the greedy plan is returned with status ``FEASIBLE``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

__all__ = ["PRIORITY_WEIGHTS", "Schedule", "assign_tables", "greedy_schedule", "schedule"]

# Request priority (1 normal, 2 high) → objective weight; see the module doc for why 2 and 3.
PRIORITY_WEIGHTS: Mapping[int, int] = {1: 2, 2: 3}


@dataclass(frozen=True)
class Schedule:
    """The meetings as (request index, slot, table) triples, sorted, and the figures."""

    assignments: list[tuple[int, int, int]] = field(default_factory=list)
    met: int = 0  # requests given a slot
    requested: int = 0  # requests in the input
    weight_met: int = 0
    status: str = "OPTIMAL"  # OPTIMAL | FEASIBLE (CP-SAT); GREEDY for the baseline
    seconds: float = 0.0
    bound: float = 0.0  # the best objective proven possible (the weight met when optimal)
    method: str = ""  # relaxation+slots | full model | greedy | trivial (nothing fits)

    def as_json(self) -> dict[str, Any]:
        """The figures, rounded for printing and storing."""
        return {"met": self.met, "requested": self.requested, "weight_met": self.weight_met,
                "status": self.status, "method": self.method,
                "seconds": round(self.seconds, 3), "bound": round(self.bound, 2)}


def _check(requests: list[tuple[int, int]], weights: list[int], n_participants: int,
           n_slots: int, tables: int, unavailable: Mapping[int, Iterable[int]]) -> None:
    if len(weights) != len(requests):
        raise ValueError("weights need one entry per request")
    if n_slots < 0 or tables < 0 or n_participants < 0:
        raise ValueError("n_participants, n_slots and tables must be non-negative")
    for a, b in requests:
        if not (0 <= a < n_participants and 0 <= b < n_participants) or a == b:
            raise ValueError(f"bad request pair ({a}, {b})")
    if any(w <= 0 or int(w) != w for w in weights):
        raise ValueError("weights must be positive integers")
    for p, slots in unavailable.items():
        if not 0 <= p < n_participants or any(not 0 <= s < n_slots for s in slots):
            raise ValueError(f"unavailable slots of participant {p} out of range")


def _free_slots(pair: tuple[int, int], n_slots: int,
                unavailable: Mapping[int, Iterable[int]]) -> list[int]:
    """The slots both parties can attend."""
    blocked = set(unavailable.get(pair[0], ())) | set(unavailable.get(pair[1], ()))
    return [s for s in range(n_slots) if s not in blocked]


def _pair_key(pair: tuple[int, int]) -> tuple[int, int]:
    return (min(pair), max(pair))


def assign_tables(requests: list[tuple[int, int]], chosen: Iterable[tuple[int, int]],
                  tables: int) -> list[tuple[int, int, int]]:
    """Table numbers (1…``tables``) for (request, slot) pairs; each slot must fit ``tables``.

    A meeting keeps the table one of its parties sat at in the previous meeting when that table
    is still free — a host (usually the institution) then stays seated, which is what organisers
    on the floor want — and otherwise takes the lowest free number.
    """
    by_slot: dict[int, list[int]] = defaultdict(list)
    for r, s in chosen:
        by_slot[s].append(r)
    seat: dict[int, int] = {}  # participant → table of their latest meeting
    out = []
    for s in sorted(by_slot):
        taken: set[int] = set()
        # Second party first: the target of a request is the one who was asked, the "host".
        for r in sorted(by_slot[s]):
            wish = next((seat[p] for p in reversed(requests[r]) if p in seat
                         and seat[p] not in taken), None)
            table = wish if wish is not None else min(set(range(1, tables + 1)) - taken)
            taken.add(table)
            seat[requests[r][0]] = seat[requests[r][1]] = table
            out.append((r, s, table))
    return sorted(out, key=lambda t: (t[1], t[2]))


def _result(requests: list[tuple[int, int]], weights: list[int],
            chosen: list[tuple[int, int]], tables: int, *, status: str, method: str,
            seconds: float, bound: float) -> Schedule:
    return Schedule(assignments=assign_tables(requests, chosen, tables), met=len(chosen),
                    requested=len(requests), weight_met=sum(weights[r] for r, _ in chosen),
                    status=status, method=method, seconds=seconds, bound=bound)


def _greedy_pairs(requests: list[tuple[int, int]], weights: list[int], n_slots: int,
                  tables: int, unavailable: Mapping[int, Iterable[int]]) -> list[tuple[int, int]]:
    busy: set[tuple[int, int]] = set()  # (participant, slot)
    used = [0] * n_slots
    met_pairs: set[tuple[int, int]] = set()
    chosen = []
    for r in sorted(range(len(requests)), key=lambda r: (-weights[r], r)):
        a, b = requests[r]
        if _pair_key((a, b)) in met_pairs:
            continue
        for s in _free_slots((a, b), n_slots, unavailable):
            if used[s] < tables and (a, s) not in busy and (b, s) not in busy:
                busy.update(((a, s), (b, s)))
                used[s] += 1
                met_pairs.add(_pair_key((a, b)))
                chosen.append((r, s))
                break
    return chosen


def greedy_schedule(requests: list[tuple[int, int]], weights: list[int], n_participants: int,
                    n_slots: int, tables: int,
                    unavailable: Mapping[int, Iterable[int]] | None = None) -> Schedule:
    """The baseline: requests by weight (then input order) take the first slot where both
    parties are free and a table is left. Status ``GREEDY``; ``bound`` is the total weight."""
    unavailable = unavailable or {}
    _check(requests, weights, n_participants, n_slots, tables, unavailable)
    started = time.perf_counter()
    chosen = _greedy_pairs(requests, weights, n_slots, tables, unavailable)
    return _result(requests, weights, chosen, tables, status="GREEDY", method="greedy",
                   seconds=time.perf_counter() - started, bound=float(sum(weights)))


class _Event:
    """The input, with what every stage needs precomputed: each request's common free slots and
    each participant's number of free slots."""

    def __init__(self, requests: list[tuple[int, int]], weights: list[int], n_slots: int,
                 tables: int, unavailable: Mapping[int, Iterable[int]]) -> None:
        self.requests, self.weights, self.tables = requests, weights, tables
        self.n_slots = n_slots
        self.free = [_free_slots(pair, n_slots, unavailable) for pair in requests]
        self.own_free = defaultdict(lambda: n_slots, {
            p: n_slots - len(set(slots)) for p, slots in unavailable.items()})

    def groups(self, keys: Iterable[tuple[int, int]], var: Callable[[int, int], Any],
               ) -> tuple[dict[Any, list[Any]], ...]:
        """Variables by (participant, slot), by slot, by pair and by participant."""
        person_slot, slot, pair, person = (defaultdict(list) for _ in range(4))
        for r, s in keys:
            v = var(r, s)
            a, b = self.requests[r]
            person_slot[a, s].append(v)
            person_slot[b, s].append(v)
            slot[s].append(v)
            pair[_pair_key((a, b))].append(v)
            person[a].append(v)
            person[b].append(v)
        return person_slot, slot, pair, person


def _solver(seconds: float, workers: int) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, seconds)
    solver.parameters.num_workers = max(1, int(workers))
    return solver


def _select(ev: _Event, hint: set[int], seconds: float,
            workers: int) -> tuple[list[int], float, bool]:
    """Stage 1, the relaxation without slots: which requests to meet, if every participant may
    have as many meetings as it has free slots and the room holds slots × tables. Its optimum
    bounds every schedule. Returns the picked requests, the bound, and whether it is proven."""
    model = cp_model.CpModel()
    y = {r: model.new_bool_var(f"y{r}") for r in range(len(ev.requests)) if ev.free[r]}
    _, _, pairs, people = ev.groups(((r, 0) for r in y), lambda r, _s: y[r])
    for group in pairs.values():
        model.add_at_most_one(group)
    for p, group in people.items():
        if len(group) > ev.own_free[p]:
            model.add(sum(group) <= ev.own_free[p])
    model.add(sum(y.values()) <= ev.n_slots * ev.tables)
    model.maximize(sum(ev.weights[r] * v for r, v in y.items()))
    for r, v in y.items():
        model.add_hint(v, r in hint)
    solver = _solver(seconds, workers)
    code = solver.solve(model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return [], float(sum(ev.weights)), False
    picked = [r for r, v in y.items() if solver.value(v)]
    return picked, float(solver.best_objective_bound), code == cp_model.OPTIMAL


def _slot(ev: _Event, picked: list[int], seconds: float,
          workers: int) -> list[tuple[int, int]] | None:
    """Stage 2: a slot for every picked request, or None if there is none (or no time)."""
    model = cp_model.CpModel()
    x = {(r, s): model.new_bool_var(f"x{r}_{s}") for r in picked for s in ev.free[r]}
    person_slot, slots, _, _ = ev.groups(x, lambda r, s: x[r, s])
    for r in picked:
        model.add_exactly_one(x[r, s] for s in ev.free[r])
    for group in person_slot.values():
        model.add_at_most_one(group)
    for group in slots.values():
        if len(group) > ev.tables:
            model.add(sum(group) <= ev.tables)
    solver = _solver(seconds, workers)
    if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return [key for key, var in x.items() if solver.value(var)]


def _full(ev: _Event, hint: set[tuple[int, int]], seconds: float,
          workers: int) -> tuple[list[tuple[int, int]], float, bool]:
    """Stage 3, the full model of the module doc (when stage 2 fails), hinted with greedy.

    The per-participant counts (no more meetings than free slots) follow from the other
    constraints, but stating them tightens the LP relaxation CP-SAT prunes with.
    """
    model = cp_model.CpModel()
    x = {(r, s): model.new_bool_var(f"x{r}_{s}")
         for r in range(len(ev.requests)) for s in ev.free[r]}
    person_slot, slots, pairs, people = ev.groups(x, lambda r, s: x[r, s])
    for group in (*person_slot.values(), *pairs.values()):  # pairs: each request once, too
        if len(group) > 1:
            model.add_at_most_one(group)
    for group in slots.values():
        if len(group) > ev.tables:
            model.add(sum(group) <= ev.tables)
    for p, group in people.items():
        if len(group) > ev.own_free[p]:
            model.add(sum(group) <= ev.own_free[p])
    model.maximize(sum(ev.weights[r] * var for (r, _), var in x.items()))
    for key, var in x.items():
        model.add_hint(var, key in hint)
    solver = _solver(seconds, workers)
    solver.parameters.linearization_level = 2  # measured: better solutions within 10 s
    code = solver.solve(model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return [], float(sum(ev.weights)), False
    return ([key for key, var in x.items() if solver.value(var)],
            float(solver.best_objective_bound), code == cp_model.OPTIMAL)


def schedule(requests: list[tuple[int, int]], weights: list[int], n_participants: int,
             n_slots: int, tables: int, unavailable: Mapping[int, Iterable[int]] | None = None,
             time_limit: float = 10.0, workers: int = 2) -> Schedule:
    """The CP-SAT schedule of the accepted requests (see the module doc for the model)."""
    unavailable = unavailable or {}
    _check(requests, weights, n_participants, n_slots, tables, unavailable)
    started = time.perf_counter()
    greedy = _greedy_pairs(requests, weights, n_slots, tables, unavailable)
    if not greedy:  # nothing fits at all (no slots, no tables or no requests): trivially optimal
        return _result(requests, weights, [], tables, status="OPTIMAL", method="trivial",
                       seconds=time.perf_counter() - started, bound=0.0)
    ev = _Event(requests, weights, n_slots, tables, unavailable)

    def left(share: float = 1.0) -> float:
        return (time_limit - (time.perf_counter() - started)) * share

    picked, bound, proven = _select(ev, {r for r, _ in greedy}, left(0.3), workers)
    slotted = _slot(ev, picked, left(0.3), workers) if proven else None
    if slotted is not None:  # the relaxation's optimum fits the slots: proven optimal
        return _result(requests, weights, slotted, tables, status="OPTIMAL",
                       method="relaxation+slots", seconds=time.perf_counter() - started,
                       bound=bound)
    chosen, full_bound, optimal = _full(ev, set(greedy), left(), workers)
    if sum(weights[r] for r, _ in chosen) < sum(weights[r] for r, _ in greedy):
        chosen, optimal = greedy, False  # the time ran out below the hint: keep greedy's plan
    weight = sum(weights[r] for r, _ in chosen)
    bound = min(bound, full_bound)  # both are valid upper bounds, proven or not
    return _result(requests, weights, chosen, tables, method="full model",
                   status="OPTIMAL" if optimal or weight >= bound else "FEASIBLE",
                   seconds=time.perf_counter() - started, bound=bound)
