"""Enrichment on save: index text, keywords, field suggestion and the near-duplicate signature.

Only public-tier text is indexed (title, summary, keywords): search results and match
explanations must never reveal a confidential description (docs/decisions/0005).
"""

from __future__ import annotations

from typing import Any

from luodi.errors import ValidationFailed
from luodi.inventory import dedupe
from luodi.inventory.enrichment import enrich
from luodi.matching.text import segment


def public_text(obj: Any) -> str:
    """The text of a record that anyone may see, for indexing and duplicate detection."""
    parts = [obj.title, obj.summary or "", " ".join(obj.keywords or []),
             " ".join(getattr(obj, "auto_keywords", None) or [])]
    return "\n".join(p for p in parts if p)


def index_tokens(text: str) -> str:
    """Space-delimited search tokens (search-mode cut, so 锂离子电池 also yields 电池)."""
    tokens = dict.fromkeys(segment(text, search=True))
    return " " + " ".join(tokens) + " " if tokens else ""


def apply_enrichment(obj: Any) -> None:
    """Fill the derived columns of an achievement or demand from its public text."""
    own = list(obj.keywords or [])
    result = enrich(obj.title, obj.summary or "", keywords=own)
    obj.auto_keywords = [k for k in result.keywords if k not in own]
    obj.language = result.language
    obj.field_suggested = result.suggested_field
    obj.field_confidence = round(float(result.field_confidence), 4)
    if not obj.field_code and result.field_confidence > 0:
        obj.field_code = result.suggested_field
    text = public_text(obj)
    obj.search_text = index_tokens(text)
    try:
        obj.minhash = dedupe.signature(text)
    except ValidationFailed:  # nothing comparable (a title of symbols only): cannot be flagged
        obj.minhash = None
