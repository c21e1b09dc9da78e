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
                    kinds: Sequence[str] | None = None, *, embed: bool = True,
                    ) -> list[IndexStats]:
    """Rebuild the match indexes of ``kinds`` (all by default) from the database.

    Without ``embed``, records that have no stored vector are indexed at once and embedded
    by the background job (what ``make run`` does after loading the demo).
    """
    authorize(session, actor, "matching.rebuild")
    stats = indexes_for(settings).rebuild(session, kinds, embed=embed)
    audit.record(session, actor, "matching.rebuild",
                 detail={s.kind: {"records": s.records, "embedded": s.embedded} for s in stats})
    session.commit()
    return stats
