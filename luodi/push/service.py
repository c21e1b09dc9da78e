"""Privileged index operations, authorised and audited like any other service."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.policy import authorize
from luodi.config import Settings
from luodi.push.index import IndexStats, indexes_for

__all__ = ["rebuild_indexes"]


def rebuild_indexes(session: Session, actor: Actor, settings: Settings,
                    kinds: Sequence[str] | None = None) -> list[IndexStats]:
    """Rebuild the match indexes of ``kinds`` (all by default) from the database."""
    authorize(session, actor, "matching.rebuild")
    stats = indexes_for(settings).rebuild(session, kinds)
    audit.record(session, actor, "matching.rebuild",
                 detail={s.kind: {"records": s.records, "embedded": s.embedded} for s in stats})
    session.commit()
    return stats
