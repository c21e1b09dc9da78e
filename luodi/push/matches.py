"""Match directions (匹配方向) with their explanations, authorised in the service.

* demand → achievements: what could meet this need;
* achievement → demands, and achievement → enterprises (through each enterprise's published
  demands and its profile; the best of them counts, and the demands are named as the reason);
* enterprise → achievements: the same in reverse, the candidates of a push;
* expert → achievements and demands: what an expert could evaluate or help with.

Every result is re-read from the database before it is returned: a record withdrawn, deleted or
expired since the index last looked is dropped, and so is anything the asker may not read.
A result must also be *textually* related — a cosine at or above the embedder's "related"
level, or shared terms worth at least a fifth of the best word evidence in the list — so
structured fit alone (same region, right TRL) never makes a match, nor does one incidental word.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from luodi.auth.actor import Actor
from luodi.auth.policy import authorize, can, is_staff, require_login
from luodi.config import Settings
from luodi.errors import NotFound, ValidationFailed
from luodi.inventory.freshness import is_pushable
from luodi.inventory.models import Demand
from luodi.inventory.records import get_record
from luodi.matching.engine import Collection, Match, Query, search
from luodi.matching.text import language_of
from luodi.push.documents import query_for, text_of, tokens_of
from luodi.push.index import TARGETS, indexes_for

__all__ = ["DIRECTIONS", "MatchResult", "explain_pair", "find_matches", "find_for_text"]

# (source kind, target kind) → the policy action that allows asking.
DIRECTIONS: dict[tuple[str, str], str] = {
    ("demands", "achievements"): "demands.matches",
    ("achievements", "demands"): "achievements.matches",
    ("achievements", "enterprises"): "achievements.match_enterprises",
    ("enterprises", "achievements"): "enterprises.matches",
    ("experts", "achievements"): "experts.matches",
    ("experts", "demands"): "experts.matches",
}
MAX_K = 100


@dataclass
class MatchResult:
    """One match as the service returns it: the record, the score and why."""

    kind: str
    record: Any
    score: float
    parts: dict[str, float]
    shared_terms: list[tuple[str, float]]
    facts: dict[str, Any]
    raw: dict[str, float] = field(default_factory=dict)  # BM25 score and cosines
    via: list[dict[str, Any]] = field(default_factory=list)  # demands that made an enterprise match


def _check(session: Session, actor: Actor, source_kind: str, source_id: int, target: str) -> Any:
    action = DIRECTIONS.get((source_kind, target))
    if action is None:
        raise ValidationFailed(f"no match direction from {source_kind} to {target}")
    source = get_record(session, actor, source_kind, source_id)
    authorize(session, actor, action, source)
    return source


def _query_vectors(settings: Settings, sources: Sequence[Any]) -> list[dict[str, np.ndarray]]:
    """Each source's query vectors, one embedding call per model for all of them."""
    indexes = indexes_for(settings)
    indexes.load_terms()  # the query is cut next (query_for), with the index's dictionary
    texts = [text_of(s) for s in sources]
    matrices = {e.name: e.embed_queries(texts) for e in indexes.embedders()}
    return [{name: m[i] for name, m in matrices.items()} for i in range(len(sources))]


def _search(session: Session, settings: Settings, col: Collection, query: Query, k: int,
            ) -> list[Match]:
    # Ask for more than k: some results may be dropped below (stale, hidden, not relevant).
    return search(col, query, k=k * 2 + 10, pool=settings.match_pool)


def _collection(session: Session, settings: Settings, target: str) -> Collection:
    """The target collection, synced with the database once per request."""
    return indexes_for(settings).collection(session, target)


def _usable(session: Session, actor: Actor, target: str, matches: Sequence[Match],
            today: dt.date) -> dict[int, Any]:
    model = TARGETS[target]
    keys = [m.key for m in matches]
    objs = {o.id: o for o in session.scalars(select(model).where(model.id.in_(keys)))}
    ok = {}
    for key, obj in objs.items():
        if target != "enterprises" and not is_pushable(obj, today):
            continue
        if can(actor, f"{target}.read", obj):
            ok[key] = obj
    return ok


# A match on words alone needs at least this share of the best word evidence in its list:
# one incidental shared word ("small", "kg") under strong matches is not a reason.
MIN_LEXICAL_SHARE = 0.2


def _related(match: Match, related: dict[str, float], best_lexical: float) -> bool:
    """Related in meaning (a cosine at the embedder's level), or in words (see above)."""
    if any(name in related and value >= related[name] for name, value in match.raw.items()):
        return True
    return bool(match.shared_terms) and (
        match.raw.get("lexical", 0.0) >= MIN_LEXICAL_SHARE * best_lexical)


def _results(session: Session, actor: Actor, settings: Settings, target: str,
             matches: Sequence[Match], k: int, today: dt.date) -> list[MatchResult]:
    usable = _usable(session, actor, target, matches, today)
    related = {e.name: e.related for e in indexes_for(settings).embedders()}
    best_lexical = max((m.raw.get("lexical", 0.0) for m in matches), default=0.0)
    out = []
    for m in matches:
        obj = usable.get(m.key)
        if obj is None or not _related(m, related, best_lexical):
            continue
        out.append(MatchResult(target, obj, m.score, m.parts, m.shared_terms, m.facts, m.raw))
        if len(out) == k:
            break
    return out


def find_matches(session: Session, actor: Actor, settings: Settings, source_kind: str,
                 source_id: int, target: str, *, k: int = 10,
                 today: dt.date | None = None) -> list[MatchResult]:
    """The best ``k`` ``target`` records for record ``source_id`` of ``source_kind``."""
    require_login(actor)
    if not 1 <= k <= MAX_K:
        raise ValidationFailed(f"k must be between 1 and {MAX_K}")
    today = today or dt.datetime.now(dt.UTC).date()
    source = _check(session, actor, source_kind, source_id, target)
    if source_kind == "enterprises":
        return _for_enterprise(session, actor, settings, source, k, today)
    [vectors] = _query_vectors(settings, [source])
    if target == "enterprises":
        return _enterprises(session, actor, settings, source, vectors, k, today)
    found = _search(session, settings, _collection(session, settings, target),
                    query_for(source, vectors, target=target), k)
    return _results(session, actor, settings, target, found, k, today)


def _enterprises(session: Session, actor: Actor, settings: Settings, source: Any,
                 vectors: dict[str, np.ndarray], k: int, today: dt.date) -> list[MatchResult]:
    """Enterprises for an achievement: the best of their demands' matches and their profile's."""
    demand_hits = _search(session, settings, _collection(session, settings, "demands"),
                          query_for(source, vectors, target="demands"), k * 3)
    demands = _results(session, actor, settings, "demands", demand_hits, k * 3, today)
    profile_hits = _search(session, settings, _collection(session, settings, "enterprises"),
                           query_for(source, vectors, target="enterprises"), k)
    profiles = _results(session, actor, settings, "enterprises", profile_hits, k, today)
    best: dict[int, MatchResult] = {r.record.id: r for r in profiles}
    staff = is_staff(actor)
    for d in demands:
        demand: Demand = d.record
        if demand.enterprise_id is None or (demand.confidential and not staff):
            continue  # a confidential demand must not reveal which enterprise stands behind it
        enterprise = demand.enterprise
        if enterprise is None or not can(actor, "enterprises.read", enterprise):
            continue
        via = {"demand_id": demand.id, "title": demand.title, "score": round(d.score, 4),
               "shared_terms": d.shared_terms[:8]}
        current = best.get(enterprise.id)
        if current is None or d.score > current.score:
            kept_via = current.via if current else []
            best[enterprise.id] = MatchResult("enterprises", enterprise, d.score, d.parts,
                                              d.shared_terms, d.facts, d.raw, [via, *kept_via])
        else:
            current.via.append(via)
    return sorted(best.values(), key=lambda r: -r.score)[:k]


def _for_enterprise(session: Session, actor: Actor, settings: Settings, enterprise: Any, k: int,
                    today: dt.date) -> list[MatchResult]:
    """Achievements for an enterprise: through each of its live demands and its profile."""
    sources: list[Any] = list(session.scalars(select(Demand).where(
        Demand.enterprise_id == enterprise.id, Demand.status == "published")))
    sources = [d for d in sources if is_pushable(d, today)] + [enterprise]
    col = _collection(session, settings, "achievements")
    best: dict[int, MatchResult] = {}
    for src, vectors in zip(sources, _query_vectors(settings, sources), strict=True):
        hits = _search(session, settings, col, query_for(src, vectors, target="achievements"), k)
        for r in _results(session, actor, settings, "achievements", hits, k, today):
            if isinstance(src, Demand):
                r.via = [{"demand_id": src.id, "title": src.title}]
            if r.record.id not in best or r.score > best[r.record.id].score:
                best[r.record.id] = r
    return sorted(best.values(), key=lambda r: -r.score)[:k]


def explain_pair(session: Session, actor: Actor, settings: Settings, source_kind: str,
                 source_id: int, target: str, target_id: int) -> MatchResult:
    """Why ``target_id`` matches ``source_id`` (the "why this match" page).

    The pair is scored by the same search as the list; NotFound when the target is not among
    the matches the asker can see.
    """
    require_login(actor)
    for result in find_matches(session, actor, settings, source_kind, source_id, target,
                               k=MAX_K):
        if result.record.id == target_id:
            return result
    raise NotFound("This record is not among the matches.")


def find_for_text(session: Session, actor: Actor, settings: Settings, text: str, *,
                  k: int = 10, field: str | None = None, region: str | None = None,
                  today: dt.date | None = None) -> list[MatchResult]:
    """Achievements for a free text, e.g. an enterprise's subscribed fields and keywords.

    The same search and the same filters as :func:`find_matches`; the caller authorises (the
    push cycle runs it for each subscription, as the system).
    """
    if not 1 <= k <= MAX_K or not text.strip():
        return []
    today = today or dt.datetime.now(dt.UTC).date()
    indexes = indexes_for(settings)
    indexes.load_terms()
    vectors = {e.name: e.embed_queries([text])[0] for e in indexes.embedders()}
    query = Query(tokens_of(text), vectors, language=language_of(text), field=field,
                  region=region)
    found = _search(session, settings, _collection(session, settings, "achievements"), query, k)
    return _results(session, actor, settings, "achievements", found, k, today)
