"""The event scheduler: nobody double-booked, tables and availability hold, CP-SAT ≥ greedy,
and on tiny events CP-SAT's weight equals the brute-force optimum."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from luodi.docking.scheduler import (
    PRIORITY_WEIGHTS,
    Schedule,
    assign_tables,
    greedy_schedule,
    schedule,
)


@st.composite
def events(draw, max_requests: int = 14, dense: bool = False):  # type: ignore[no-untyped-def]
    """Random events; ``dense`` ones (few people asking each other, few slots) often defeat
    stage 2 of the scheduler and so exercise the full model."""
    n_p = draw(st.integers(3, 4) if dense else st.integers(2, 7))
    # No slots or no tables: see test_empty_and_degenerate_inputs.
    n_s = draw(st.integers(1, 2) if dense else st.integers(1, 4))
    tables = draw(st.integers(1, 2) if dense else st.integers(1, 3))
    pairs = list(itertools.permutations(range(n_p), 2))
    requests = draw(st.lists(st.sampled_from(pairs), min_size=3 if dense else 1,
                             max_size=max_requests))
    weights = draw(st.lists(st.sampled_from(sorted(PRIORITY_WEIGHTS.values())),
                            min_size=len(requests), max_size=len(requests)))
    unavailable = draw(st.dictionaries(st.integers(0, n_p - 1),
                                       st.sets(st.integers(0, n_s - 1), max_size=n_s),
                                       max_size=n_p))
    return requests, weights, n_p, n_s, tables, unavailable


def _check_valid(plan: Schedule, requests, weights, n_s, tables, unavailable) -> None:  # type: ignore[no-untyped-def]
    rs = [r for r, _, _ in plan.assignments]
    assert len(rs) == len(set(rs)) == plan.met  # each request at most once
    seats = Counter((s, t) for _, s, t in plan.assignments)
    assert all(n == 1 for n in seats.values())  # one meeting per table and slot
    per_slot = Counter(s for _, s, _ in plan.assignments)
    assert all(n <= tables for n in per_slot.values())
    busy = Counter((p, s) for r, s, _ in plan.assignments for p in requests[r])
    assert all(n == 1 for n in busy.values())  # nobody double-booked
    pairs = Counter(frozenset(requests[r]) for r in rs)
    assert all(n == 1 for n in pairs.values())  # two parties meet once
    for r, s, t in plan.assignments:
        assert 0 <= s < n_s and 1 <= t <= tables
        assert all(s not in unavailable.get(p, ()) for p in requests[r])
    assert plan.weight_met == sum(weights[r] for r in rs)
    assert plan.requested == len(requests)


def _brute_best(requests, weights, n_s, tables, unavailable) -> int:  # type: ignore[no-untyped-def]
    """The best weight over every way to give each request a slot or none (tiny inputs)."""
    best = 0
    for choice in itertools.product(range(-1, n_s), repeat=len(requests)):
        chosen = [(r, s) for r, s in enumerate(choice) if s >= 0]
        busy = Counter((p, s) for r, s in chosen for p in requests[r])
        slots = Counter(s for _, s in chosen)
        pairs = Counter(frozenset(requests[r]) for r, _ in chosen)
        if (any(n > 1 for n in busy.values()) or any(n > tables for n in slots.values())
                or any(n > 1 for n in pairs.values())
                or any(s in unavailable.get(p, ()) for r, s in chosen for p in requests[r])):
            continue
        best = max(best, sum(weights[r] for r, _ in chosen))
    return best


@settings(max_examples=60, deadline=None)
@given(events())
def test_both_schedules_are_valid_and_cp_sat_is_at_least_greedy(case) -> None:  # type: ignore[no-untyped-def]
    requests, weights, n_p, n_s, tables, unavailable = case
    cp = schedule(requests, weights, n_p, n_s, tables, unavailable, time_limit=5.0)
    greedy = greedy_schedule(requests, weights, n_p, n_s, tables, unavailable)
    _check_valid(cp, requests, weights, n_s, tables, unavailable)
    _check_valid(greedy, requests, weights, n_s, tables, unavailable)
    assert cp.weight_met >= greedy.weight_met
    assert cp.status in ("OPTIMAL", "FEASIBLE") and greedy.status == "GREEDY"
    assert cp.method in ("trivial", "relaxation+slots", "full model")
    assert cp.weight_met <= cp.bound + 1e-6


@settings(max_examples=80, deadline=None)
@given(st.one_of(events(max_requests=5), events(max_requests=6, dense=True)))
def test_tiny_events_are_solved_to_the_brute_force_optimum(case) -> None:  # type: ignore[no-untyped-def]
    requests, weights, n_p, n_s, tables, unavailable = case
    cp = schedule(requests, weights, n_p, n_s, tables, unavailable, time_limit=5.0)
    assert cp.status == "OPTIMAL"
    assert cp.weight_met == _brute_best(requests, weights, n_s, tables, unavailable)


def test_cp_sat_beats_first_fit_where_greedy_blocks_itself() -> None:
    # Participant 0 can attend only slot 0; greedy gives slot 0 to the (1, 2) request first.
    requests = [(1, 2), (0, 1), (0, 2)]
    weights = [3, 2, 2]
    unavailable = {0: {1}}
    greedy = greedy_schedule(requests, weights, 3, 2, 1, unavailable)
    cp = schedule(requests, weights, 3, 2, 1, unavailable)
    assert (greedy.met, greedy.weight_met) == (1, 3)
    assert (cp.met, cp.weight_met, cp.status) == (2, 5, "OPTIMAL")
    assert cp.bound == 5


def test_high_priority_wins_one_for_one_but_not_one_for_two() -> None:
    # One table, one slot: the high-priority request beats a normal one…
    one = schedule([(0, 1), (2, 3)], [PRIORITY_WEIGHTS[1], PRIORITY_WEIGHTS[2]], 4, 1, 1)
    assert [r for r, _, _ in one.assignments] == [1]
    # …but two normal meetings beat one high-priority meeting that would block both.
    requests = [(0, 1), (0, 2), (1, 3)]
    weights = [PRIORITY_WEIGHTS[2], PRIORITY_WEIGHTS[1], PRIORITY_WEIGHTS[1]]
    two = schedule(requests, weights, 4, 1, 2)
    assert sorted(r for r, _, _ in two.assignments) == [1, 2]
    assert greedy_schedule(requests, weights, 4, 1, 2).met == 1  # greedy takes the high one


def test_when_the_picked_meetings_do_not_fit_the_full_model_decides() -> None:
    # Three people who all want to meet each other, two slots: each has room for two meetings,
    # so stage 1 picks all three, but a triangle needs three slots. The full model finds two.
    plan = schedule([(0, 1), (1, 2), (0, 2)], [2, 2, 2], 3, 2, 5)
    assert (plan.met, plan.status, plan.method, plan.bound) == (2, "OPTIMAL", "full model", 4)
    easy = schedule([(0, 1), (2, 3)], [2, 2], 4, 1, 2)
    assert (easy.met, easy.status, easy.method) == (2, "OPTIMAL", "relaxation+slots")


def test_both_directions_of_a_pair_meet_once() -> None:
    plan = schedule([(0, 1), (1, 0)], [2, 2], 2, 3, 2)
    assert plan.met == 1 and plan.requested == 2


def test_tables_stay_with_the_host_when_free() -> None:
    # Institution 0 meets enterprises 1, 2, 3 in slots 0, 1, 2; institution 4 meets 1 in slot 1.
    requests = [(1, 0), (2, 0), (3, 0), (1, 4)]
    out = assign_tables(requests, [(0, 0), (1, 1), (2, 2), (3, 1)], tables=2)
    seats = {r: t for r, _, t in out}
    assert seats[0] == seats[1] == seats[2]  # the host keeps its table all morning
    assert seats[3] != seats[1]
    assert out == sorted(out, key=lambda t: (t[1], t[2]))


def test_empty_and_degenerate_inputs() -> None:
    assert schedule([], [], 0, 5, 5).met == 0
    assert schedule([(0, 1)], [2], 2, 0, 5).status == "OPTIMAL"
    assert schedule([(0, 1)], [2], 2, 3, 0).met == 0
    assert schedule([(0, 1)], [2], 2, 2, 1, {0: {0}, 1: {1}}).met == 0
    assert schedule([(0, 1)], [2], 2, 2, 1).as_json()["met"] == 1


@pytest.mark.parametrize("args, message", [
    (([(0, 0)], [2], 2, 1, 1), "bad request"),
    (([(0, 5)], [2], 2, 1, 1), "bad request"),
    (([(0, 1)], [], 2, 1, 1), "one entry per request"),
    (([(0, 1)], [0], 2, 1, 1), "positive"),
    (([(0, 1)], [2], 2, 1, -1), "non-negative"),
])
def test_bad_inputs_are_refused(args, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        schedule(*args)
    with pytest.raises(ValueError, match="out of range"):
        greedy_schedule([(0, 1)], [2], 2, 1, 1, {0: {3}})
