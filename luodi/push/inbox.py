"""The recipient's inbox (收件箱): the pushes an enterprise received, read and answered.

A push is written once, by the cycle; here its recipients read it and say what they think of it
(relevant / not relevant and why / interested). Feedback may change, but every change is an audit
line, so the trail keeps what was said before. Staff may look into any inbox, but never speak
for the recipient: feedback is the recipient's own voice.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.sql import Select

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.policy import authorize, is_staff, require_login
from luodi.db import utcnow
from luodi.docking import cases
from luodi.errors import NotFound, PermissionDenied, ValidationFailed
from luodi.inventory.models import Achievement
from luodi.push.ledger import (
    FEEDBACK,
    NOT_RELEVANT_REASONS,
    Announcement,
    Push,
    PushCycle,
    PushPreference,
)

# ``feedback=`` filter value for pushes nobody has answered yet.
NO_REPLY = "none"
MAX_NOTE = 500
MAX_PER_PAGE = 100
ANNOUNCEMENTS_SHOWN = 10


@dataclass
class InboxPage:
    """One page of an organisation's inbox, with the notices everyone receives."""

    items: list[Push]
    total: int
    page: int
    per_page: int
    personalised: bool
    announcements: list[Announcement]
    unread: int


def _personalised(session: Session, actor: Actor) -> bool:
    """Whether the acting person accepts personalised pushes (no row: the default, yes)."""
    if actor.user_id is None:
        return True
    chosen = session.scalar(select(PushPreference.personalised)
                            .where(PushPreference.user_id == actor.user_id))
    return chosen is not False


def _inbox_org(actor: Actor, organisation_id: int | None) -> int | None:
    """Whose inbox: one's own; staff may name another organisation's."""
    if organisation_id is None or organisation_id == actor.org_id:
        return actor.org_id
    if not is_staff(actor):
        raise PermissionDenied("只能查看本单位的推送 / You may only read your own "
                               "organisation's inbox.")
    return organisation_id


def _filtered(org_id: int | None, unread_only: bool, feedback: str | None) -> Select[Push]:
    stmt = select(Push).where(Push.organisation_id == org_id)
    if unread_only:
        stmt = stmt.where(Push.read_at.is_(None))
    if feedback == NO_REPLY:
        stmt = stmt.where(Push.feedback.is_(None))
    elif feedback is not None:
        if feedback not in FEEDBACK:
            raise ValidationFailed(
                f"未知的反馈筛选「{feedback}」/ Unknown feedback filter '{feedback}'.",
                data={"field": "feedback", "allowed": [*FEEDBACK, NO_REPLY]})
        stmt = stmt.where(Push.feedback == feedback)
    return stmt


def latest_announcements(session: Session) -> list[Announcement]:
    """The newest non-personalised notices, the same for everyone."""
    return list(session.scalars(select(Announcement).order_by(
        Announcement.created_at.desc(), Announcement.id.desc()).limit(ANNOUNCEMENTS_SHOWN)))


def inbox(
    session: Session, actor: Actor, *, page: int = 1, per_page: int = 20,
    unread_only: bool = False, feedback: str | None = None, organisation_id: int | None = None,
) -> InboxPage:
    """An organisation's pushes, newest cycle first and best-ranked first within a cycle.

    A person who turned personalised pushes off (PIPL art. 24) sees no pushes in their own
    inbox, only the announcements. Staff looking into another organisation's inbox see it as
    it is, whatever their own choice.
    """
    authorize(session, actor, "push.inbox")
    org_id = _inbox_org(actor, organisation_id)
    page, per_page = max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)
    announcements = latest_announcements(session)
    stmt = _filtered(org_id, unread_only, feedback)  # validate the filter even when hidden
    if org_id == actor.org_id and not _personalised(session, actor):
        return InboxPage([], 0, page, per_page, False, announcements, 0)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = session.scalars(
        stmt.join(PushCycle, PushCycle.id == Push.cycle_id)
        .options(selectinload(Push.achievement).selectinload(Achievement.institution),
                 joinedload(Push.cycle))
        .order_by(PushCycle.created_at.desc(), Push.cycle_id.desc(), Push.rank, Push.id)
        .offset((page - 1) * per_page).limit(per_page))
    return InboxPage(list(items), total, page, per_page, True, announcements,
                     _unread(session, org_id))


def _unread(session: Session, org_id: int | None) -> int:
    return session.scalar(select(func.count(Push.id)).where(
        Push.organisation_id == org_id, Push.read_at.is_(None))) or 0


def unread_count(session: Session, actor: Actor) -> int:
    """Unread pushes in the actor's own inbox (for the navigation badge).

    Zero without an enterprise organisation, and zero for someone who turned personalised
    pushes off: the badge counts what the inbox would show.
    """
    if actor.org_id is None or actor.org_kind != "enterprise":
        return 0
    if not _personalised(session, actor):
        return 0
    return _unread(session, actor.org_id)


def _get(session: Session, push_id: int) -> Push:
    push = session.get(Push, push_id)
    if push is None:
        raise NotFound("没有这条推送 / No such push.")
    return push


def open_push(session: Session, actor: Actor, push_id: int) -> Push:
    """Show one push; the first time a member of the recipient organisation opens it, it is read.

    Staff looking at it leave it unread: "read" means the recipient saw it.
    """
    require_login(actor)
    push = _get(session, push_id)
    authorize(session, actor, "push.read", push)
    if push.read_at is None and actor.org_id == push.organisation_id:
        push.read_at = utcnow()
        session.commit()
    return push


def _clean_feedback(feedback: str, reason: str | None,
                    note: str | None) -> tuple[str | None, str | None]:
    """Check a feedback triple; returns the (reason, note) to store."""
    if feedback not in FEEDBACK:
        raise ValidationFailed(
            f"反馈只能是 {' / '.join(FEEDBACK)} / Feedback must be one of {', '.join(FEEDBACK)}.",
            data={"field": "feedback", "allowed": list(FEEDBACK)})
    if feedback != "not_relevant":
        return None, None  # a reason only explains "not relevant"
    if reason not in NOT_RELEVANT_REASONS:
        raise ValidationFailed(
            "请选择不相关的原因 / Say why it is not relevant: one of "
            f"{', '.join(NOT_RELEVANT_REASONS)}.",
            data={"field": "reason", "allowed": list(NOT_RELEVANT_REASONS)})
    note = (note or "").strip() or None
    if reason == "other" and note is None:
        raise ValidationFailed("选择「其他」时请写明原因 / With reason 'other', please write "
                               "a note.", data={"field": "note"})
    if note is not None and len(note) > MAX_NOTE:
        raise ValidationFailed(f"说明最多 {MAX_NOTE} 字 / The note is at most {MAX_NOTE} "
                               "characters.", data={"field": "note"})
    return reason, note


def give_feedback(
    session: Session, actor: Actor, push_id: int, *, feedback: str,
    reason: str | None = None, note: str | None = None,
) -> Push:
    """Record the recipient's feedback on a push; changing one's mind overwrites, audited."""
    push = _get(session, push_id)
    authorize(session, actor, "push.feedback", push)
    reason, note = _clean_feedback(feedback, reason, note)
    old = {"feedback": push.feedback, "reason": push.feedback_reason, "note": push.feedback_note}
    new = {"feedback": feedback, "reason": reason, "note": note}
    if old == new:
        return push  # said again: nothing changed, nothing to record
    push.feedback, push.feedback_reason, push.feedback_note = feedback, reason, note
    push.feedback_at, push.feedback_by_id = utcnow(), actor.user_id
    if push.read_at is None:
        push.read_at = push.feedback_at  # answering a push means it was seen
    # The note goes into the audit line too: the row keeps only the latest word.
    audit.record(session, actor, "push.feedback", obj=("pushes", push.id),
                 detail={"old": old, "new": new})
    if feedback == "interested" and old["feedback"] != "interested":
        _on_interest(session, actor, push)
    session.commit()
    return push


def _on_interest(session: Session, actor: Actor, push: Push) -> None:
    """An enterprise is interested in a pushed achievement: the docking stage begins here.

    A docking case is opened in the feedback's own transaction (``commit=False``): the one
    commit in :func:`give_feedback` writes the feedback, this audit line and the case together,
    or none of them. An achievement withdrawn or expired since it was pushed opens no case;
    the interest stays on record as the audit line either way.
    """
    audit.record(session, actor, "push.interest", obj=("pushes", push.id),
                 detail={"enterprise_id": push.enterprise_id,
                         "achievement_id": push.achievement_id, "cycle_id": push.cycle_id})
    try:
        cases.open_case(session, actor, kind="achievements", record_id=push.achievement_id,
                        push_id=push.id, commit=False)
    except NotFound:
        pass  # refused before writing anything: the feedback itself still counts
