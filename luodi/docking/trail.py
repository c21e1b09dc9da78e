"""Writing a case's trail: every change to a case is one :class:`CaseEvent`, never overwritten.

Services call :func:`record_event` inside their transaction; it also moves the case's
``last_event_at``, which the stale-case reminders read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from luodi.auth.actor import Actor
from luodi.db import utcnow
from luodi.docking.models import Case, CaseEvent

__all__ = ["record_event"]


def record_event(session: Session, case: Case, actor: Actor, kind: str, *,
                 action: str | None = None, from_state: str | None = None,
                 to_state: str | None = None, note: str | None = None,
                 detail: dict[str, Any] | None = None, internal: bool = False) -> CaseEvent:
    """Add one event to ``case``'s trail (the caller commits)."""
    now = utcnow()
    event = CaseEvent(case_id=case.id, at=now, actor_id=actor.user_id, actor_label=actor.label,
                      kind=kind, action=action, from_state=from_state, to_state=to_state,
                      note=(note or "").strip() or None, detail=detail, internal=internal)
    session.add(event)
    case.last_event_at = now
    return event
