"""Push cycles (推送批次): find candidates, plan under capacity, write the ledger once.

:func:`run_cycle` is the whole cycle:

1. **who and what** — recipients (:mod:`luodi.push.audience`), pushable achievements, the ones
   listed in an active (published) catalogue, pairs pushed before, forbidden arcs;
2. **candidates** in both directions (:mod:`luodi.push.candidates`) above the minimum score;
3. **plan** — :func:`luodi.matching.planner.plan_cycle` (min-cost flow: at most k per
   recipient, each listed achievement aiming for d recipients), and the greedy top-k plan on the
   same pairs for comparison;
4. **write** — the cycle, its pushes (the in-app inbox), new catalogue announcements and the
   outbox messages (e-mail digests, webhook calls) in ONE transaction
   (:mod:`luodi.push.notify`). A crash before the commit leaves nothing; after it, the
   dispatcher sends what the outbox holds. A scheduled cycle has a unique ``period``, so a
   restarted scheduler never plans the same period twice.

A dry run stops after step 3 and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.policy import authorize
from luodi.config import Settings
from luodi.db import utcnow
from luodi.inventory.catalogue_models import Catalogue, CatalogueVersion
from luodi.inventory.freshness import is_pushable
from luodi.inventory.models import Achievement
from luodi.matching.planner import Plan, greedy_plan, plan_cycle
from luodi.push.audience import Person, Recipient, enterprise_people, recipients
from luodi.push.candidates import Candidate, gather
from luodi.push.consent import forbidden_arcs
from luodi.push.explain import reason_for
from luodi.push.ledger import OutboxMessage, Push, PushCycle
from luodi.push.notify import PlannedPush, write_cycle

__all__ = ["CycleResult", "PlannedPush", "run_cycle", "settle_cycles"]


@dataclass
class CycleResult:
    """What a cycle planned (and, unless a dry run, wrote)."""

    cycle_id: int | None
    dry_run: bool
    figures: dict[str, Any]
    rows: list[PlannedPush] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The figures `luodi push run --json` prints."""
        return {"cycle": self.cycle_id, "dry_run": self.dry_run, **self.figures}


@dataclass
class _Inputs:
    recipients: list[Recipient]
    achievements: dict[int, Achievement]
    listed: dict[int, Catalogue]  # achievement id → the active catalogue listing it


def _pushable(session: Session, today: dt.date) -> dict[int, Achievement]:
    stmt = (select(Achievement).where(Achievement.status == "published")
            .options(selectinload(Achievement.institution)).order_by(Achievement.id))
    return {a.id: a for a in session.scalars(stmt) if is_pushable(a, today)}


def _listed(session: Session, pushable: dict[int, Achievement]) -> dict[int, Catalogue]:
    """Pushable achievements in the latest published version of an achievement catalogue."""
    out: dict[int, Catalogue] = {}
    stmt = (select(Catalogue, CatalogueVersion)
            .join(CatalogueVersion, (CatalogueVersion.catalogue_id == Catalogue.id)
                  & (CatalogueVersion.number == Catalogue.published_version))
            .where(Catalogue.kind == "achievements").order_by(Catalogue.id))
    for cat, version in session.execute(stmt):
        for entry in version.snapshot:
            if entry.get("id") in pushable:
                out.setdefault(int(entry["id"]), cat)
    return out


def _forbidden(session: Session, pairs: dict[tuple[int, int], Candidate],
               achievements: dict[int, Achievement]) -> set[tuple[int, int]]:
    """Pairs never to push: pushed in an earlier cycle, opted out of, or in conflict."""
    out = {(e, a) for e, a in session.execute(select(Push.enterprise_id, Push.achievement_id))}
    by_achievement, by_institution = forbidden_arcs(session)
    out |= by_achievement
    for e, a in pairs:
        if (e, achievements[a].institution_id) in by_institution:
            out.add((e, a))
    return out


def _arrays(inputs: _Inputs, pairs: list[Candidate], d: int) -> dict[str, Any]:
    r_index = {r.enterprise.id: i for i, r in enumerate(inputs.recipients)}
    item_ids = sorted(set(inputs.listed) | {c.achievement_id for c in pairs})
    i_index = {a: i for i, a in enumerate(item_ids)}
    return {
        "recipient": np.array([r_index[c.enterprise_id] for c in pairs], np.int64),
        "item": np.array([i_index[c.achievement_id] for c in pairs], np.int64),
        "score": np.array([c.score for c in pairs], np.float64),
        "n_items": len(item_ids),
        "k": np.array([r.cap for r in inputs.recipients], np.int64),
        "d": np.array([d if a in inputs.listed else 0 for a in item_ids], np.int64),
        "item_ids": item_ids,
    }


def _plans(arrays: dict[str, Any]) -> tuple[Plan, Plan, float]:
    args = (arrays["recipient"], arrays["item"], arrays["score"])
    kw = {"n_items": arrays["n_items"], "k": arrays["k"], "d": arrays["d"]}
    started = time.perf_counter()
    flow = plan_cycle(*args, **kw)
    seconds = time.perf_counter() - started
    return flow, greedy_plan(*args, **kw), seconds


def _rows(inputs: _Inputs, pairs: list[Candidate], chosen: np.ndarray) -> list[PlannedPush]:
    names = {r.enterprise.id: r for r in inputs.recipients}
    picked = sorted((pairs[int(c)] for c in chosen),
                    key=lambda c: (c.enterprise_id, -c.score, c.achievement_id))
    rows, rank, last = [], 0, None
    for c in picked:
        rank = rank + 1 if c.enterprise_id == last else 1
        last = c.enterprise_id
        cat = inputs.listed.get(c.achievement_id)
        explanation = c.explanation()
        zh, en = reason_for(explanation, cat.name if cat else None)
        r = names[c.enterprise_id]
        achievement = inputs.achievements[c.achievement_id]
        rows.append(PlannedPush(c.enterprise_id, r.enterprise.name, r.organisation_id,
                                c.achievement_id, achievement.title, achievement.summary,
                                round(c.score, 4), rank, zh, en, cat.id if cat else None,
                                explanation))
    return rows


def _figures(settings: Settings, inputs: _Inputs, arrays: dict[str, Any], flow: Plan,
             greedy: Plan, seconds: float, candidates: int) -> dict[str, Any]:
    per_item = np.bincount(arrays["item"][flow.chosen], minlength=arrays["n_items"])
    uncovered = [a for a, n, want in zip(arrays["item_ids"], per_item, arrays["d"], strict=True)
                 if want and n < want]
    return {**flow.as_json(), "cap_per_recipient": settings.push_cap_per_recipient,
            "min_recipients": settings.push_min_recipients,
            "min_score": settings.push_min_score, "eligible_items": len(inputs.listed),
            "eligible_recipients": len(inputs.recipients), "candidates": candidates,
            "allowed_pairs": len(arrays["score"]), "plan_seconds": round(seconds, 4),
            "greedy": greedy.as_json(), "uncovered_ids": uncovered}


def _plan(session: Session, settings: Settings, today: dt.date,
          people: dict[int, list[Person]]) -> tuple[dict[str, Any], list[PlannedPush]]:
    achievements = _pushable(session, today)
    inputs = _Inputs(recipients(session, settings, people), achievements,
                     _listed(session, achievements))
    found = gather(session, settings, inputs.recipients, achievements, inputs.listed, today)
    forbidden = _forbidden(session, found, achievements)
    allowed = [c for key, c in sorted(found.items())
               if key not in forbidden and c.score >= settings.push_min_score]
    arrays = _arrays(inputs, allowed, settings.push_min_recipients)
    flow, greedy, seconds = _plans(arrays)
    figures = _figures(settings, inputs, arrays, flow, greedy, seconds, len(found))
    return figures, _rows(inputs, allowed, flow.chosen)


def run_cycle(session: Session, actor: Actor, settings: Settings, *, dry_run: bool = False,
              period: str | None = None, today: dt.date | None = None) -> CycleResult:
    """Plan a push cycle and, unless ``dry_run``, write it (see the module doc).

    With ``period`` (a scheduled cycle) a cycle already written for it is returned unchanged.
    """
    authorize(session, actor, "push.run")
    if period is not None:
        done = session.scalar(select(PushCycle).where(PushCycle.period == period))
        if done is not None:
            return CycleResult(done.id, False, dict(done.figures))
    today = today or utcnow().date()
    # Who may receive what is read once: the plan and the messages it writes agree on it.
    people = enterprise_people(session, settings)
    figures, rows = _plan(session, settings, today, people)
    if dry_run:
        session.rollback()  # nothing to keep; ends the read transaction
        return CycleResult(None, True, figures, rows)
    cycle = PushCycle(period=period, cap_per_recipient=settings.push_cap_per_recipient,
                      min_recipients=settings.push_min_recipients,
                      min_score=settings.push_min_score, created_by_id=actor.user_id)
    session.add(cycle)
    session.flush()
    figures.update(write_cycle(session, settings, cycle, rows, people, now=utcnow()))
    cycle.figures = figures
    if not figures["emails"] and not figures["webhooks"]:
        cycle.status, cycle.finished_at = "delivered", utcnow()
    audit.record(session, actor, "push.cycle", obj=("push_cycles", cycle.id),
                 detail={k: figures[k] for k in ("pushes", "recipients", "coverage",
                                                 "emails", "webhooks")})
    session.commit()
    return CycleResult(cycle.id, False, figures, rows)


def settle_cycles(session: Session) -> int:
    """Mark cycles delivered once none of their messages waits to be sent; commits."""
    waiting = select(OutboxMessage.cycle_id).where(
        OutboxMessage.status.in_(("pending", "sending", "failed")),
        OutboxMessage.cycle_id.is_not(None))
    done = session.scalars(select(PushCycle).where(
        PushCycle.status == "delivering", PushCycle.id.not_in(waiting))).all()
    for cycle in done:
        cycle.status, cycle.finished_at = "delivered", utcnow()
    session.commit()
    return len(done)
