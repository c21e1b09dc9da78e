"""VectorIndex against brute-force numpy inner products on random unit vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from luodi.matching.vectors import VectorIndex


def unit_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    rows = rng.standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def brute(rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Every inner product, one row at a time, in float64."""
    return np.array([float(np.dot(r.astype(np.float64), query.astype(np.float64))) for r in rows])


cases = st.tuples(st.integers(0, 2**32 - 1), st.integers(1, 30), st.integers(0, 6),
                  st.sampled_from([4, 16, 48]))


@settings(max_examples=60, deadline=None)
@given(case=cases)
def test_exact_scores_and_scores_at_equal_brute_force(case: tuple[int, int, int, int]) -> None:
    seed, n_main, n_delta, dim = case
    rng = np.random.default_rng(seed)
    main, delta, query = unit_rows(rng, n_main, dim), unit_rows(rng, n_delta, dim), \
        unit_rows(rng, 1, dim)[0]
    index = VectorIndex.build(main)
    assert [index.add(v) for v in delta] == list(range(n_main, n_main + n_delta))
    assert len(index) == n_main + n_delta and not index.uses_ann
    expected = brute(np.vstack([main, delta]), query)
    scores = index.scores(query)
    assert scores.dtype == np.float32
    np.testing.assert_allclose(scores, expected, atol=1e-5)
    rows = rng.integers(0, len(index), size=7)  # repeats and any order, main and delta mixed
    np.testing.assert_allclose(index.scores_at(query, rows), scores[rows], atol=1e-6)
    k = min(5, len(index))
    candidates = index.candidates(query, k)
    true_top = set(np.argsort(-expected, kind="stable")[:k].tolist())
    # Ties aside (none on random data), the exact path returns the true top k plus the delta.
    assert true_top <= set(candidates.tolist())
    assert set(range(n_main, n_main + n_delta)) <= set(candidates.tolist())
    assert len(candidates) <= k + n_delta


def test_scores_at_an_empty_selection() -> None:
    index = VectorIndex.build(unit_rows(np.random.default_rng(1), 3, 4))
    assert index.scores_at(np.ones(4, np.float32) / 2, np.array([], np.int64)).shape == (0,)


def test_an_index_built_empty_grows_through_its_delta() -> None:
    rng = np.random.default_rng(2)
    index = VectorIndex(8)
    rows = unit_rows(rng, 4, 8)
    for row in rows:
        index.add(row)
    query = unit_rows(rng, 1, 8)[0]
    np.testing.assert_allclose(index.scores(query), brute(rows, query), atol=1e-5)
    assert set(index.candidates(query, 2).tolist()) == {0, 1, 2, 3}  # every delta row


def test_hnsw_candidates_recall_the_true_top_ten() -> None:
    rng = np.random.default_rng(20240601)
    main = unit_rows(rng, 50, 32)
    index = VectorIndex.build(main, ann_threshold=10)
    assert index.uses_ann
    extra = unit_rows(rng, 3, 32)
    for row in extra:
        index.add(row)
    recalls = []
    for query in unit_rows(rng, 20, 32):
        truth = np.argsort(-brute(main, query))[:10]
        found = index.candidates(query, 10)
        assert {50, 51, 52} <= set(found.tolist())  # delta rows always come along
        assert found.min() >= 0 and found.max() < len(index)
        recalls.append(len(set(truth.tolist()) & set(found.tolist())) / 10)
    assert np.mean(recalls) >= 0.9, recalls


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    main = unit_rows(rng, 40, 16)
    queries = unit_rows(rng, 5, 16)
    for name, threshold in (("exact", 200_000), ("ann", 10)):
        index = VectorIndex.build(main, ann_threshold=threshold)
        index.save(tmp_path / name)
        for mmap in (True, False):
            loaded = VectorIndex.load(tmp_path / name, mmap=mmap)
            assert loaded.dim == 16 and len(loaded) == 40
            assert loaded.uses_ann == index.uses_ann == (name == "ann")
            for q in queries:
                np.testing.assert_array_equal(loaded.scores(q), index.scores(q))
                np.testing.assert_array_equal(loaded.candidates(q, 10), index.candidates(q, 10))
            # A loaded (possibly memory-mapped) index still takes delta rows.
            loaded.add(queries[0])
            assert abs(float(loaded.scores(queries[0])[-1]) - 1.0) < 1e-5
