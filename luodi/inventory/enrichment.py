"""Enrichment on save (保存时补全): index text, keywords and a suggested industry field.

:func:`enrich` is pure: it takes the record's text and returns an :class:`Enrichment`; the caller
stores it beside the record (the original text is never changed).

Keywords — user-supplied keywords come first, as given; then the top TF-IDF tokens of the text cut
by :mod:`luodi.matching.text` (taxonomy terms are user terms there, so 固态电池 stays whole), with
jieba's shipped IDF table (median IDF for words it does not know, e.g. English ones).

Field suggestion — each field's *profile* is built from its names and seed keywords only (no corpus,
no download): the keywords are cut in search mode (so 锂离子电池 also gives 电池 and 离子), and each
token weighs ``(1 + ln count) × idf``, where ``idf = ln(1 + N / fields containing the token)``
makes a token that many fields share (系统, 材料…) count little. A record is cut the same way; its
score for a field is the cosine between its token vector and the field's profile, title counted
twice (tokens no profile knows are ignored, so the score lies in [0, 1]).

Confidence = ``share × m / (m + EVIDENCE_PRIOR)``. ``share`` is the winner's part of the squared
scores (``s_top² / Σ s²``, a softmax over ``2·ln s``): 1 when only one field matches, about 1/2
when two fields tie. ``m`` is the number of distinct record tokens behind the winner, so a single
stray keyword caps confidence at 1/2 and ten of them allow 0.9. Nothing matched → ``other`` with
confidence 0. Both parts only rise with stronger, less contested evidence; the bench
(``bench/field_suggestion.py``) prints accuracy per confidence band to check that higher
confidence is right more often (on the CSL sample: 0.1 below 0.2 up to ~0.9 above 0.8 under the
strict measure). The exponent 2 and the prior 1 were chosen among a handful of simple settings on
that same sample, so treat the bands as indicative, not as fitted probabilities.

Speed: :func:`enrich` normalises the title, the body and the whole text once each, cuts each once
in precise mode and derives the search-mode tokens for the field vector from that cut
(:meth:`Segmenter.search_tokens`), with the title cut once although it counts twice; the whole
text's precise cut (for keywords) reuses the title's and body's chunks from the segmenter's memo.
Results are the same as calling :func:`suggest_field` and :func:`extract_keywords` separately.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from luodi.inventory.taxonomy import FALLBACK_CODE, Taxonomy, active_taxonomy
from luodi.matching.text import Segmenter, default_segmenter, language_of, normalise

__all__ = ["Enrichment", "FieldScore", "enrich", "extract_keywords", "suggest_field"]

EVIDENCE_PRIOR = 1.0
TITLE_WEIGHT = 2
PART_WEIGHT = 0.5
DEFAULT_TOP_K = 8
_EVIDENCE_TERMS = 6


@dataclass(frozen=True)
class FieldScore:
    """One field's similarity to a record (cosine, 0–1) and its share of the squared scores."""

    code: str
    score: float
    probability: float


@dataclass(frozen=True)
class Enrichment:
    """What enrichment adds to a record: index text, keywords, field suggestion and why."""

    normalised_text: str
    keywords: tuple[str, ...]
    suggested_field: str
    field_confidence: float
    language: str
    evidence: tuple[str, ...] = ()
    alternatives: tuple[FieldScore, ...] = ()


@dataclass(frozen=True)
class _Profiles:
    codes: tuple[str, ...]
    idf: dict[str, float]
    # token -> [(field index, weight / field norm)]: only the fields whose profile holds the token.
    postings: dict[str, tuple[tuple[int, float], ...]]


def _profile_tokens(segmenter: Segmenter, text: str) -> list[str]:
    # Single characters (光, 热, 电…) say too little to tell fields apart; drop them from profiles.
    return [t for t in segmenter.segment(text, search=True) if len(t) > 1]


def _presence(segmenter: Segmenter, terms: Iterable[str]) -> dict[str, float]:
    """Token → 1.0 for a whole keyword, ``PART_WEIGHT`` for a word inside one (max over terms)."""
    presence: dict[str, float] = {}
    for term in terms:
        whole = set(segmenter.segment(term))
        for token in _profile_tokens(segmenter, term):
            weight = 1.0 if token in whole else PART_WEIGHT
            presence[token] = max(presence.get(token, 0.0), weight)
    return presence


# The profiles used last, looked up by equality before the lru_cache: hashing a taxonomy walks
# every keyword of every field, and seed_taxonomy() returns a new (equal) object on each call.
_last_profiles: tuple[Taxonomy, Segmenter, _Profiles] | None = None


def _profiles(taxonomy: Taxonomy, segmenter: Segmenter) -> _Profiles:
    """The profiles of ``taxonomy`` (built and cached on first use, see :func:`_build_profiles`)."""
    global _last_profiles
    last = _last_profiles
    if last is not None and last[1] is segmenter and last[0] == taxonomy:
        return last[2]
    profiles = _build_profiles(taxonomy, segmenter)
    _last_profiles = (taxonomy, segmenter, profiles)
    return profiles


@lru_cache(maxsize=8)
def _build_profiles(taxonomy: Taxonomy, segmenter: Segmenter) -> _Profiles:
    """Build the field profiles once per taxonomy (taxonomies are frozen, hence hashable)."""
    segmenter.add_user_terms(term for field in taxonomy for term in field.terms)
    presences = [_presence(segmenter, field.terms) for field in taxonomy]
    df = Counter(token for presence in presences for token in presence)
    n = len(taxonomy)
    idf = {token: math.log(1 + n / d) for token, d in df.items()}
    postings: dict[str, list[tuple[int, float]]] = {}
    for index, presence in enumerate(presences):
        weights = {t: p * idf[t] for t, p in presence.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        for token, weight in weights.items():
            postings.setdefault(token, []).append((index, weight / norm))
    return _Profiles(
        codes=taxonomy.codes,
        idf=idf,
        postings={t: tuple(p) for t, p in postings.items()},
    )


def _long_tokens(search_tokens: list[str]) -> list[str]:
    # What _profile_tokens keeps, from search-mode tokens already at hand.
    return [t for t in search_tokens if len(t) > 1]


def _record_vector(title: str, body: str, segmenter: Segmenter) -> Counter[str]:
    return _count(_profile_tokens(segmenter, title), _profile_tokens(segmenter, body))


def _count(title_tokens: list[str], body_tokens: list[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for _ in range(TITLE_WEIGHT):
        counts.update(title_tokens)
    counts.update(body_tokens)
    return counts


def suggest_field(
    title: str,
    body: str = "",
    *,
    taxonomy: Taxonomy | None = None,
    segmenter: Segmenter | None = None,
) -> tuple[str, float, tuple[FieldScore, ...], tuple[str, ...]]:
    """Return ``(field code, confidence, all field scores best first, evidence terms)``.

    Evidence terms are the record's tokens that contributed most to the winning field — what a
    "why this field" explanation shows. See the module docstring for the method.
    """
    taxonomy = taxonomy or active_taxonomy()
    segmenter = segmenter or default_segmenter()
    profiles = _profiles(taxonomy, segmenter)
    return _score(profiles, _record_vector(title, body, segmenter))


def _score(
    profiles: _Profiles, counts: Counter[str]
) -> tuple[str, float, tuple[FieldScore, ...], tuple[str, ...]]:
    # Only tokens some profile knows carry weight; the others cannot tell fields apart.
    idf = profiles.idf
    weights = {t: (1 + math.log(c)) * idf[t] for t, c in counts.items() if t in idf}
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    scores = [0.0] * len(profiles.codes)
    contributions: list[dict[str, float]] = [{} for _ in profiles.codes]
    postings = profiles.postings
    for token, weight in weights.items():
        for index, field_weight in postings.get(token, ()):
            part = weight * field_weight / norm
            scores[index] += part
            contributions[index][token] = contributions[index].get(token, 0.0) + part
    squares = sum(score * score for score in scores)
    ranked = sorted(
        (
            FieldScore(code, round(score, 6), score * score / squares if squares else 0.0)
            for code, score in zip(profiles.codes, scores, strict=True)
        ),
        key=lambda fs: fs.score,
        reverse=True,
    )
    best = ranked[0]
    if best.score <= 0.0:
        # No evidence at all: file under the fallback and say we do not know.
        return FALLBACK_CODE, 0.0, tuple(ranked), ()
    index = profiles.codes.index(best.code)
    matched = len(contributions[index])
    confidence = best.probability * matched / (matched + EVIDENCE_PRIOR)
    top = sorted(contributions[index].items(), key=lambda item: item[1], reverse=True)
    evidence = tuple(token for token, _ in top[:_EVIDENCE_TERMS])
    return best.code, confidence, tuple(ranked), evidence


@lru_cache(maxsize=1)
def _idf_table() -> tuple[dict[str, float], float]:
    # jieba ships this table inside the wheel; imported lazily because it costs ~0.3 s to read.
    from jieba.analyse.tfidf import DEFAULT_IDF, IDFLoader

    freq, median = IDFLoader(DEFAULT_IDF).get_idf()
    return freq, median or statistics.median(freq.values())


def extract_keywords(
    text: str, *, top_k: int = DEFAULT_TOP_K, segmenter: Segmenter | None = None
) -> list[str]:
    """Return up to ``top_k`` keywords of ``text`` by TF-IDF over :mod:`luodi.matching.text` tokens.

    Single Chinese characters and Latin tokens shorter than three letters are not offered as
    keywords (too vague to show); ties keep first-occurrence order.
    """
    segmenter = segmenter or default_segmenter()
    return _rank_keywords(segmenter.segment(text), top_k)


def _rank_keywords(precise_tokens: list[str], top_k: int) -> list[str]:
    tokens = [t for t in precise_tokens if (len(t) >= 3 if t.isascii() else len(t) >= 2)]
    idf, median = _idf_table()
    counts = Counter(tokens)
    # Counter keeps first-occurrence order, so this ranks ties by first occurrence.
    first_seen = {t: i for i, t in enumerate(counts)}
    ranked = sorted(counts, key=lambda t: (-counts[t] * idf.get(t, median), first_seen[t]))
    return ranked[:top_k]


def _merge_keywords(
    user: Iterable[str] | None, extracted: Sequence[str], top_k: int
) -> tuple[str, ...]:
    # User keywords first and as typed; extracted ones fill what room top_k leaves.
    seen: set[str] = set()
    merged: list[str] = []
    for keyword in user or ():
        key = normalise(keyword)
        if key and key not in seen:
            seen.add(key)
            merged.append(keyword.strip())
    room = max(top_k - len(merged), 0)
    for keyword in extracted:
        if room == 0:
            break
        if keyword not in seen:
            seen.add(keyword)
            merged.append(keyword)
            room -= 1
    return tuple(merged)


def enrich(
    title: str,
    summary: str,
    description: str | None = None,
    keywords: Sequence[str] | None = None,
    taxonomy: Taxonomy | None = None,
    *,
    top_k: int = DEFAULT_TOP_K,
) -> Enrichment:
    """Enrich an achievement or demand on save: index text, keywords and a suggested field.

    ``keywords`` given by the user come first (as typed, duplicates dropped) and also count as text
    for the field suggestion; extracted keywords fill up to ``top_k``. ``taxonomy`` defaults to the
    seed. Works for Chinese, English and mixed records.
    """
    user_keywords = [k for k in (keywords or ()) if k and k.strip()]
    body = " ".join(p for p in (summary, description or "", " ".join(user_keywords)) if p)
    full = f"{title or ''} {body}".strip()
    taxonomy = taxonomy or active_taxonomy()
    segmenter = default_segmenter()
    # Build profiles first: that registers the taxonomy terms, so keywords keep them whole.
    profiles = _profiles(taxonomy, segmenter)
    # Each text normalised and cut once; the search-mode tokens come from the precise cut.
    title_tokens = _long_tokens(
        segmenter.search_tokens(segmenter.segment_normalised(normalise(title or "")))
    )
    body_tokens = _long_tokens(
        segmenter.search_tokens(segmenter.segment_normalised(normalise(body)))
    )
    code, confidence, ranked, evidence = _score(profiles, _count(title_tokens, body_tokens))
    normalised_full = normalise(full)
    # The whole text's chunks are the title's and the body's: the segmenter's memo has them.
    extracted = _rank_keywords(segmenter.segment_normalised(normalised_full), top_k)
    return Enrichment(
        normalised_text=normalised_full,
        keywords=_merge_keywords(user_keywords, extracted, top_k),
        suggested_field=code,
        field_confidence=min(max(confidence, 0.0), 1.0),
        language=language_of(full),
        evidence=evidence,
        alternatives=ranked[:3],
    )
