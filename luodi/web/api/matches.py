"""API: the matches of a record (匹配) and the explanation of one pair.

``GET /api/v1/{source}/{id}/matches?target=…&k=…`` for every direction of
:data:`luodi.push.matches.DIRECTIONS`, and ``…/matches/{target}/{target_id}`` for one pair.
The service authorises; this module only shapes its results. A target is described by its
public teaser alone (:func:`luodi.inventory.views.record_view` as an anonymous visitor sees it),
whoever asks: a match list is a prospect list, not a way round disclosure tiers, and a
confidential demand keeps its enterprise anonymous. The pages reuse :func:`match_out`.
"""

# No `from __future__ import annotations`: FastAPI reads the Literal path types at run time.
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from luodi.auth.login import anonymous
from luodi.inventory.kinds import kind_of
from luodi.inventory.views import record_view
from luodi.matching.blend import RERANK_PARTS, STRUCTURED_PARTS, TEXT_PARTS
from luodi.push.matches import DIRECTIONS, MAX_K, MatchResult, explain_pair, find_matches
from luodi.web.deps import CtxDep

router = APIRouter()

# The target asked for when the request names none.
DEFAULT_TARGET = {"demands": "achievements", "achievements": "demands",
                  "enterprises": "achievements", "experts": "achievements"}
PARTS = TEXT_PARTS + STRUCTURED_PARTS + RERANK_PARTS
# A user model's part (``st:<dir name>``) is shown under this name: the name of a directory on
# the server is nobody's business.
OTHER_MODEL = "other_model"
RegionRelation = Literal["same_city", "same_province", "jjj", "other", "unknown"]


class SharedTerm(BaseModel):
    term: str
    weight: float = Field(description="What the term adds to the keyword (BM25) score")


class MatchFacts(BaseModel):
    """Structured facts of the pair; None where a side does not say or the part was not asked."""

    language: str | None = None
    field: str | None = Field(None, description="The target's industry-field code")
    field_match: bool | None = None
    trl: int | None = Field(None, description="The target's TRL (for a demand: the TRL it wants)")
    trl_wanted: int | None = Field(None, description="The TRL the source demand wants")
    trl_offered: int | None = Field(None, description="The TRL the source achievement offers")
    region: str | None = Field(None, description="The target's GB/T 2260 region code")
    region_relation: RegionRelation | None = None


class ViaDemand(BaseModel):
    """A published demand through which an enterprise matches (or an enterprise's achievement)."""

    demand_id: int
    title: str
    score: float | None = None
    shared_terms: list[SharedTerm] = []


class Teaser(BaseModel):
    """The public teaser of the target: never a description, a contact or a hidden owner."""

    summary: str | None = None
    keywords: list[str] = []
    field_code: str | None = None
    field_name: str | None = None
    trl: int | None = None
    trl_wanted: int | None = None
    region_code: str | None = None
    region_name: str | None = None
    party_name: str | None = Field(None, description="Institution or enterprise, when public")
    party_url: str | None = None


class MatchOut(BaseModel):
    kind: str
    id: int
    title: str
    score: float = Field(description="Sum of the parts; comparable within one list")
    parts: dict[str, float] = Field(description="Weighted contribution of each part")
    shared_terms: list[SharedTerm]
    facts: MatchFacts
    via: list[ViaDemand] = []
    url: str = Field(description="The target's page")
    why_url: str = Field(description="The 'why this match' page")
    teaser: Teaser


class SourceOut(BaseModel):
    kind: str
    id: int
    title: str
    url: str


class MatchesOut(BaseModel):
    ok: bool = True
    source: SourceOut
    target: str
    items: list[MatchOut]


class ExplanationOut(BaseModel):
    ok: bool = True
    source: SourceOut
    match: MatchOut
    raw: dict[str, float] = Field(description="BM25 score and cosines before normalising")


def title_of(kind: str, obj: Any) -> str:
    return str(getattr(obj, kind_of(kind).title_attr) or "")


def source_out(kind: str, obj: Any) -> SourceOut:
    return SourceOut(kind=kind, id=obj.id, title=title_of(kind, obj), url=f"/{kind}/{obj.id}")


def teaser_of(kind: str, obj: Any) -> Teaser:
    """What an anonymous visitor may see of ``obj`` (no session: viewing it is not audited)."""
    view = record_view(None, anonymous(None), kind, obj, audit_view=False)
    party_id, party_kind = view.get("institution_id"), "institutions"
    if kind == "demands":
        party_id, party_kind = view.get("enterprise_id"), "enterprises"
    return Teaser(summary=view.get("summary") or view.get("profile"),
                  keywords=view.get("keywords") or [], field_code=view.get("field_code"),
                  field_name=view.get("field_name"), trl=view.get("trl"),
                  trl_wanted=view.get("trl_wanted"), region_code=view.get("region_code"),
                  region_name=view.get("region_name"),
                  party_name=view.get("institution_name") or view.get("enterprise_name"),
                  party_url=f"/{party_kind}/{party_id}" if party_id else None)


def _terms(pairs: list[Any]) -> list[SharedTerm]:
    return [SharedTerm(term=str(t), weight=round(float(w), 4)) for t, w in pairs]


def match_out(source_kind: str, source_id: int, result: MatchResult) -> MatchOut:
    """One service result as the API and the pages show it."""
    obj = result.record
    via = [ViaDemand(demand_id=v["demand_id"], title=v["title"], score=v.get("score"),
                     shared_terms=_terms(v.get("shared_terms", []))) for v in result.via]
    parts: dict[str, float] = {}
    for name, value in result.parts.items():
        key = name if name in PARTS else OTHER_MODEL
        parts[key] = round(parts.get(key, 0.0) + value, 4)
    return MatchOut(kind=result.kind, id=obj.id, title=title_of(result.kind, obj),
                    score=round(result.score, 4), parts=parts,
                    shared_terms=_terms(result.shared_terms),
                    facts=MatchFacts.model_validate(result.facts), via=via,
                    url=f"/{result.kind}/{obj.id}",
                    why_url=f"/{source_kind}/{source_id}/matches/{result.kind}/{obj.id}",
                    teaser=teaser_of(result.kind, obj))


def _routes(source: str, targets: tuple[str, ...]) -> None:
    target_type: Any = Literal[targets]  # type: ignore[valid-type]
    default = DEFAULT_TARGET[source]

    @router.get(f"/{source}/{{record_id}}/matches", tags=["matches"],
                response_model=MatchesOut, name=f"matches_{source}",
                summary=f"Matches of one of {source} ({' / '.join(targets)})")
    def matches(record_id: int, ctx: CtxDep,
                target: target_type = Query(default),  # type: ignore[valid-type]
                k: int = Query(10, ge=1, le=MAX_K)) -> MatchesOut:
        results = find_matches(ctx.session, ctx.actor, ctx.settings, source, record_id,
                               target, k=k)
        obj = _source(ctx, source, record_id)
        return MatchesOut(source=source_out(source, obj), target=target,
                          items=[match_out(source, record_id, r) for r in results])

    @router.get(f"/{source}/{{record_id}}/matches/{{target}}/{{target_id}}", tags=["matches"],
                response_model=ExplanationOut, name=f"match_explain_{source}",
                summary=f"Why one record matches one of {source}")
    def explain(record_id: int, target: target_type, target_id: int,  # type: ignore[valid-type]
                ctx: CtxDep) -> ExplanationOut:
        result = explain_pair(ctx.session, ctx.actor, ctx.settings, source, record_id, target,
                              target_id)
        obj = _source(ctx, source, record_id)
        return ExplanationOut(source=source_out(source, obj),
                              match=match_out(source, record_id, result), raw=result.raw)


def _source(ctx: Any, kind: str, record_id: int) -> Any:
    """The source record, already authorised by the service call that precedes this one."""
    return ctx.session.get(kind_of(kind).model, record_id)


def targets_by_source() -> dict[str, tuple[str, ...]]:
    """The targets each source kind may ask for, in DIRECTIONS order."""
    out: dict[str, tuple[str, ...]] = {}
    for source, target in DIRECTIONS:
        out[source] = (*out.get(source, ()), target)
    return out


for _source_kind, _targets in targets_by_source().items():
    _routes(_source_kind, _targets)
