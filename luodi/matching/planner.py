"""Planning a push cycle under capacity: a min-cost flow, and a greedy plan to compare with.

Pure code over arrays: the push service (next) feeds it the allowed (recipient, item, score)
pairs — already without opt-outs, conflicts of interest, pairs pushed in an earlier cycle and
pairs below the minimum score — and gets back the pairs to push.

The flow network (OR-Tools ``SimpleMinCostFlow``, integer costs)::

    source ─(d, −COVER)─► item ─(1, −score)─► recipient ─(k, 0)─► sink
           ─(∞,   0   )─►
    source ───────────────────(∞, 0)────────────────────────────► sink   (flow not worth sending)

Each recipient takes at most ``k`` items; each item's first ``d`` recipients earn the coverage
bonus, which is larger than any score, so the plan first reaches as many items as it can up to
``d`` recipients each, and among such plans sends the highest total score. Costs are scores
scaled to integers (``SCALE``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

__all__ = ["Plan", "gini", "greedy_plan", "plan_cycle"]

SCALE = 1000  # score → integer cost
COVER_BONUS = 1_000_000  # per recipient of an item, up to d: above any scaled score


@dataclass(frozen=True)
class Plan:
    """The chosen pairs (indexes into the input arrays) and the figures to compare plans by."""

    chosen: np.ndarray  # positions in the pair arrays
    pushes: int
    recipients: int
    coverage: float  # share of the items with d > 0 reaching d recipients (0 when none)
    exposure_gini: float  # inequality of pushes per item (0: equal)
    mean_score: float

    def as_json(self) -> dict[str, float | int]:
        """The figures, rounded for printing."""
        return {"pushes": self.pushes, "recipients": self.recipients,
                "coverage": round(self.coverage, 4), "exposure_gini": round(self.exposure_gini, 4),
                "mean_score": round(self.mean_score, 4)}


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 when all are equal or all are zero)."""
    values = np.sort(np.asarray(values, np.float64))
    n = len(values)
    if n == 0 or values.sum() == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2 * (ranks * values).sum()) / (n * values.sum()) - (n + 1) / n)


def _figures(chosen: np.ndarray, recipient: np.ndarray, item: np.ndarray, score: np.ndarray,
             n_items: int, need: np.ndarray) -> Plan:
    per_item = np.bincount(item[chosen], minlength=n_items)
    wanted = need > 0  # coverage counts only the items that ask for recipients
    coverage = float((per_item[wanted] >= need[wanted]).mean()) if wanted.any() else 0.0
    return Plan(chosen=chosen, pushes=len(chosen),
                recipients=len(np.unique(recipient[chosen])),
                coverage=coverage, exposure_gini=gini(per_item),
                mean_score=float(score[chosen].mean()) if len(chosen) else 0.0)


def _per_item(d: int | np.ndarray, n_items: int) -> np.ndarray:
    need = np.full(n_items, d, np.int64) if np.isscalar(d) else np.asarray(d, np.int64)
    if len(need) != n_items or (need < 0).any():
        raise ValueError("d must be a non-negative count, or one per item")
    return need


def _caps(k: int | np.ndarray, recipients: np.ndarray) -> np.ndarray:
    """Each listed recipient's cap; an array ``k`` is indexed by recipient id."""
    caps = np.full(len(recipients), k, np.int64) if np.isscalar(k) else \
        np.asarray(k, np.int64)[recipients]
    if (caps < 0).any():
        raise ValueError("k must be non-negative")
    return caps


def _check(recipient: np.ndarray, item: np.ndarray, score: np.ndarray) -> None:
    if not (len(recipient) == len(item) == len(score)):
        raise ValueError("recipient, item and score need one entry per pair")
    pairs = recipient.astype(np.int64) * (int(item.max(initial=0)) + 1) + item
    if len(np.unique(pairs)) != len(pairs):
        raise ValueError("a (recipient, item) pair is listed twice")


def plan_cycle(recipient: np.ndarray, item: np.ndarray, score: np.ndarray, *, n_items: int,
               k: int | np.ndarray, d: int | np.ndarray) -> Plan:
    """The min-cost-flow plan over the allowed pairs (see the module doc).

    ``k`` is one cap for all or an array indexed by recipient id; ``d`` one target for all or
    one per item (0 for items that only take what comes, e.g. those in no active catalogue).
    """
    recipient, item = np.asarray(recipient, np.int64), np.asarray(item, np.int64)
    score = np.asarray(score, np.float64)
    _check(recipient, item, score)
    need = _per_item(d, n_items)
    if not len(score):
        return _figures(np.zeros(0, np.int64), recipient, item, score, n_items, need)
    recipients = np.unique(recipient)
    caps = _caps(k, recipients)
    r_node = {int(r): n_items + 1 + i for i, r in enumerate(recipients)}
    source, sink = 0, n_items + 1 + len(recipients)
    total = int(caps.sum())
    flow = min_cost_flow.SimpleMinCostFlow()
    # item nodes are 1..n_items
    for i in range(n_items):
        if need[i]:
            flow.add_arc_with_capacity_and_unit_cost(source, i + 1, int(need[i]), -COVER_BONUS)
        flow.add_arc_with_capacity_and_unit_cost(source, i + 1, total, 0)
    first_pair = flow.num_arcs()
    costs = -np.round(score * SCALE).astype(np.int64)
    flow.add_arcs_with_capacity_and_unit_cost(
        item + 1, np.array([r_node[int(r)] for r in recipient], np.int64),
        np.ones(len(item), np.int64), costs)
    for node, cap in zip(r_node.values(), caps, strict=True):
        flow.add_arc_with_capacity_and_unit_cost(node, sink, int(cap), 0)
    flow.add_arc_with_capacity_and_unit_cost(source, sink, total, 0)
    flow.set_node_supply(source, total)
    flow.set_node_supply(sink, -total)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    used = np.array([flow.flow(first_pair + j) for j in range(len(item))], np.int64)
    return _figures(np.flatnonzero(used > 0), recipient, item, score, n_items, need)


def greedy_plan(recipient: np.ndarray, item: np.ndarray, score: np.ndarray, *, n_items: int,
                k: int | np.ndarray, d: int | np.ndarray) -> Plan:
    """Each recipient simply takes its ``k`` best-scoring allowed items (the comparison plan)."""
    recipient, item = np.asarray(recipient, np.int64), np.asarray(item, np.int64)
    score = np.asarray(score, np.float64)
    _check(recipient, item, score)
    need = _per_item(d, n_items)
    order = np.lexsort((-score, recipient))  # by recipient, best score first
    rank = np.zeros(len(order), np.int64)
    sorted_r = recipient[order]
    if not len(order):
        return _figures(np.zeros(0, np.int64), recipient, item, score, n_items, need)
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_r)) + 1]
    for start, end in zip(starts, np.r_[starts[1:], len(order)], strict=True):
        rank[order[start:end]] = np.arange(end - start)
    cap = np.full(len(recipient), k, np.int64) if np.isscalar(k) else \
        np.asarray(k, np.int64)[recipient]
    return _figures(np.flatnonzero(rank < cap), recipient, item, score, n_items, need)
