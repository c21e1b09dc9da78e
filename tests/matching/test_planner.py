"""The push planner: caps hold, nothing outside the allowed pairs, coverage never below greedy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from luodi.matching.planner import gini, greedy_plan, plan_cycle


@st.composite
def cycles(draw):  # type: ignore[no-untyped-def]
    n_r = draw(st.integers(1, 6))
    n_i = draw(st.integers(1, 8))
    all_pairs = list(itertools.product(range(n_r), range(n_i)))
    pairs = draw(st.lists(st.sampled_from(all_pairs), unique=True, max_size=len(all_pairs)))
    scores = draw(st.lists(st.floats(0.0, 5.0), min_size=len(pairs), max_size=len(pairs)))
    k = draw(st.integers(1, 3))
    d = draw(st.integers(1, 3))
    r = np.array([p[0] for p in pairs], np.int64)
    i = np.array([p[1] for p in pairs], np.int64)
    return r, i, np.array(scores), n_i, k, d


def _coverage_units(plan, item, n_items, d):  # type: ignore[no-untyped-def]
    per_item = np.bincount(item[plan.chosen], minlength=n_items)
    return int(np.minimum(per_item, d).sum())


def _brute_best_units(r, i, n_items, k, d):  # type: ignore[no-untyped-def]
    """The most coverage units any plan within the caps can reach (tiny inputs only)."""
    best = 0
    for mask in itertools.product((0, 1), repeat=len(r)):
        chosen = np.flatnonzero(mask)
        if len(chosen) and np.bincount(r[chosen]).max() > k:
            continue
        per_item = np.bincount(i[chosen], minlength=n_items)
        best = max(best, int(np.minimum(per_item, d).sum()))
    return best


@settings(max_examples=80, deadline=None)
@given(cycles())
def test_the_flow_plan_respects_caps_and_beats_greedy_on_coverage(case) -> None:  # type: ignore[no-untyped-def]
    r, i, s, n_i, k, d = case
    plan = plan_cycle(r, i, s, n_items=n_i, k=k, d=d)
    greedy = greedy_plan(r, i, s, n_items=n_i, k=k, d=d)
    for p in (plan, greedy):
        assert len(set(p.chosen.tolist())) == len(p.chosen)  # each allowed pair at most once
        if len(p.chosen):
            assert np.bincount(r[p.chosen]).max() <= k
    assert _coverage_units(plan, i, n_i, d) >= _coverage_units(greedy, i, n_i, d)
    if len(r) <= 10:
        assert _coverage_units(plan, i, n_i, d) == _brute_best_units(r, i, n_i, k, d)


def test_coverage_first_then_score() -> None:
    # Two recipients with room for one push each; item 0 is everyone's favourite.
    r = np.array([0, 0, 1, 1])
    i = np.array([0, 1, 0, 1])
    s = np.array([0.9, 0.5, 0.8, 0.4])
    greedy = greedy_plan(r, i, s, n_items=2, k=1, d=1)
    plan = plan_cycle(r, i, s, n_items=2, k=1, d=1)
    assert sorted(i[greedy.chosen].tolist()) == [0, 0] and greedy.coverage == 0.5
    assert sorted(i[plan.chosen].tolist()) == [0, 1] and plan.coverage == 1.0
    # …and of the two ways to cover both items it keeps the higher total (0.9 + 0.4 > 0.8 + 0.5)
    assert sorted(zip(r[plan.chosen].tolist(), i[plan.chosen].tolist(), strict=True)) == [
        (0, 0), (1, 1)]
    assert plan.exposure_gini == 0.0 and greedy.exposure_gini == 0.5


def test_gini_matches_the_textbook_formula() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        x = rng.integers(0, 10, size=rng.integers(1, 12)).astype(float)
        n = len(x)
        expected = (np.abs(x[:, None] - x[None, :]).sum() / (2 * n * n * x.mean())
                    if x.sum() else 0.0)
        assert gini(x) == pytest.approx(expected)


def test_a_repeated_pair_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        plan_cycle(np.array([0, 0]), np.array([1, 1]), np.array([1.0, 2.0]), n_items=2, k=1, d=1)


def test_per_item_targets_and_per_recipient_caps() -> None:
    # Item 0 asks for two recipients, item 1 for none; recipient 1 may take only one item.
    r = np.array([0, 0, 1, 1])
    i = np.array([0, 1, 0, 1])
    s = np.array([1.0, 3.0, 1.0, 3.0])
    plan = plan_cycle(r, i, s, n_items=2, k=np.array([2, 1]), d=np.array([2, 0]))
    chosen = {(int(r[c]), int(i[c])) for c in plan.chosen}
    assert chosen == {(0, 0), (0, 1), (1, 0)}  # recipient 1 spends its one slot on coverage
    assert plan.coverage == 1.0
    greedy = greedy_plan(r, i, s, n_items=2, k=np.array([2, 1]), d=np.array([2, 0]))
    assert {(int(r[c]), int(i[c])) for c in greedy.chosen} == {(0, 0), (0, 1), (1, 1)}
    assert greedy.coverage == 0.0
    with pytest.raises(ValueError, match="one per item"):
        plan_cycle(r, i, s, n_items=2, k=1, d=np.array([1]))
