"""BM25 over segmented text: a ``bm25s`` main segment plus a small in-memory delta.

``bm25s`` builds a sparse term × document matrix of precomputed BM25 weights (Lucene's IDF,
``log(1 + (N - df + 0.5) / (df + 0.5))``), so a query costs a few column sums. Its index cannot
grow, so records saved after the last build go to a *delta* segment scored here with the same
formula over the combined statistics (documents, document frequencies and average length of main
and delta together). The main segment keeps the statistics it was built with until the next
merge; with a delta of a few percent the difference is a few percent of one term's IDF.

Rows are numbered main first, then delta, in the order added. Rows are never removed: the caller
keeps an ``alive`` mask (see :mod:`luodi.matching.engine`) and rebuilds when it wants space back.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

__all__ = ["Bm25Params", "LexicalIndex", "idf"]


@dataclass(frozen=True)
class Bm25Params:
    """BM25's two knobs (the usual defaults; measured in docs/decisions/0006)."""

    k1: float = 1.5
    b: float = 0.75


def idf(df: float, n_docs: float) -> float:
    """Lucene's BM25 IDF, never negative."""
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


class _Delta:
    """Documents added since the main build: postings kept in dictionaries."""

    def __init__(self) -> None:
        self.postings: dict[str, list[tuple[int, int]]] = {}  # term → (delta row, tf)
        self.lengths: list[int] = []

    def add(self, tokens: Sequence[str]) -> None:
        row = len(self.lengths)
        for term, tf in Counter(tokens).items():
            self.postings.setdefault(term, []).append((row, tf))
        self.lengths.append(len(tokens))

    def df(self, term: str) -> int:
        return len(self.postings.get(term, ()))


class LexicalIndex:
    """BM25 scores of a query against every row; see the module docstring."""

    def __init__(self, params: Bm25Params | None = None) -> None:
        self.params = params or Bm25Params()
        self._main: bm25s.BM25 | None = None
        self._main_docs = 0
        self._main_length_sum = 0.0
        self._delta = _Delta()

    # -- building --------------------------------------------------------------------------
    @classmethod
    def build(cls, docs: Sequence[Sequence[str]], params: Bm25Params | None = None) -> LexicalIndex:
        """An index whose main segment holds ``docs`` (each a list of tokens)."""
        index = cls(params)
        if docs:
            main = bm25s.BM25(k1=index.params.k1, b=index.params.b, method="lucene")
            # No copy of the token lists: at a million records they are gigabytes.
            main.index(docs if isinstance(docs, list) else list(docs), show_progress=False)
            index._main = main
            index._main_docs = len(docs)
            index._main_length_sum = float(sum(len(d) for d in docs))
        return index

    def add(self, tokens: Sequence[str]) -> int:
        """Append one document to the delta; return its row."""
        self._delta.add(tokens)
        return self._main_docs + len(self._delta.lengths) - 1

    @property
    def n_docs(self) -> int:
        """Rows in the index, main and delta."""
        return self._main_docs + len(self._delta.lengths)

    @property
    def delta_size(self) -> int:
        """Rows in the delta segment (a rebuild folds them into main)."""
        return len(self._delta.lengths)

    # -- scoring ---------------------------------------------------------------------------
    def _main_df(self, term: str) -> int:
        if self._main is None:
            return 0
        tid = self._main.vocab_dict.get(term)
        if tid is None:
            return 0
        indptr = self._main.scores["indptr"]
        return int(indptr[tid + 1] - indptr[tid])

    def _main_ids(self, tokens: Sequence[str]) -> list[int]:
        if self._main is None:
            return []
        vocab = self._main.vocab_dict
        return [vocab[t] for t in tokens if t and t in vocab]

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 of the query ``tokens`` (repeats count) for every row, as float32."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        ids = self._main_ids(tokens)
        if ids:
            out[: self._main_docs] = self._main.get_scores_from_ids(ids)  # type: ignore[union-attr]
        if self._delta.lengths:
            out[self._main_docs:] = self._delta_scores(tokens)
        return out

    def _delta_scores(self, tokens: Sequence[str]) -> np.ndarray:
        delta = self._delta
        scores = np.zeros(len(delta.lengths), dtype=np.float64)
        n = self.n_docs
        avgdl = (self._main_length_sum + sum(delta.lengths)) / n if n else 1.0
        k1, b = self.params.k1, self.params.b
        for term in tokens:
            postings = delta.postings.get(term)
            if not postings:
                continue
            weight = idf(self._main_df(term) + delta.df(term), n)
            for row, tf in postings:
                norm = k1 * (1 - b + b * delta.lengths[row] / (avgdl or 1.0))
                scores[row] += weight * tf / (tf + norm)  # Lucene form, as bm25s "lucene"
        return scores.astype(np.float32)

    def term_contributions(self, tokens: Sequence[str], rows: Sequence[int],
                           ) -> dict[int, dict[str, float]]:
        """For each of ``rows``, the query terms it contains and what each added to its score.

        This is the "shared terms" part of a match explanation; it reads the index, so it shows
        exactly the terms that scored.
        """
        wanted = {int(r): {} for r in rows}  # type: dict[int, dict[str, float]]
        if not wanted:
            return wanted
        counts = Counter(t for t in tokens if t)
        self._main_contributions(counts, wanted)
        self._delta_contributions(counts, wanted)
        return wanted

    def _main_contributions(self, counts: Counter[str],
                            wanted: dict[int, dict[str, float]]) -> None:
        if self._main is None:
            return
        main_rows = np.array(sorted(r for r in wanted if r < self._main_docs), dtype=np.int64)
        if not len(main_rows):
            return
        data, indices, indptr = (self._main.scores[k] for k in ("data", "indices", "indptr"))
        vocab = self._main.vocab_dict
        for term, count in counts.items():
            tid = vocab.get(term)
            if tid is None:
                continue
            docs = indices[indptr[tid]:indptr[tid + 1]]
            hit = np.isin(docs, main_rows)
            for pos in np.flatnonzero(hit):
                wanted[int(docs[pos])][term] = float(data[indptr[tid] + pos]) * count

    def _delta_contributions(self, counts: Counter[str],
                             wanted: dict[int, dict[str, float]]) -> None:
        delta_rows = {r - self._main_docs for r in wanted if r >= self._main_docs}
        if not delta_rows:
            return
        for term, count in counts.items():
            part = self._delta_scores([term])
            for row in delta_rows:
                if part[row] > 0:
                    wanted[row + self._main_docs][term] = float(part[row]) * count

    # -- persistence -----------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write the main segment (the delta is rebuilt from the database on load)."""
        path.mkdir(parents=True, exist_ok=True)
        meta = {"k1": self.params.k1, "b": self.params.b, "docs": self._main_docs,
                "length_sum": self._main_length_sum}
        if self._main is not None:
            self._main.save(str(path / "bm25"), show_progress=False)
        (path / "lexical.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, path: Path, *, mmap: bool = True) -> LexicalIndex:
        """Read what :meth:`save` wrote; the main matrix is memory-mapped by default."""
        meta = json.loads((path / "lexical.json").read_text(encoding="utf-8"))
        index = cls(Bm25Params(meta["k1"], meta["b"]))
        if meta["docs"]:
            index._main = bm25s.BM25.load(str(path / "bm25"), mmap=mmap, show_progress=False)
            index._main_docs = int(meta["docs"])
            index._main_length_sum = float(meta["length_sum"])
        return index
