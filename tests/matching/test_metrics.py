"""Retrieval metrics: hand-computed examples, and a reference on random runs."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from luodi.matching.metrics import best, evaluate, ndcg_at, recall_at, reciprocal_rank

LOG2_3 = math.log2(3)


def test_recall_is_the_share_of_the_best_documents_in_the_top_k() -> None:
    ranked = ["d3", "d1", "d7", "d2"]
    assert recall_at(ranked, {"d1": 1}, 1) == 0.0
    assert recall_at(ranked, {"d1": 1}, 2) == 1.0
    # One grade, two relevant: ordinary recall.
    assert recall_at(ranked, {"d1": 1, "d9": 1}, 10) == 0.5
    # Graded: only the documents of the highest grade count (the exact answer).
    assert recall_at(ranked, {"d3": 1, "d2": 2}, 1) == 0.0
    assert recall_at(ranked, {"d3": 1, "d2": 2}, 4) == 1.0
    assert recall_at(ranked, {"d3": 2, "d1": 2, "d8": 1}, 1) == 0.5
    assert recall_at(ranked, {"d7": 0}, 10) == 0.0  # grade 0 is not relevant
    assert recall_at([], {"d1": 1}, 10) == 0.0
    assert best({"a": 1, "b": 3, "c": 3, "d": 0}) == {"b", "c"} and best({"a": 0}) == set()


def test_reciprocal_rank_counts_the_first_best_document_within_ten() -> None:
    assert reciprocal_rank(["a", "b", "c"], {"c": 1, "b": 1}) == 0.5
    assert reciprocal_rank(["a", "b", "c"], {"a": 0, "c": 2}) == pytest.approx(1 / 3)
    # A lesser grade at rank 1 does not count: the best document is at rank 3.
    assert reciprocal_rank(["a", "b", "c"], {"a": 1, "c": 2}) == pytest.approx(1 / 3)
    eleven = [f"x{i}" for i in range(10)] + ["hit"]
    assert reciprocal_rank(eleven, {"hit": 1}) == 0.0  # rank 11 is outside MRR@10
    assert reciprocal_rank(eleven, {"hit": 1}, k=11) == pytest.approx(1 / 11)


def test_ndcg_uses_exponential_gains_and_the_ideal_of_the_judged_documents() -> None:
    # Grades: a=2 (gain 3), b=1 (gain 1); ranked b, x, a.
    dcg = 1 / math.log2(2) + 3 / math.log2(4)
    ideal = 3 / math.log2(2) + 1 / LOG2_3
    assert ndcg_at(["b", "x", "a"], {"a": 2, "b": 1}) == pytest.approx(dcg / ideal)
    assert ndcg_at(["a", "b"], {"a": 2, "b": 1}) == pytest.approx(1.0)
    # One relevant document at rank 2: 1 / log2(3).
    assert ndcg_at(["x", "a"], {"a": 1}) == pytest.approx(1 / LOG2_3)
    # Beyond rank 10 nothing counts.
    assert ndcg_at([f"x{i}" for i in range(10)] + ["a"], {"a": 1}) == 0.0
    assert ndcg_at(["a"], {"a": 0}) == 0.0  # nothing relevant: 0, not a division by zero


def test_evaluate_averages_over_judged_queries_only() -> None:
    run = {"q1": ["d1", "d2"], "q2": ["d5", "d4", "d3"], "q3": ["d9"], "q5": ["d1", "d2"]}
    qrels = {"q1": {"d1": 1}, "q2": {"d3": 1}, "q3": {"d9": 0}, "q4": {"d6": 1},
             "q5": {"d1": 1, "d2": 2}}
    out = evaluate(run, qrels)
    # q3 has nothing relevant: skipped; q4 has no ranking: counts as a miss.
    assert out["queries"] == 4
    assert out["R@1"] == pytest.approx(round(1 / 4, 4))
    assert out["R@10"] == pytest.approx(round(3 / 4, 4))
    assert out["MRR@10"] == pytest.approx(round((1 + 1 / 3 + 1 / 2) / 4, 4))
    q5 = (1 / 1 + 3 / LOG2_3) / (3 / 1 + 1 / LOG2_3)
    assert out["nDCG@10"] == pytest.approx(round((1 + 1 / math.log2(4) + q5) / 4, 4))
    assert evaluate({}, {"q": {"d": 0}}) == {"R@1": 0.0, "R@10": 0.0, "MRR@10": 0.0,
                                            "nDCG@10": 0.0, "queries": 0}


# -- reference -------------------------------------------------------------------------------

def ref_metrics(ranked: list[str], grades: dict[str, int]) -> dict[str, float]:
    """The four metrics of one query, written out the long way."""
    top_grade = max(grades.values())
    wanted = [d for d, g in grades.items() if g == top_grade]
    first = next((i for i, d in enumerate(ranked[:10]) if d in wanted), None)
    gains = [2 ** grades.get(d, 0) - 1 for d in ranked[:10]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted((2 ** g - 1 for g in grades.values() if g > 0), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return {"R@1": sum(d in ranked[:1] for d in wanted) / len(wanted),
            "R@10": sum(d in ranked[:10] for d in wanted) / len(wanted),
            "MRR@10": 0.0 if first is None else 1 / (first + 1),
            "nDCG@10": dcg / idcg}


docs = [f"d{i}" for i in range(15)]
rankings = st.lists(st.sampled_from(docs), max_size=14, unique=True)
judgements = st.dictionaries(st.sampled_from(docs), st.integers(0, 3), max_size=8)


@settings(max_examples=100, deadline=None)
@given(ranked=rankings, grades=judgements)
def test_single_query_metrics_equal_reference(ranked: list[str], grades: dict[str, int]) -> None:
    if not any(g > 0 for g in grades.values()):
        assert ndcg_at(ranked, grades) == 0.0
        return
    expected = ref_metrics(ranked, grades)
    assert recall_at(ranked, grades, 1) == pytest.approx(expected["R@1"])
    assert recall_at(ranked, grades, 10) == pytest.approx(expected["R@10"])
    assert reciprocal_rank(ranked, grades) == pytest.approx(expected["MRR@10"])
    assert ndcg_at(ranked, grades) == pytest.approx(expected["nDCG@10"])
    assert 0.0 <= ndcg_at(ranked, grades) <= 1.0 + 1e-12


@settings(max_examples=60, deadline=None)
@given(data=st.lists(st.tuples(rankings, judgements), min_size=1, max_size=6))
def test_evaluate_equals_mean_of_reference(data: list[tuple[list[str], dict[str, int]]]) -> None:
    run = {f"q{i}": ranked for i, (ranked, _) in enumerate(data)}
    qrels = {f"q{i}": grades for i, (_, grades) in enumerate(data)}
    judged = [ref_metrics(r, g) for r, g in data if any(v > 0 for v in g.values())]
    out = evaluate(run, qrels)
    assert out["queries"] == len(judged)
    for name in ("R@1", "R@10", "MRR@10", "nDCG@10"):
        expected = sum(m[name] for m in judged) / len(judged) if judged else 0.0
        # reported to 4 decimals: off by at most half a unit in the last place, plus float noise
        assert out[name] == pytest.approx(expected, abs=5e-5 + 1e-12)
