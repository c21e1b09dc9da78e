"""The audit log (审计日志): who did what to which object, when, from where, and the outcome.

Successful privileged actions are recorded in the same transaction as the change they describe, so
an audit line exists exactly when the change does. Denials and failed logins are recorded in a
transaction of their own, because the surrounding work is rolled back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from luodi.auth.actor import Actor
from luodi.db import Base, PortableJSON, UTCDateTime, utcnow


class AuditEvent(Base):
    """One line of the audit log. Never updated or deleted by the application."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_label: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str | None] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(60))
    client_addr: Mapped[str | None] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(20))  # success | denied | failure
    detail: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)
    org_id: Mapped[int | None] = mapped_column(Integer)


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    obj: tuple[str, Any] | None = None,
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit line to ``session`` (committed with the caller's transaction)."""
    event = AuditEvent(
        actor_id=actor.user_id,
        actor_label=actor.label,
        action=action,
        object_type=obj[0] if obj else None,
        object_id=str(obj[1]) if obj and obj[1] is not None else None,
        client_addr=actor.client_addr,
        outcome=outcome,
        detail=detail,
        org_id=actor.org_id,
    )
    session.add(event)
    return event


def record_now(
    session: Session,
    actor: Actor,
    action: str,
    *,
    obj: tuple[str, Any] | None = None,
    outcome: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record an audit line in its own transaction, independent of ``session``'s fate.

    Used for denials and failed logins: the caller's work is about to be rolled back, but the
    attempt must stay on record. While ``session`` is inside a transaction it may hold SQLite's
    write lock, so the line is queued and written as soon as that transaction ends, whether it
    commits or rolls back.
    """
    line = {"actor": actor, "action": action, "obj": obj, "outcome": outcome, "detail": detail}
    if session.in_transaction():
        session.info.setdefault(_QUEUE, []).append(line)
        return
    _write(session.get_bind(), [line])


_QUEUE = "luodi.audit.pending"


def _write(bind: Any, lines: list[dict[str, Any]]) -> None:
    with Session(bind=bind) as own:
        for line in lines:
            record(own, line["actor"], line["action"], obj=line["obj"],
                   outcome=line["outcome"], detail=line["detail"])
        own.commit()


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _flush_queue(session: Session) -> None:
    lines = session.info.pop(_QUEUE, None)
    if lines:
        _write(session.get_bind(), lines)


def recent(
    session: Session, actor: Actor, *, limit: int = 100, action: str | None = None
) -> list[AuditEvent]:
    """The newest audit lines, optionally for one action (staff only)."""
    from luodi.auth.policy import authorize

    authorize(session, actor, "audit.read")
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return list(session.scalars(stmt))
