"""What of a record is matched: its text, its tokens and its structured attributes.

Only public-tier text is matched (docs/decisions/0005): title, summary and the owner's keywords
for achievements and demands, the profile for enterprises, skills and publications for experts.
The jieba keywords that enrichment extracts are left out: they are drawn from the same title and
summary, so adding them would only count those words twice.

Structured attributes (field, TRL, region, transfer modes, date last confirmed) go to
:class:`luodi.matching.engine.DocAttrs`; a record that does not say leaves them empty.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from luodi.inventory.models import Achievement, Demand, Enterprise, Expert
from luodi.matching.engine import DocAttrs, Query
from luodi.matching.text import add_user_terms, language_of, segment

__all__ = ["MatchDoc", "doc_for", "learn_keywords", "query_for", "tokens_of"]

# Owner keywords of this length become jieba user terms (longer ones are sentences, not terms).
TERM_LENGTH = range(2, 21)


@dataclass(frozen=True)
class MatchDoc:
    """One record as matching sees it."""

    key: int
    text: str  # what embedders read
    tokens: list[str]  # what BM25 reads
    attrs: DocAttrs


def _join(*parts: str | None) -> str:
    return "\n".join(p.strip() for p in parts if p and p.strip())


def _listing_text(obj: Achievement | Demand) -> str:
    return _join(obj.title, obj.summary, " ".join(obj.keywords or []))


def _confirmed(obj: Any) -> dt.date | None:
    stamp = getattr(obj, "updated_at", None) or getattr(obj, "created_at", None)
    return stamp.date() if stamp else None


def _party_region(obj: Any, party: str) -> str | None:
    region = getattr(obj, "region_code", None)
    owner = getattr(obj, party, None)
    return region or (owner.region_code if owner is not None else None)


def text_of(obj: Any) -> str:
    """The public text matched for ``obj`` (achievement, demand, enterprise or expert)."""
    if isinstance(obj, (Achievement, Demand)):
        return _listing_text(obj)
    if isinstance(obj, Enterprise):
        return _join(obj.name, obj.name_en, obj.profile)
    if isinstance(obj, Expert):
        return _join(" ".join(obj.skills or []), " ".join(obj.publications or []))
    raise TypeError(f"cannot match a {type(obj).__name__}")


def attrs_of(obj: Any, text: str) -> DocAttrs:
    """The structured side of ``obj``; a demand's TRL is the one it wants."""
    language = getattr(obj, "language", None) or language_of(text)
    if isinstance(obj, Achievement):
        return DocAttrs(language, obj.field_code, obj.trl, _party_region(obj, "institution"),
                        tuple(obj.transfer_modes or ()), _confirmed(obj))
    if isinstance(obj, Demand):
        return DocAttrs(language, obj.field_code, obj.trl_wanted, _party_region(obj, "enterprise"),
                        tuple(obj.cooperation_modes or ()), _confirmed(obj))
    if isinstance(obj, Enterprise):
        return DocAttrs(language, None, None, obj.region_code, (), _confirmed(obj))
    return DocAttrs(language, obj.field_code, None, None, (), _confirmed(obj))  # an expert


def tokens_of(text: str) -> list[str]:
    """BM25 tokens: jieba's precise cut with each compound user term preceded by its parts.

    Documents and queries are cut the same way. The parts keep a record indexed before a term
    was learnt matching a query cut after (and the other way round).
    """
    return segment(text, search=True)


def learn_keywords(keyword_lists: Any) -> int:
    """Teach the segmenter the owners' keywords (the taxonomy's terms it knows already)."""
    return add_user_terms(k for keywords in keyword_lists for k in (keywords or ())
                          if isinstance(k, str) and len(k.strip()) in TERM_LENGTH)


def doc_for(obj: Any) -> MatchDoc:
    """``obj`` as a row of a match collection."""
    text = text_of(obj)
    return MatchDoc(int(obj.id), text, tokens_of(text), attrs_of(obj, text))


def query_for(obj: Any, vectors: dict[str, Any], *, target: str) -> Query:
    """A query that looks for ``target`` records (achievements, demands, enterprises) for ``obj``.

    The structured wishes follow the pair: a demand asks achievements for its field, at least
    its wanted TRL, near its region, by its cooperation modes; an achievement offers its TRL to
    demands (which want at most that) and its transfer modes.
    """
    doc = doc_for(obj)
    a = doc.attrs
    exclude = frozenset({doc.key}) if _kind_name(obj) == target else frozenset()
    trl_wanted = a.trl if isinstance(obj, Demand) else None
    trl_offered = a.trl if isinstance(obj, Achievement) and target == "demands" else None
    modes = a.modes if isinstance(obj, (Demand, Achievement)) else ()
    return Query(doc.tokens, vectors, language=a.language, field=a.field, trl_wanted=trl_wanted,
                 trl_offered=trl_offered, region=a.region, modes=modes, exclude=exclude)


def _kind_name(obj: Any) -> str:
    return {Achievement: "achievements", Demand: "demands", Enterprise: "enterprises",
            Expert: "experts"}[type(obj)]
