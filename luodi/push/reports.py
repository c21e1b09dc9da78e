"""What push cycles did (推送报告): cycles for operators, reach and "why passed" for institutions.

Every figure is counted from the ledger rows (pushes and the outbox), never kept in a counter,
so a report is reproducible by the query that made it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from luodi.auth.actor import Actor
from luodi.auth.policy import authorize, require_login
from luodi.errors import NotFound
from luodi.inventory.models import Achievement, Enterprise, Institution
from luodi.push.ledger import FEEDBACK, NOT_RELEVANT_REASONS, OutboxMessage, Push, PushCycle

# The reach of an achievement, in the order reports show it.
REACH_KEYS = ("pushed", "read", "relevant", "not_relevant", "interested", "no_reply")


def list_cycles(session: Session, actor: Actor, *, limit: int = 50) -> list[PushCycle]:
    """The newest push cycles (operators)."""
    authorize(session, actor, "push.read_cycles")
    return list(session.scalars(select(PushCycle).order_by(
        PushCycle.created_at.desc(), PushCycle.id.desc()).limit(max(1, min(limit, 500)))))


@dataclass
class RecipientRow:
    """One enterprise in a cycle and what it received, best-ranked first."""

    enterprise: Enterprise
    organisation_id: int
    pushes: list[Push]


@dataclass
class CycleDetail:
    """A cycle with its recipients, delivery progress per channel, feedback and uncovered items."""

    cycle: PushCycle
    recipients: list[RecipientRow]
    deliveries: dict[str, dict[str, int]]
    feedback: dict[str, int]
    uncovered: list[Achievement]


def _feedback_counts(pushes: list[Push]) -> dict[str, int]:
    counts = Counter(p.feedback or "no_reply" for p in pushes)
    return {key: counts.get(key, 0) for key in (*FEEDBACK, "no_reply")}


def _deliveries(session: Session, cycle_id: int, pushes: list[Push]) -> dict[str, dict[str, int]]:
    """Outbox messages per channel and status, and the in-app inbox (delivered with the cycle)."""
    out: dict[str, dict[str, int]] = {}
    rows = session.execute(
        select(OutboxMessage.channel, OutboxMessage.status, func.count(OutboxMessage.id))
        .where(OutboxMessage.cycle_id == cycle_id)
        .group_by(OutboxMessage.channel, OutboxMessage.status))
    for channel, status, count in rows:
        out.setdefault(channel, {})[status] = count
    out["inbox"] = {"delivered": len(pushes),
                    "read": sum(1 for p in pushes if p.read_at is not None)}
    return out


def _recipients(pushes: list[Push]) -> list[RecipientRow]:
    rows: dict[int, RecipientRow] = {}
    for push in pushes:  # already ordered by enterprise, then rank
        row = rows.get(push.enterprise_id)
        if row is None:
            row = rows[push.enterprise_id] = RecipientRow(push.enterprise, push.organisation_id, [])
        row.pushes.append(push)
    return list(rows.values())


def _achievements(session: Session, ids: list[int]) -> list[Achievement]:
    """Achievements by id, in the order given, skipping any deleted since."""
    if not ids:
        return []
    found = {a.id: a for a in session.scalars(
        select(Achievement).where(Achievement.id.in_(ids))
        .options(selectinload(Achievement.institution)))}
    return [found[i] for i in ids if i in found]


def cycle_detail(session: Session, actor: Actor, cycle_id: int) -> CycleDetail:
    """One cycle as operators review it (who got what, delivery, feedback, what nobody got)."""
    authorize(session, actor, "push.read_cycles")
    cycle = session.get(PushCycle, cycle_id)
    if cycle is None:
        raise NotFound("没有这个推送批次 / No such push cycle.")
    pushes = list(session.scalars(
        select(Push).where(Push.cycle_id == cycle.id)
        .options(selectinload(Push.enterprise),
                 selectinload(Push.achievement).selectinload(Achievement.institution))
        .order_by(Push.enterprise_id, Push.rank, Push.id)))
    uncovered_ids = [int(i) for i in (cycle.figures or {}).get("uncovered_ids", [])]
    return CycleDetail(cycle=cycle, recipients=_recipients(pushes),
                       deliveries=_deliveries(session, cycle.id, pushes),
                       feedback=_feedback_counts(pushes),
                       uncovered=_achievements(session, uncovered_ids))


@dataclass
class AchievementReach:
    """Whom one achievement reached and what they said of it."""

    achievement: Achievement
    pushes: list[Push]
    counts: dict[str, int]

    @property
    def interested_enterprises(self) -> list[Enterprise]:
        """Enterprises that said they are interested: the leads to follow up first."""
        return [p.enterprise for p in self.pushes if p.feedback == "interested"]


@dataclass
class InstitutionView:
    """An institution's achievements as pushes carried them, and why recipients passed."""

    institution: Institution
    achievements: list[AchievementReach]
    why_passed: dict[str, int]
    notes: list[str]
    totals: dict[str, int]


def reach_counts(pushes: list[Push]) -> dict[str, int]:
    """pushed, read, relevant, not_relevant, interested and no_reply for a set of pushes."""
    feedback = _feedback_counts(pushes)
    return {"pushed": len(pushes), "read": sum(1 for p in pushes if p.read_at is not None),
            "relevant": feedback["relevant"], "not_relevant": feedback["not_relevant"],
            "interested": feedback["interested"], "no_reply": feedback["no_reply"]}


def institution_view(session: Session, actor: Actor, institution_id: int) -> InstitutionView:
    """What happened to an institution's pushed achievements (members of it, and staff).

    Only achievements pushed at least once are listed, the most pushed first. "Other" notes are
    given without who wrote them.
    """
    require_login(actor)
    inst = session.get(Institution, institution_id)
    if inst is None:
        raise NotFound("没有这家机构 / No such institution.")
    authorize(session, actor, "push.institution_view", inst)
    pushes = list(session.scalars(
        select(Push).join(Achievement, Achievement.id == Push.achievement_id)
        .where(Achievement.institution_id == inst.id)
        .options(selectinload(Push.enterprise), selectinload(Push.achievement))
        .order_by(Push.created_at.desc(), Push.id.desc())))
    grouped: dict[int, list[Push]] = {}
    for push in pushes:
        grouped.setdefault(push.achievement_id, []).append(push)
    reach = [AchievementReach(group[0].achievement, group, reach_counts(group))
             for group in grouped.values()]
    reach.sort(key=lambda r: (-r.counts["pushed"], r.achievement.id))
    passed = Counter(p.feedback_reason for p in pushes if p.feedback == "not_relevant")
    return InstitutionView(
        institution=inst, achievements=reach,
        why_passed={reason: passed.get(reason, 0) for reason in NOT_RELEVANT_REASONS},
        notes=[p.feedback_note for p in pushes
               if p.feedback == "not_relevant" and p.feedback_reason == "other"
               and p.feedback_note],
        totals=reach_counts(pushes))
