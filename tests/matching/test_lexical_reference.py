"""LexicalIndex (bm25s main segment + delta) against a tiny, obviously correct BM25.

The reference is Lucene's BM25 as bm25s's ``method="lucene"`` computes it: IDF
``log(1 + (N - df + 0.5) / (df + 0.5))`` and term weight ``tf / (tf + k1 * (1 - b + b * dl /
avgdl))``. (The textbook form multiplies by ``k1 + 1``; Lucene dropped that constant factor, and
main and delta rows must agree on which form they use, since a query ranks both together.)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from luodi.matching.lexical import Bm25Params, LexicalIndex

K1, B = 1.5, 0.75
ALPHABET = ["电池", "robot", "视觉", "wheat", "a1", "b2"]
UNSEEN = "never-indexed"

Docs = list[list[str]]


def reference_bm25(docs: Sequence[Sequence[str]], query: Sequence[str], *,
                   stats: Sequence[Sequence[str]] | None = None, k1: float = K1,
                   b: float = B) -> np.ndarray:
    """BM25 of ``query`` for each of ``docs``, with N, df and avgdl taken from ``stats``."""
    stats = docs if stats is None else stats
    n = len(stats)
    avgdl = sum(len(d) for d in stats) / n
    scores = []
    for doc in docs:
        tf = Counter(doc)
        total = 0.0
        for term in query:
            if tf[term]:
                df = sum(term in d for d in stats)
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                total += idf * tf[term] / (tf[term] + k1 * (1 - b + b * len(doc) / avgdl))
        scores.append(total)
    return np.array(scores)


def close(actual: np.ndarray, expected: np.ndarray) -> None:
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-6)


tokens = st.sampled_from(ALPHABET)
# Small docs with repeats; empty docs allowed (but not a corpus of only empty docs: avgdl 0).
doc_lists = st.lists(tokens, min_size=0, max_size=8)
corpora = st.lists(doc_lists, min_size=1, max_size=8).filter(lambda ds: any(ds))
queries = st.lists(st.sampled_from([*ALPHABET, UNSEEN]), min_size=1, max_size=5)


@settings(max_examples=80, deadline=None)
@given(docs=corpora, query=queries)
def test_build_scores_equal_reference(docs: Docs, query: list[str]) -> None:
    index = LexicalIndex.build(docs)
    scores = index.scores(query)
    assert scores.shape == (len(docs),)
    close(scores, reference_bm25(docs, query))


@settings(max_examples=80, deadline=None)
@given(main=corpora, delta=st.lists(doc_lists, min_size=1, max_size=4), query=queries)
def test_delta_rows_use_combined_statistics(main: Docs, delta: Docs, query: list[str]) -> None:
    index = LexicalIndex.build(main)
    rows = [index.add(d) for d in delta]
    assert rows == list(range(len(main), len(main) + len(delta)))
    assert index.n_docs == len(main) + len(delta) and index.delta_size == len(delta)
    scores = index.scores(query)
    # Main rows keep the statistics they were built with until the next merge ...
    close(scores[: len(main)], reference_bm25(main, query))
    # ... delta rows are scored over main and delta together.
    close(scores[len(main):], reference_bm25(delta, query, stats=main + delta))


@settings(max_examples=50, deadline=None)
@given(delta=st.lists(doc_lists, min_size=1, max_size=5).filter(lambda ds: any(ds)),
       query=queries)
def test_delta_only_index_equals_reference(delta: Docs, query: list[str]) -> None:
    index = LexicalIndex.build([])
    for doc in delta:
        index.add(doc)
    close(index.scores(query), reference_bm25(delta, query))


def test_same_document_scores_alike_in_main_and_delta() -> None:
    """A record saved after the build must not outrank its twin in main just for being new."""
    index = LexicalIndex.build([["robot", "视觉"], ["电池"], ["wheat"], ["电池", "wheat"]])
    twin = index.add(["robot", "视觉"])
    scores = index.scores(["robot", "视觉"])
    # The delta row sees df 2 of 5 docs instead of 1 of 4: a little less, never k1+1 times more.
    assert 0.6 * scores[0] < scores[twin] <= scores[0]


@settings(max_examples=60, deadline=None)
@given(main=corpora, delta=st.lists(doc_lists, max_size=3), query=queries)
def test_term_contributions_add_up_to_the_scores(main: Docs, delta: Docs,
                                                  query: list[str]) -> None:
    index = LexicalIndex.build(main)
    for doc in delta:
        index.add(doc)
    scores = index.scores(query)
    rows = list(range(index.n_docs))
    parts = index.term_contributions(query, rows)
    assert set(parts) == set(rows)
    all_docs = main + delta
    for row in rows:
        assert set(parts[row]) == set(query) & set(all_docs[row])
        assert all(w > 0 for w in parts[row].values())
        assert sum(parts[row].values()) == pytest.approx(float(scores[row]), rel=1e-4, abs=1e-6)


def test_term_contributions_of_a_subset_and_of_nothing() -> None:
    index = LexicalIndex.build([["电池", "电池", "robot"], ["wheat"], ["robot"]])
    parts = index.term_contributions(["robot", "电池"], [0, 2])
    assert set(parts) == {0, 2}
    assert set(parts[0]) == {"robot", "电池"} and set(parts[2]) == {"robot"}
    assert index.term_contributions(["robot"], []) == {}


@settings(max_examples=40, deadline=None)
@given(docs=corpora, query=queries, k1=st.sampled_from([0.9, 1.2, 2.0]),
       b=st.sampled_from([0.0, 0.4, 1.0]))
def test_parameters_are_honoured(docs: Docs, query: list[str], k1: float, b: float) -> None:
    index = LexicalIndex.build(docs, Bm25Params(k1=k1, b=b))
    index.add(docs[0])
    scores = index.scores(query)
    close(scores[:-1], reference_bm25(docs, query, k1=k1, b=b))
    close(scores[-1:], reference_bm25(docs[:1], query, stats=[*docs, docs[0]], k1=k1, b=b))


def test_save_and_load_give_identical_scores(tmp_path: Path) -> None:
    docs = [["电池", "robot", "电池"], [], ["视觉", "wheat"], ["a1", "b2", "a1", "a1"], ["robot"]]
    index = LexicalIndex.build(docs, Bm25Params(k1=1.2, b=0.6))
    index.save(tmp_path / "lex")
    for mmap in (True, False):
        loaded = LexicalIndex.load(tmp_path / "lex", mmap=mmap)
        assert loaded.params == Bm25Params(k1=1.2, b=0.6)
        assert loaded.n_docs == len(docs) and loaded.delta_size == 0
        for query in (["电池"], ["robot", "视觉", UNSEEN], ["a1", "a1"], [UNSEEN]):
            np.testing.assert_array_equal(loaded.scores(query), index.scores(query))
        # Delta rows added after loading see the saved statistics.
        loaded.add(["robot", "wheat"])
        close(loaded.scores(["robot"])[-1:],
              reference_bm25([["robot", "wheat"]], ["robot"], stats=[*docs, ["robot", "wheat"]],
                             k1=1.2, b=0.6))


def test_empty_index_scores_nothing(tmp_path: Path) -> None:
    index = LexicalIndex.build([])
    assert index.n_docs == 0 and index.scores(["电池"]).shape == (0,)
    index.save(tmp_path / "empty")
    assert LexicalIndex.load(tmp_path / "empty").n_docs == 0
