"""Retrieval metrics over ranked lists, defined as in the reference figures (eval/BASELINE.md).

* R@k — the share of a query's *best* documents (those with its highest grade) found in its top
  k. With one grade (most tasks) this is ordinary recall; on a graded task it asks for the
  exact answer, not merely a related one — the reading that reproduces the reference figures
  (keywords-graded R@1 0.993 and MRR@10 0.995 for jieba + BM25).
* MRR@10 — the reciprocal rank of the first best document within the top 10 (0 if none);
* nDCG@10 — gain ``2**grade - 1`` discounted by ``log2(rank + 1)``, over the ideal ordering of
  the query's judged documents (the exponential gain reproduces the reference nDCG; with one
  grade it equals the linear form).

Queries without any relevant document are skipped, as pytrec_eval does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["best", "evaluate", "ndcg_at", "recall_at", "reciprocal_rank"]

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Sequence[str]]


def best(relevant: Mapping[str, int]) -> set[str]:
    """The documents with the query's highest grade (empty when none is relevant)."""
    top = max(relevant.values(), default=0)
    return {doc for doc, grade in relevant.items() if grade == top} if top > 0 else set()


def recall_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """Share of the query's best documents found in the top ``k``."""
    wanted = best(relevant)
    return len(wanted.intersection(ranked[:k])) / len(wanted) if wanted else 0.0


def reciprocal_rank(ranked: Sequence[str], relevant: Mapping[str, int], k: int = 10) -> float:
    """1 / rank of the first best document in the top ``k``; 0 if there is none."""
    wanted = best(relevant)
    for rank, doc in enumerate(ranked[:k], start=1):
        if doc in wanted:
            return 1.0 / rank
    return 0.0


def ndcg_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int = 10) -> float:
    """Normalised discounted cumulative gain at ``k`` with gains ``2**grade - 1``."""
    dcg = sum((2 ** relevant.get(doc, 0) - 1) / math.log2(rank + 1)
              for rank, doc in enumerate(ranked[:k], start=1))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(rank + 1) for rank, g in enumerate(ideal, start=1))
    return dcg / idcg if idcg else 0.0


def evaluate(run: Run, qrels: Qrels) -> dict[str, float]:
    """R@1, R@10, MRR@10 and nDCG@10 averaged over the judged queries (and their count)."""
    totals = {"R@1": 0.0, "R@10": 0.0, "MRR@10": 0.0, "nDCG@10": 0.0}
    judged = 0
    for qid, relevant in qrels.items():
        if not any(g > 0 for g in relevant.values()):
            continue
        judged += 1
        ranked = run.get(qid, [])
        totals["R@1"] += recall_at(ranked, relevant, 1)
        totals["R@10"] += recall_at(ranked, relevant, 10)
        totals["MRR@10"] += reciprocal_rank(ranked, relevant, 10)
        totals["nDCG@10"] += ndcg_at(ranked, relevant, 10)
    out = {name: round(value / judged, 4) if judged else 0.0 for name, value in totals.items()}
    out["queries"] = judged
    return out
