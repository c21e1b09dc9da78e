"""Consent and choice (PIPL): what each person and enterprise agreed to receive, and what never.

* a person's :class:`PushPreference` — personalised pushes, e-mail digests and how often;
* an enterprise's :class:`Subscription` — fields, keywords, a smaller cap, a pause;
* an enterprise's :class:`PushBlock` rows — opt-outs from one achievement or a whole
  institution, and declared conflicts of interest. The planner reads them as forbidden arcs
  (:func:`forbidden_arcs`).

Every change is audited in the transaction that makes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.models import Organisation
from luodi.auth.policy import authorize, is_staff, require_login
from luodi.config import Settings
from luodi.errors import NotFound, PermissionDenied, ValidationFailed
from luodi.inventory.models import Achievement, Enterprise, Institution
from luodi.inventory.taxonomy import active_taxonomy
from luodi.push.ledger import PushBlock, PushPreference, Subscription

EMAIL_MAX_PER_WEEK = 14  # twice a day is already more than anyone reads
MAX_KEYWORDS = 20
KEYWORD_LENGTH = (2, 20)
MAX_REASON = 500


# --- a person's preferences ---------------------------------------------------------------

def _person(session: Session, actor: Actor) -> int:
    authorize(session, actor, "push.preferences")
    if actor.user_id is None:  # the CLI's system actor is nobody's preferences
        raise PermissionDenied("推送偏好属于个人 / Push preferences belong to a person.")
    return actor.user_id


def get_preferences(session: Session, actor: Actor) -> PushPreference:
    """The acting person's choices; an unsaved row with the defaults if they never chose."""
    user_id = _person(session, actor)
    row = session.scalar(select(PushPreference).where(PushPreference.user_id == user_id))
    if row is None:
        row = PushPreference(user_id=user_id, personalised=True, email=True,
                             email_max_per_week=None, unsubscribed_at=None)
    return row


def set_preferences(
    session: Session, actor: Actor, *, personalised: bool, email: bool,
    email_max_per_week: int | None,
) -> PushPreference:
    """Save the acting person's choices (PIPL art. 24: a non-personalised option)."""
    user_id = _person(session, actor)
    if email_max_per_week is not None and not 0 <= email_max_per_week <= EMAIL_MAX_PER_WEEK:
        raise ValidationFailed(
            f"每周邮件上限应为 0–{EMAIL_MAX_PER_WEEK} / E-mails per week must be "
            f"0–{EMAIL_MAX_PER_WEEK}.", data={"field": "email_max_per_week"})
    row = session.scalar(select(PushPreference).where(PushPreference.user_id == user_id))
    if row is None:
        row = PushPreference(user_id=user_id)
        session.add(row)
    row.personalised, row.email, row.email_max_per_week = personalised, email, email_max_per_week
    if email:
        row.unsubscribed_at = None  # opting back in undoes an earlier one-click unsubscribe
    audit.record(session, actor, "push.preferences", obj=("users", user_id),
                 detail={"personalised": personalised, "email": email,
                         "email_max_per_week": email_max_per_week})
    session.commit()
    return row


# --- an enterprise's subscription ---------------------------------------------------------

def get_subscription(session: Session, actor: Actor, organisation_id: int) -> Subscription:
    """An enterprise organisation's subscription; an unsaved default row if it has none."""
    row = session.scalar(select(Subscription)
                         .where(Subscription.organisation_id == organisation_id))
    if row is None:
        row = Subscription(organisation_id=organisation_id, fields=[], keywords=[],
                           max_per_cycle=None, paused=False)
    authorize(session, actor, "push.subscription", row)
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound("没有这个单位 / No such organisation.")
    if org.kind != "enterprise":
        raise ValidationFailed("只有企业可以订阅推送 / Only enterprises subscribe to pushes.",
                               data={"field": "organisation_id"})
    return row


def _clean_fields(fields: list[str]) -> list[str]:
    known = active_taxonomy()
    for code in fields:
        if code not in known:
            raise ValidationFailed(f"未知的产业领域代码「{code}」/ Unknown field code '{code}'.",
                                   data={"field": "fields", "value": code})
    return list(dict.fromkeys(fields))


def _clean_keywords(keywords: list[str]) -> list[str]:
    """Stripped, without repeats (ignoring case), each 2–20 characters, at most 20."""
    seen: dict[str, str] = {}
    for raw in keywords:
        word = " ".join(raw.split())
        if word:
            seen.setdefault(word.casefold(), word)
    low, high = KEYWORD_LENGTH
    for word in seen.values():
        if not low <= len(word) <= high:
            raise ValidationFailed(f"关键词「{word}」应为 {low}–{high} 个字 / Keyword "
                                   f"'{word}' must be {low}–{high} characters.",
                                   data={"field": "keywords", "value": word})
    if len(seen) > MAX_KEYWORDS:
        raise ValidationFailed(f"关键词最多 {MAX_KEYWORDS} 个 / At most {MAX_KEYWORDS} keywords.",
                               data={"field": "keywords"})
    return list(seen.values())


def set_subscription(
    session: Session, actor: Actor, settings: Settings, organisation_id: int, *,
    fields: list[str], keywords: list[str], max_per_cycle: int | None, paused: bool,
) -> Subscription:
    """Save what an enterprise wants pushed; the cap may only lower the platform's k."""
    row = get_subscription(session, actor, organisation_id)
    cap = settings.push_cap_per_recipient
    if max_per_cycle is not None and not 1 <= max_per_cycle <= cap:
        raise ValidationFailed(f"每批最多条数应为 1–{cap} / At most 1–{cap} pushes per cycle.",
                               data={"field": "max_per_cycle"})
    row.fields, row.keywords = _clean_fields(fields), _clean_keywords(keywords)
    row.max_per_cycle, row.paused, row.updated_by_id = max_per_cycle, paused, actor.user_id
    if row.id is None:
        session.add(row)
    audit.record(session, actor, "push.subscription", obj=("organisations", organisation_id),
                 detail={"fields": row.fields, "keywords": row.keywords,
                         "max_per_cycle": max_per_cycle, "paused": paused})
    session.commit()
    return row


# --- forbidden arcs: opt-outs and conflicts -----------------------------------------------

@dataclass(frozen=True)
class ConflictTarget:
    """What the policy sees of a conflict: the enterprise's and the institution's organisations."""

    owner_org_id: int | None
    institution_org_id: int | None


def _enterprise(session: Session, enterprise_id: int) -> Enterprise:
    ent = session.get(Enterprise, enterprise_id)
    if ent is None:
        raise NotFound("没有这家企业 / No such enterprise.")
    return ent


def _reason(reason: str | None, *, required: bool) -> str | None:
    reason = (reason or "").strip() or None
    if required and reason is None:
        raise ValidationFailed("请写明利益冲突的原因 / Please say what the conflict of "
                               "interest is.", data={"field": "reason"})
    if reason is not None and len(reason) > MAX_REASON:
        raise ValidationFailed(f"原因最多 {MAX_REASON} 字 / The reason is at most {MAX_REASON} "
                               "characters.", data={"field": "reason"})
    return reason


def _block_detail(block: PushBlock) -> dict[str, Any]:
    return {"enterprise_id": block.enterprise_id, "kind": block.kind,
            "achievement_id": block.achievement_id, "institution_id": block.institution_id,
            "reason": block.reason}


def _add_block(session: Session, actor: Actor, action: str, block: PushBlock) -> PushBlock:
    """Store ``block`` unless the same arc is already forbidden the same way (idempotent)."""
    same = session.scalar(select(PushBlock).where(
        PushBlock.enterprise_id == block.enterprise_id, PushBlock.kind == block.kind,
        _is(PushBlock.achievement_id, block.achievement_id),
        _is(PushBlock.institution_id, block.institution_id)))
    if same is not None:
        return same
    block.created_by_id = actor.user_id
    session.add(block)
    session.flush()
    audit.record(session, actor, action, obj=("push_blocks", block.id),
                 detail=_block_detail(block))
    session.commit()
    return block


def _is(column: Any, value: int | None) -> Any:
    return column.is_(None) if value is None else column == value


def opt_out(
    session: Session, actor: Actor, enterprise_id: int, *, achievement_id: int | None = None,
    institution_id: int | None = None, reason: str | None = None,
) -> PushBlock:
    """An enterprise asks never to be pushed one achievement, or anything of one institution."""
    ent = _enterprise(session, enterprise_id)
    authorize(session, actor, "push.opt_out", ent)
    if (achievement_id is None) == (institution_id is None):
        raise ValidationFailed("请指定一项成果或一家机构（二选一）/ Name either one achievement "
                               "or one institution.", data={"field": "achievement_id"})
    if achievement_id is not None and session.get(Achievement, achievement_id) is None:
        raise NotFound("没有这项成果 / No such achievement.")
    if institution_id is not None and session.get(Institution, institution_id) is None:
        raise NotFound("没有这家机构 / No such institution.")
    return _add_block(session, actor, "push.opt_out", PushBlock(
        enterprise_id=ent.id, achievement_id=achievement_id, institution_id=institution_id,
        kind="opt_out", reason=_reason(reason, required=False)))


def declare_conflict(
    session: Session, actor: Actor, enterprise_id: int, institution_id: int, *, reason: str,
) -> PushBlock:
    """Declare a conflict of interest: nothing of the institution is pushed to the enterprise.

    Staff, the enterprise or the institution may declare it; only staff may lift it.
    """
    ent = _enterprise(session, enterprise_id)
    inst = session.get(Institution, institution_id)
    if inst is None:
        raise NotFound("没有这家机构 / No such institution.")
    authorize(session, actor, "push.declare_conflict",
              ConflictTarget(owner_org_id=ent.organisation_id,
                             institution_org_id=inst.organisation_id))
    return _add_block(session, actor, "push.declare_conflict", PushBlock(
        enterprise_id=ent.id, institution_id=inst.id, achievement_id=None, kind="conflict",
        reason=_reason(reason, required=True)))


def list_blocks(session: Session, actor: Actor, enterprise_id: int) -> list[PushBlock]:
    """An enterprise's opt-outs and declared conflicts, newest first."""
    require_login(actor)
    ent = _enterprise(session, enterprise_id)
    authorize(session, actor, "push.opt_out", ent)
    return list(session.scalars(select(PushBlock).where(PushBlock.enterprise_id == ent.id)
                                .order_by(PushBlock.created_at.desc(), PushBlock.id.desc())))


def remove_block(session: Session, actor: Actor, block_id: int) -> None:
    """Lift a block: an opt-out by its enterprise or staff; a conflict by staff only.

    A conflict is lifted by staff alone because either party may have declared it: one side
    must not be able to undo what the other declared.
    """
    block = session.get(PushBlock, block_id)
    if block is None:
        raise NotFound("没有这条禁推记录 / No such block.")
    authorize(session, actor, "push.opt_out", _enterprise(session, block.enterprise_id))
    if block.kind == "conflict" and not is_staff(actor):
        audit.record_now(session, actor, "push.remove_block", obj=("push_blocks", block.id),
                         outcome="denied")
        raise PermissionDenied("利益冲突只能由运营人员解除 / Only operators may lift a "
                               "declared conflict of interest.")
    audit.record(session, actor, "push.remove_block", obj=("push_blocks", block.id),
                 detail=_block_detail(block))
    session.delete(block)
    session.commit()


def forbidden_arcs(session: Session) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """Arcs the planner must not use: (enterprise, achievement) and (enterprise, institution).

    Internal, for the cycle planner: no actor, nothing leaves the server.
    """
    by_achievement: set[tuple[int, int]] = set()
    by_institution: set[tuple[int, int]] = set()
    rows = session.execute(select(PushBlock.enterprise_id, PushBlock.achievement_id,
                                  PushBlock.institution_id))
    for enterprise_id, achievement_id, institution_id in rows:
        if achievement_id is not None:
            by_achievement.add((enterprise_id, achievement_id))
        elif institution_id is not None:
            by_institution.add((enterprise_id, institution_id))
    return by_achievement, by_institution
