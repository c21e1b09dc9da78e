"""Structured fit, z-scores and the blend against plain-Python, one-element-at-a-time references."""

from __future__ import annotations

import datetime as dt
import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from luodi.matching import structured as s
from luodi.matching.blend import WEIGHTS, blend, impute_across_languages, zscore_by_group

JJJ = {11, 12, 13}


def ref_field(wanted: int, field: int) -> float:
    if field == 0:
        return 0.5
    return 1.0 if field == wanted else 0.0


def ref_trl(offered: int, wanted: int) -> float:
    if offered == 0 or wanted == 0:
        return 0.5
    short = max(0, wanted - offered)
    return max(0.0, 1.0 - short / 3)


def ref_region(wanted: int, region: int) -> float:
    if region == 0:
        return 0.5
    if region // 100 == wanted // 100:
        return 1.0
    if region // 10000 == wanted // 10000:
        return 0.8
    if region // 10000 in JJJ and wanted // 10000 in JJJ:
        return 0.6
    return 0.0


def ref_mode(wanted: int, modes: int) -> float:
    if modes == 0:
        return 0.5
    return 1.0 if modes & wanted else 0.0


def ref_fresh(confirmed: int, today: dt.date) -> float:
    if confirmed == 0:
        return 0.5
    return 0.5 ** (max(0, today.toordinal() - confirmed) / 365)


def ref_zscore(scores: list[float], groups: list[int], top: int | None,
               min_group: int) -> list[float]:
    """Each group's mean and spread from its ``top`` best scores, or everyone's if it is small."""

    def stats(values: list[float]) -> tuple[float, float]:
        head = sorted(values, reverse=True)[:top] if top is not None else values
        return statistics.fmean(head), statistics.pstdev(head)

    out = []
    for score, group in zip(scores, groups, strict=True):
        members = [x for x, g in zip(scores, groups, strict=True) if g == group]
        mean, std = stats(members) if len(members) >= min_group else stats(scores)
        out.append(0.0 if std == 0 else (score - mean) / std)
    return out


def ref_impute(lexical: list[float], dense: list[list[float]], other: list[bool]) -> list[float]:
    return [statistics.fmean(d[i] for d in dense) if other[i] and dense else lexical[i]
            for i in range(len(lexical))]


def near(actual: np.ndarray | None, expected: list[float]) -> None:
    assert actual is not None
    assert actual.shape == (len(expected),)
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-12)


codes = st.integers(0, 4)
trls = st.integers(0, 9)
# GB/T 2260 codes that share provinces and cities often: province · city · district, or 0.
regions = st.one_of(st.just(0), st.builds(lambda p, c, d: p * 10000 + c * 100 + d,
                                          st.sampled_from([11, 12, 13, 31, 44]),
                                          st.integers(1, 3), st.integers(1, 3)))
masks = st.integers(0, 15)
TODAY = dt.date(2025, 6, 1)
ordinals = st.one_of(st.just(0), st.integers(TODAY.toordinal() - 3000, TODAY.toordinal() + 30))


@settings(max_examples=80, deadline=None)
@given(wanted=st.integers(-1, 4), fields=st.lists(codes, max_size=12))
def test_field_fit(wanted: int, fields: list[int]) -> None:
    out = s.field_fit(wanted, np.array(fields, np.int32))
    if wanted == 0:
        assert out is None  # the query does not ask: the part is left out
    else:
        assert out is not None
        near(out, [ref_field(wanted, f) for f in fields])


@settings(max_examples=80, deadline=None)
@given(one=trls, many=st.lists(trls, max_size=12))
def test_trl_fit_both_directions(one: int, many: list[int]) -> None:
    arr = np.array(many, np.int8)
    # A demand asks achievements: the wanted TRL is fixed, each candidate offers its own.
    near(s.trl_fit(arr, one), [ref_trl(o, one) for o in many])
    # An achievement offers itself to demands: the offered TRL is fixed.
    near(s.trl_fit(one, arr), [ref_trl(one, w) for w in many])


def test_trl_fit_examples() -> None:
    near(s.trl_fit(np.array([9, 5, 4, 3, 2, 1, 0]), 5), [1.0, 1.0, 2 / 3, 1 / 3, 0.0, 0.0, 0.5])
    near(s.trl_fit(6, np.array([3, 6, 7, 9, 0])), [1.0, 1.0, 2 / 3, 0.0, 0.5])


@settings(max_examples=80, deadline=None)
@given(wanted=regions, many=st.lists(regions, max_size=12))
def test_region_fit(wanted: int, many: list[int]) -> None:
    out = s.region_fit(wanted, np.array(many, np.int32))
    if wanted == 0:
        assert out is None
    else:
        assert out is not None
        near(out, [ref_region(wanted, r) for r in many])


def test_region_fit_examples() -> None:
    # Haidian (Beijing) asks: Chaoyang same city, Tianjin 京津冀, Shanghai other, unknown.
    near(s.region_fit(110108, np.array([110105, 120116, 130102, 310101, 0, 110108])),
         [1.0, 0.6, 0.6, 0.0, 0.5, 1.0])
    near(s.region_fit(440305, np.array([440106, 440305, 110108])), [0.8, 1.0, 0.0])


@settings(max_examples=80, deadline=None)
@given(wanted=masks, many=st.lists(masks, max_size=12))
def test_mode_fit(wanted: int, many: list[int]) -> None:
    out = s.mode_fit(wanted, np.array(many, np.int64))
    if wanted == 0:
        assert out is None
    else:
        assert out is not None
        near(out, [ref_mode(wanted, m) for m in many])


@settings(max_examples=80, deadline=None)
@given(many=st.lists(ordinals, max_size=12))
def test_freshness(many: list[int]) -> None:
    near(s.freshness(np.array(many, np.int32), TODAY), [ref_fresh(c, TODAY) for c in many])


def test_freshness_examples() -> None:
    year_ago = (TODAY - dt.timedelta(days=365)).toordinal()
    out = s.freshness(np.array([TODAY.toordinal(), year_ago, 0, TODAY.toordinal() + 10]), TODAY)
    near(out, [1.0, 0.5, 0.5, 1.0])


def test_vocabulary_codes_and_masks() -> None:
    vocab = s.Vocabulary()
    assert vocab.code(None) == 0 and vocab.code("") == 0
    assert vocab.code("licence") == 1 and vocab.code("transfer") == 2 and vocab.code("licence") == 1
    assert vocab.lookup("joint") == -1 and vocab.lookup("transfer") == 2
    assert vocab.mask(["licence", "transfer"]) == 0b110
    assert s.Vocabulary.from_dict(vocab.to_dict()).lookup("transfer") == 2


finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False)


# Scores on a grid of eighths: two scores are equal or clearly apart (no rounding-only spread).
grid = st.integers(-400, 400).map(lambda i: i / 8)


@settings(max_examples=100, deadline=None)
@given(pairs=st.lists(st.tuples(grid, st.integers(1, 3)), min_size=1, max_size=15),
       top=st.sampled_from([None, 1, 2, 3, 5, 100]), min_group=st.sampled_from([1, 2, 3, 5, 50]))
def test_zscore_by_group(pairs: list[tuple[float, int]], top: int | None, min_group: int) -> None:
    scores = [p[0] for p in pairs]
    groups = [p[1] for p in pairs]
    out = zscore_by_group(np.array(scores), np.array(groups, np.int8), top=top,
                          min_group=min_group)
    assert out.shape == (len(scores),)
    np.testing.assert_allclose(out, ref_zscore(scores, groups, top, min_group),
                               rtol=1e-6, atol=1e-6)


def test_zscore_by_group_examples() -> None:
    scores, groups = np.array([1.0, 100.0, 3.0, 100.0]), np.array([1, 2, 1, 2])
    # Groups large enough for their own statistics: (1, 3) gives ±1, a constant group 0.
    near(zscore_by_group(scores, groups, top=None, min_group=1), [-1.0, 0.0, 1.0, 0.0])
    # Too small: everyone's statistics for every group (mean 51, variance 2401.5).
    std = math.sqrt(2401.5)
    near(zscore_by_group(scores, groups, top=None, min_group=3),
         [-50 / std, 49 / std, -48 / std, 49 / std])
    # Statistics of the two best only: BM25's tail of zeros does not inflate the leader.
    tail = np.array([4.0, 2.0, 0.0, 0.0, 0.0, 0.0])
    near(zscore_by_group(tail, np.ones(6), top=2, min_group=1), [1.0, -1.0, -3.0, -3.0, -3.0,
                                                                 -3.0])


@pytest.mark.parametrize("value", [0.8, 0.1, 1 / 3, 12.7, -0.3])
def test_zscore_of_equal_scores_is_zero(value: float) -> None:
    """Equal scores whose mean rounds (0.8 * 3 / 3 != 0.8) still carry no signal."""
    for n in (2, 3, 5, 7, 60):
        for min_group in (1, 50):
            near(zscore_by_group(np.full(n, value), np.ones(n, np.int8), min_group=min_group),
                 [0.0] * n)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 10), n_dense=st.integers(0, 2), data=st.data())
def test_impute_across_languages(n: int, n_dense: int, data: st.DataObject) -> None:
    lexical = data.draw(st.lists(grid, min_size=n, max_size=n))
    dense = [data.draw(st.lists(grid, min_size=n, max_size=n)) for _ in range(n_dense)]
    other = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    out = impute_across_languages(np.array(lexical), [np.array(d) for d in dense],
                                  np.array(other))
    near(np.asarray(out, np.float64), ref_impute(lexical, dense, other))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 8), data=st.data())
def test_blend_is_the_weighted_sum(n: int, data: st.DataObject) -> None:
    names = data.draw(st.lists(st.sampled_from([*WEIGHTS, "unknown"]), min_size=1, max_size=5,
                               unique=True))
    if names == ["unknown"]:
        names.append("lexical")
    parts = {name: np.array(data.draw(st.lists(finite, min_size=n, max_size=n)))
             for name in names}
    total, weighted = blend(parts)
    assert set(weighted) == set(names) - {"unknown"}  # a part without a weight is left out
    for i in range(n):
        expected = sum(WEIGHTS[name] * float(parts[name][i]) for name in weighted)
        assert total[i] == pytest.approx(expected, abs=1e-9)
        assert sum(float(v[i]) for v in weighted.values()) == pytest.approx(total[i], abs=1e-9)
        for name, values in weighted.items():
            assert values[i] == pytest.approx(WEIGHTS[name] * parts[name][i])


def test_blend_with_custom_weights_and_nothing_to_blend() -> None:
    total, weighted = blend({"a": np.array([1.0, 2.0]), "b": np.array([10.0, 0.0])},
                            {"a": 2.0, "b": 0.5})
    near(total, [7.0, 4.0])
    assert set(weighted) == {"a", "b"}
    with pytest.raises(ValueError):
        blend({"a": np.array([1.0])}, {"b": 1.0})

