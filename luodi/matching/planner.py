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
    coverage: float  # share of items reaching at least d recipients
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
             n_items: int, d: int) -> Plan:
    per_item = np.bincount(item[chosen], minlength=n_items)
    return Plan(chosen=chosen, pushes=len(chosen),
                recipients=len(np.unique(recipient[chosen])),
                coverage=float((per_item >= d).mean()) if n_items else 0.0,
                exposure_gini=gini(per_item),
                mean_score=float(score[chosen].mean()) if len(chosen) else 0.0)


def _check(recipient: np.ndarray, item: np.ndarray, score: np.ndarray) -> None:
    if not (len(recipient) == len(item) == len(score)):
        raise ValueError("recipient, item and score need one entry per pair")
    pairs = recipient.astype(np.int64) * (int(item.max(initial=0)) + 1) + item
    if len(np.unique(pairs)) != len(pairs):
        raise ValueError("a (recipient, item) pair is listed twice")


def plan_cycle(recipient: np.ndarray, item: np.ndarray, score: np.ndarray, *, n_items: int,
               k: int, d: int) -> Plan:
    """The min-cost-flow plan over the allowed pairs (see the module doc)."""
    recipient, item = np.asarray(recipient, np.int64), np.asarray(item, np.int64)
    score = np.asarray(score, np.float64)
    _check(recipient, item, score)
    if not len(score):
        return _figures(np.zeros(0, np.int64), recipient, item, score, n_items, d)
    recipients = np.unique(recipient)
    r_node = {int(r): n_items + 1 + i for i, r in enumerate(recipients)}
    source, sink = 0, n_items + 1 + len(recipients)
    total = len(recipients) * k
    flow = min_cost_flow.SimpleMinCostFlow()
    # item nodes are 1..n_items
    for i in range(n_items):
        flow.add_arc_with_capacity_and_unit_cost(source, i + 1, d, -COVER_BONUS)
        flow.add_arc_with_capacity_and_unit_cost(source, i + 1, total, 0)
    first_pair = flow.num_arcs()
    costs = -np.round(score * SCALE).astype(np.int64)
    flow.add_arcs_with_capacity_and_unit_cost(
        item + 1, np.array([r_node[int(r)] for r in recipient], np.int64),
        np.ones(len(item), np.int64), costs)
    for node in r_node.values():
        flow.add_arc_with_capacity_and_unit_cost(node, sink, k, 0)
    flow.add_arc_with_capacity_and_unit_cost(source, sink, total, 0)
    flow.set_node_supply(source, total)
    flow.set_node_supply(sink, -total)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    used = np.array([flow.flow(first_pair + j) for j in range(len(item))], np.int64)
    return _figures(np.flatnonzero(used > 0), recipient, item, score, n_items, d)


def greedy_plan(recipient: np.ndarray, item: np.ndarray, score: np.ndarray, *, n_items: int,
                k: int, d: int) -> Plan:
    """Each recipient simply takes its ``k`` best-scoring allowed items (the comparison plan)."""
    recipient, item = np.asarray(recipient, np.int64), np.asarray(item, np.int64)
    score = np.asarray(score, np.float64)
    _check(recipient, item, score)
    order = np.lexsort((-score, recipient))  # by recipient, best score first
    rank = np.zeros(len(order), np.int64)
    sorted_r = recipient[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_r)) + 1]
    for start, end in zip(starts, np.r_[starts[1:], len(order)], strict=True):
        rank[order[start:end]] = np.arange(end - start)
    return _figures(np.flatnonzero(rank < k), recipient, item, score, n_items, d)
