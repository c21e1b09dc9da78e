"""Collections of records as arrays, and the one search that ranks them.

A :class:`Collection` holds, row by row, what matching needs of a record: its key (the record id),
its BM25 tokens, one vector per embedder, its language and its structured attributes. It knows
nothing about where records come from; :mod:`luodi.push.index` feeds it from the database and
:mod:`luodi.push.evaluation` from a BEIR task, so the platform and ``luodi eval`` rank with the
same code.

:func:`search` scores a :class:`Query` against the live rows:

1. candidates: the ``pool`` best rows by BM25 and by each embedder (all rows of a small
   collection, since the pools then cover it);
2. each text part is z-scored within each candidate language (:mod:`luodi.matching.blend`);
3. structured parts are added for what the query specifies (:mod:`luodi.matching.structured`);
4. in hybrid mode, :mod:`luodi.matching.rerank` lets the best matches lift their neighbours
   (ranks 2… only);
5. the top ``k`` come back as :class:`Match` objects with their explanation: the weighted parts,
   the shared terms and what each added, and the structured facts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from threadpoolctl import ThreadpoolController

from luodi.matching import structured as st
from luodi.matching.blend import WEIGHTS, blend, impute_across_languages, zscore_by_group
from luodi.matching.lexical import Bm25Params, LexicalIndex
from luodi.matching.rerank import rerank
from luodi.matching.vectors import VectorIndex

__all__ = ["Collection", "DocAttrs", "Match", "Method", "Query", "search"]

Method = Literal["bm25", "dense", "hybrid"]
LANGUAGES = {"zh": 1, "en": 2, "mixed": 3}
LANGUAGE_NAMES = {v: k for k, v in LANGUAGES.items()}


@dataclass(frozen=True)
class DocAttrs:
    """What structured scoring knows of one record (None: the record does not say)."""

    language: str = "zh"
    field: str | None = None
    trl: int | None = None
    region: str | None = None
    modes: tuple[str, ...] = ()
    confirmed: dt.date | None = None  # last created, updated or renewed


@dataclass(frozen=True)
class Query:
    """A search: tokens for BM25, one vector per embedder, and the structured wishes."""

    tokens: Sequence[str]
    vectors: Mapping[str, np.ndarray] = field(default_factory=dict)
    language: str | None = None  # zh, en or mixed; None: do not treat languages apart
    field: str | None = None
    trl_wanted: int | None = None  # a demand's: candidates should reach it
    trl_offered: int | None = None  # an achievement's: candidates should want at most it
    region: str | None = None
    modes: tuple[str, ...] = ()
    exclude: frozenset[int] = frozenset()  # keys never to return (the query record itself)


@dataclass
class Match:
    """One ranked result and why it ranks there."""

    key: int
    score: float
    parts: dict[str, float]  # weighted contribution of each part; they add up to ``score``
    shared_terms: list[tuple[str, float]]  # query terms found in the record, with BM25 weight
    facts: dict[str, object]  # structured facts: field match, TRL fit, region relation, …
    raw: dict[str, float] = field(default_factory=dict)  # BM25 score and cosines before z-scoring


class Collection:
    """Rows of records; rows are appended, replaced rows are marked dead (see module doc)."""

    def __init__(self, name: str, embedders: Sequence[str] = (), params: Bm25Params | None = None,
                 ) -> None:
        self.name = name
        self.lexical = LexicalIndex(params)
        self.dense: dict[str, VectorIndex] = {}
        self.embedders = tuple(embedders)
        self.keys: list[int] = []
        self._rows: dict[int, int] = {}
        self._alive: list[bool] = []
        self.fields = st.Vocabulary()
        self.modes = st.Vocabulary()
        self._columns: dict[str, list[int]] = {c: [] for c in _ATTR_COLUMNS}
        self._arrays: dict[str, np.ndarray] | None = None

    # -- building --------------------------------------------------------------------------
    @classmethod
    def build(cls, name: str, keys: Sequence[int], tokens: Sequence[Sequence[str]],
              vectors: Mapping[str, np.ndarray], attrs: Sequence[DocAttrs], *,
              params: Bm25Params | None = None, ann_threshold: int = 200_000) -> Collection:
        """A collection whose main segments hold these rows (all of equal length)."""
        if not (len(keys) == len(tokens) == len(attrs)):
            raise ValueError("keys, tokens and attrs must have one entry per record")
        col = cls(name, tuple(vectors), params)
        col.lexical = LexicalIndex.build(tokens, params)
        for emb, matrix in vectors.items():
            if len(matrix) != len(keys):
                raise ValueError(f"{emb}: {len(matrix)} vectors for {len(keys)} records")
            col.dense[emb] = VectorIndex.build(matrix, ann_threshold=ann_threshold)
        for key, attr in zip(keys, attrs, strict=True):
            col._append(int(key), attr)
        return col

    def _append(self, key: int, attrs: DocAttrs) -> int:
        row = len(self.keys)
        old = self._rows.get(key)
        if old is not None:
            self._alive[old] = False
        self.keys.append(key)
        self._rows[key] = row
        self._alive.append(True)
        values = _attr_values(attrs, self.fields, self.modes)
        for column, value in values.items():
            self._columns[column].append(value)
        self._arrays = None
        return row

    def add(self, key: int, tokens: Sequence[str], vectors: Mapping[str, np.ndarray],
            attrs: DocAttrs) -> int:
        """Add or replace the record ``key`` (its old row, if any, is marked dead)."""
        missing = set(self.embedders) - set(vectors)
        if missing:
            raise ValueError(f"missing vectors for {sorted(missing)}")
        self.lexical.add(tokens)
        for emb in self.embedders:
            index = self.dense.get(emb)
            if index is None:
                index = self.dense[emb] = VectorIndex(len(vectors[emb]))
                for _ in range(len(self.keys)):  # rows before the first vector: none
                    index.add(np.zeros(index.dim, np.float32))
            index.add(vectors[emb])
        return self._append(int(key), attrs)

    def remove(self, key: int) -> bool:
        """Take ``key`` out of every result; False when it was not there."""
        row = self._rows.pop(int(key), None)
        if row is None:
            return False
        self._alive[row] = False
        self._arrays = None
        return True

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __len__(self) -> int:
        """Live records."""
        return len(self._rows)

    @property
    def dead_rows(self) -> int:
        """Rows kept only until the next rebuild (replaced or removed records)."""
        return len(self.keys) - len(self._rows)

    def arrays(self) -> dict[str, np.ndarray]:
        """The attribute columns and the alive mask as numpy arrays (cached until a change)."""
        if self._arrays is None:
            arrays: dict[str, np.ndarray] = {
                c: np.asarray(v, dtype=_ATTR_COLUMNS[c]) for c, v in self._columns.items()}
            arrays["alive"] = np.asarray(self._alive, dtype=bool)
            arrays["key"] = np.asarray(self.keys, dtype=np.int64)
            self._arrays = arrays
        return self._arrays

    # -- persistence -----------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write the collection so :meth:`load` gives the same rankings.

        Only a collection without delta rows can be saved (the delta segments are not written):
        rebuild first.
        """
        if self.lexical.delta_size or any(i.delta_size for i in self.dense.values()):
            raise ValueError("a collection with rows added since its build cannot be saved; "
                             "rebuild it")
        path.mkdir(parents=True, exist_ok=True)
        self.lexical.save(path / "lexical")
        for emb, index in self.dense.items():
            index.save(path / "dense" / _dirname(emb))
        arrays = self.arrays()
        np.savez(path / "rows.npz", **arrays)  # type: ignore[arg-type]
        meta = {"name": self.name, "embedders": list(self.embedders),
                "fields": self.fields.to_dict(), "modes": self.modes.to_dict()}
        (path / "collection.json").write_text(json.dumps(meta, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> Collection:
        """Read a collection written by :meth:`save` (which must hold no delta rows)."""
        meta = json.loads((path / "collection.json").read_text())
        col = cls(meta["name"], meta["embedders"])
        col.lexical = LexicalIndex.load(path / "lexical")
        for emb in col.embedders:
            col.dense[emb] = VectorIndex.load(path / "dense" / _dirname(emb))
        col.fields = st.Vocabulary.from_dict(meta["fields"])
        col.modes = st.Vocabulary.from_dict(meta["modes"])
        with np.load(path / "rows.npz") as rows:
            col.keys = [int(k) for k in rows["key"]]
            col._alive = [bool(a) for a in rows["alive"]]
            col._columns = {c: rows[c].tolist() for c in _ATTR_COLUMNS}
        col._rows = {k: i for i, k in enumerate(col.keys) if col._alive[i]}
        return col


def _dirname(embedder: str) -> str:
    return embedder.replace("/", "_").replace(":", "_")


_ATTR_COLUMNS: dict[str, type] = {
    "language": np.int8, "field": np.int32, "trl": np.int8, "region": np.int32,
    "modes": np.int64, "confirmed": np.int32,
}


def _attr_values(attrs: DocAttrs, fields: st.Vocabulary, modes: st.Vocabulary) -> dict[str, int]:
    return {
        "language": LANGUAGES.get(attrs.language, 1),
        "field": fields.code(attrs.field),
        "trl": int(attrs.trl or 0),
        "region": st.region_code(attrs.region),
        "modes": modes.mask(attrs.modes),
        "confirmed": attrs.confirmed.toordinal() if attrs.confirmed else 0,
    }


# -- searching -----------------------------------------------------------------------------

def _top(values: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` rows (of ``rows``) with the highest ``values[rows]``."""
    if len(rows) <= k:
        return rows
    part = values[rows]
    return rows[np.argpartition(-part, k - 1)[:k]]


def _candidates(col: Collection, query: Query, live: np.ndarray, lex: np.ndarray | None,
                method: Method, pool: int) -> np.ndarray:
    if len(live) <= pool:
        return live
    found: list[np.ndarray] = []
    if lex is not None:
        hits = live[lex[live] > 0]
        found.append(_top(lex, hits, pool))
    if method != "bm25":
        alive = col.arrays()["alive"]
        for emb, vector in query.vectors.items():
            if emb in col.dense:
                rows = col.dense[emb].candidates(vector, pool)
                found.append(rows[alive[rows]])
    return np.unique(np.concatenate(found)) if found else live[:0]


def _trl_part(query: Query, trls: np.ndarray) -> np.ndarray | None:
    if query.trl_wanted:
        return st.trl_fit(trls, query.trl_wanted)
    if query.trl_offered:
        return st.trl_fit(query.trl_offered, trls)
    return None


def _structured_parts(col: Collection, query: Query, rows: np.ndarray, today: dt.date,
                      ) -> dict[str, np.ndarray]:
    arrays = col.arrays()
    wanted_modes = col.modes.mask(query.modes, assign=False)
    field_code = col.fields.lookup(query.field) if query.field else 0
    parts = {
        "field": st.field_fit(field_code, arrays["field"][rows]),
        "trl": _trl_part(query, arrays["trl"][rows]),
        "region": st.region_fit(st.region_code(query.region), arrays["region"][rows]),
        "mode": st.mode_fit(wanted_modes, arrays["modes"][rows]) if query.modes else None,
        "freshness": st.freshness(arrays["confirmed"][rows], today),
    }
    return {name: values for name, values in parts.items() if values is not None}


def _impute_missing_vectors(parts: dict[str, np.ndarray], raw: dict[str, np.ndarray]) -> None:
    """A record not yet embedded by some model (its row is zero, waiting for the background
    job) gets that model's z-score from the mean of its other text parts instead of the very
    low score a zero cosine would give."""
    # Parts that say something: BM25 always, an embedder if any candidate has its vector.
    present = [n for n, values in raw.items() if n == "lexical" or (values != 0.0).any()]
    for name, values in raw.items():
        missing = values == 0.0  # a real cosine is never exactly zero
        if name == "lexical" or not missing.any():
            continue
        others = [parts[o] for o in present if o != name]
        parts[name] = np.where(missing, np.mean(others, axis=0) if others else 0.0, parts[name])


_BLAS: ThreadpoolController | None = None


def _one_blas_thread() -> Any:
    """A context with BLAS on one thread: a query's products are small, and spreading them over
    cores that are busy with other requests costs far more than it saves."""
    global _BLAS
    if _BLAS is None:
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


def search(col: Collection, query: Query, *, k: int = 20, method: Method = "hybrid",
           weights: Mapping[str, float] = WEIGHTS, pool: int = 1000,
           today: dt.date | None = None) -> list[Match]:
    """The ``k`` best live rows for ``query`` with their explanations (see module doc)."""
    with _one_blas_thread():
        return _search(col, query, k, method, weights, pool, today)


def _search(col: Collection, query: Query, k: int, method: Method,
            weights: Mapping[str, float], pool: int, today: dt.date | None) -> list[Match]:
    today = today or dt.datetime.now(dt.UTC).date()
    arrays = col.arrays()
    live = np.flatnonzero(arrays["alive"])
    if query.exclude:
        live = live[~np.isin(arrays["key"][live], list(query.exclude))]
    if not len(live):
        return []
    lex = col.lexical.scores(query.tokens) if method != "dense" else None
    rows = _candidates(col, query, live, lex, method, pool)
    if not len(rows):
        return []
    groups = arrays["language"][rows]
    raw: dict[str, np.ndarray] = {}
    if lex is not None:
        raw["lexical"] = lex[rows].astype(np.float64)
    if method != "bm25":
        for emb, vector in query.vectors.items():
            if emb in col.dense:
                raw[emb] = col.dense[emb].scores_at(vector, rows).astype(np.float64)
    parts: dict[str, np.ndarray] = {}
    if method == "bm25":
        parts["lexical"] = raw["lexical"]
        weights = {"lexical": 1.0}
    else:
        parts.update({name: zscore_by_group(values, groups) for name, values in raw.items()})
        _impute_missing_vectors(parts, raw)
        dense = [parts[name] for name in raw if name != "lexical"]
        if "lexical" in parts and query.language in ("zh", "en"):
            other = (groups != LANGUAGES[query.language]) & (groups != LANGUAGES["mixed"])
            parts["lexical"] = impute_across_languages(parts["lexical"], dense, other)
        if method == "hybrid":
            parts.update(_structured_parts(col, query, rows, today))
        else:
            weights = {name: weights.get(name, 0.0) for name in query.vectors}
    total, weighted = blend(parts, weights)
    vectors = ({e: col.dense[e].vectors_at(rows) for e in query.vectors if e in col.dense}
               if method == "hybrid" else {})
    if vectors:
        order, added = rerank(total, vectors, groups)
        weighted.update(added)
        total = total + added["feedback"] + added["neighbours"]
        weighted["leader"] = _leader(total, order)
        total = total + weighted["leader"]
        order = order[:k]
    else:
        order = np.argsort(-total, kind="stable")[:k]
    return _explain(col, query, rows[order], total[order],
                    {n: v[order] for n, v in weighted.items()},
                    {n: v[order] for n, v in raw.items()})


def _leader(total: np.ndarray, order: np.ndarray) -> np.ndarray:
    """What the kept-first record needs to stay above the rest, so scores fall with rank and
    the parts still add up to the score (0 for every other record)."""
    lift = np.zeros(len(total))
    if len(order) > 1:
        rest = float(total[order[1:]].max())
        top = int(order[0])
        if total[top] <= rest:
            lift[top] = rest - total[top] + 1e-6
    return lift


def _explain(col: Collection, query: Query, rows: np.ndarray, totals: np.ndarray,
             weighted: dict[str, np.ndarray], raw: dict[str, np.ndarray]) -> list[Match]:
    arrays = col.arrays()
    terms = col.lexical.term_contributions(query.tokens, rows.tolist())
    fields = {code: name for name, code in col.fields.to_dict().items()}
    wanted_region = st.region_code(query.region)
    relations = st.region_relations(wanted_region, arrays["region"][rows])
    out = []
    for i, row in enumerate(rows.tolist()):
        shared = sorted(terms.get(row, {}).items(), key=lambda item: -item[1])
        facts: dict[str, object] = {
            "language": LANGUAGE_NAMES.get(int(arrays["language"][row]), "zh"),
            "field": fields.get(int(arrays["field"][row])),
            "field_match": (query.field is not None and fields.get(int(arrays["field"][row]))
                            == query.field) if query.field else None,
            "trl": int(arrays["trl"][row]) or None,
            "trl_wanted": query.trl_wanted,
            "trl_offered": query.trl_offered,
            "region": f"{int(arrays['region'][row]):06d}" if arrays["region"][row] else None,
            "region_relation": st.REGION_RELATIONS[relations[i]] if wanted_region else None,
        }
        out.append(Match(key=int(arrays["key"][row]), score=float(totals[i]),
                         parts={n: float(v[i]) for n, v in weighted.items()},
                         shared_terms=[(t, round(w, 4)) for t, w in shared], facts=facts,
                         raw={n: round(float(v[i]), 4) for n, v in raw.items()}))
    return out
