"""The candidate pairs of a push cycle, found in both directions and explained.

* enterprise → achievements: through each live demand of the enterprise and its profile
  (:func:`luodi.push.matches.find_matches`), and through its subscription's fields and keywords;
* achievement → enterprises for every achievement in an active catalogue, so listed
  achievements reach enterprises whose own top list they would not top.

A pair found several ways keeps its best score and every reason. Only recipients of this cycle
and pushable achievements are kept; the planner decides what is actually sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from luodi.auth.actor import system_actor
from luodi.config import Settings
from luodi.inventory.taxonomy import active_taxonomy
from luodi.push.audience import Recipient
from luodi.push.matches import MatchResult, find_for_text, find_matches

__all__ = ["Candidate", "gather"]


@dataclass
class Candidate:
    """One (enterprise, achievement) pair the plan may use, with the evidence for it."""

    enterprise_id: int
    achievement_id: int
    score: float
    sources: set[str] = field(default_factory=set)  # demand | profile | subscription | catalogue
    shared_terms: list[tuple[str, float]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    via: list[dict[str, Any]] = field(default_factory=list)  # the enterprise's demands
    keywords: list[str] = field(default_factory=list)  # subscribed keywords it carries

    def explanation(self) -> dict[str, Any]:
        """What the ledger keeps of why (shown in the inbox, exported with the push)."""
        return {"sources": sorted(self.sources), "shared_terms": self.shared_terms[:8],
                "facts": self.facts, "via": self.via[:3], "keywords": self.keywords}


Pairs = dict[tuple[int, int], Candidate]


def _add(pairs: Pairs, enterprise_id: int, achievement_id: int, m: MatchResult,
         source: str) -> None:
    key = (enterprise_id, achievement_id)
    cand = pairs.get(key)
    if cand is None:
        cand = pairs[key] = Candidate(enterprise_id, achievement_id, m.score)
    if m.score >= cand.score or not cand.shared_terms:
        cand.score, cand.shared_terms, cand.facts = max(cand.score, m.score), m.shared_terms, \
            m.facts
    cand.sources.add(source)
    known = {v.get("demand_id") for v in cand.via}
    cand.via.extend(v for v in m.via if v.get("demand_id") not in known)


def _subscription_text(recipient: Recipient) -> tuple[str, str | None]:
    sub = recipient.subscription
    if sub is None:
        return "", None
    taxonomy = active_taxonomy()
    names = [taxonomy.get(c).name_zh for c in sub.fields if c in taxonomy]
    field_code = sub.fields[0] if len(sub.fields) == 1 else None
    return " ".join([*names, *sub.keywords]), field_code


def _text_of(achievement: Any) -> str:
    return " ".join([achievement.title or "", achievement.summary or "",
                     *(achievement.keywords or [])]).lower()


def _apply_subscription(pairs: Pairs, recipients: Iterable[Recipient],
                        achievements: dict[int, Any]) -> None:
    """Subscribed fields narrow a recipient's candidates; subscribed keywords are noted."""
    subs = {r.enterprise.id: r.subscription for r in recipients if r.subscription is not None}
    for key in list(pairs):
        sub = subs.get(key[0])
        if sub is None:
            continue
        obj = achievements[key[1]]
        text = _text_of(obj)
        hits = [k for k in sub.keywords if k.lower() in text]
        pairs[key].keywords = hits
        if sub.fields and obj.field_code not in sub.fields and not hits:
            del pairs[key]  # outside the fields it asked for, and none of its keywords


def gather(session: Session, settings: Settings, recipients: list[Recipient],
           achievements: dict[int, Any], listed: Iterable[int], today: dt.date) -> Pairs:
    """Candidate pairs between ``recipients`` and the pushable ``achievements`` (by id)."""
    actor = system_actor("job")
    k = settings.push_candidates
    pairs: Pairs = {}
    by_id = {r.enterprise.id: r for r in recipients}
    for r in recipients:
        for m in find_matches(session, actor, settings, "enterprises", r.enterprise.id,
                              "achievements", k=k, today=today):
            if m.record.id in achievements:
                _add(pairs, r.enterprise.id, m.record.id, m, "demand" if m.via else "profile")
        text, field_code = _subscription_text(r)
        for m in find_for_text(session, actor, settings, text, k=k, field=field_code,
                               region=r.enterprise.region_code, today=today):
            if m.record.id in achievements:
                _add(pairs, r.enterprise.id, m.record.id, m, "subscription")
    for achievement_id in listed:
        if achievement_id not in achievements:
            continue
        for m in find_matches(session, actor, settings, "achievements", achievement_id,
                              "enterprises", k=k, today=today):
            if m.record.id in by_id:
                _add(pairs, m.record.id, achievement_id, m, "catalogue")
    _apply_subscription(pairs, recipients, achievements)
    return pairs
