"""Near-duplicate flags (疑似重复): found with MinHash on save, resolved by an operator.

Nothing is merged automatically: a flag says "these two look alike" and an operator marks the
pair distinct or duplicate (and then withdraws one of them by hand).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.policy import authorize
from luodi.db import utcnow
from luodi.errors import NotFound, ValidationFailed
from luodi.inventory.dedupe import NearDuplicateIndex, from_signatures
from luodi.inventory.kinds import kind_of
from luodi.inventory.models import DuplicateFlag


def load_index(session: Session, kind_name: str) -> NearDuplicateIndex:
    """An in-memory index of the stored signatures of every record of a kind."""
    model = kind_of(kind_name).model
    rows = session.execute(select(model.id, model.minhash).where(model.minhash.is_not(None)))
    return from_signatures((rid, sig) for rid, sig in rows)


def flag_duplicates(
    session: Session, kind_name: str, obj: Any, *, threshold: float,
    index: NearDuplicateIndex | None = None,
) -> list[DuplicateFlag]:
    """Flag earlier records that look like ``obj``; adds ``obj`` to ``index`` when given."""
    if obj.minhash is None:
        return []
    idx = index if index is not None else load_index(session, kind_name)
    flags = []
    for other_id, similarity in idx.query_signature(obj.minhash, threshold):
        if other_id == obj.id:
            continue
        exists = session.scalar(select(DuplicateFlag.id).where(
            DuplicateFlag.kind == kind_name, DuplicateFlag.record_id == obj.id,
            DuplicateFlag.other_id == other_id))
        if exists is None:
            flag = DuplicateFlag(kind=kind_name, record_id=obj.id, other_id=other_id,
                                 similarity=round(similarity, 4))
            session.add(flag)
            flags.append(flag)
    if index is not None:
        index.add_signature(obj.id, obj.minhash)
    return flags


def open_flags(session: Session, actor: Actor, kind_name: str | None = None) -> list[DuplicateFlag]:
    """Unresolved flags, most similar first (operators)."""
    authorize(session, actor, "inventory.review_duplicates")
    stmt = select(DuplicateFlag).where(DuplicateFlag.status == "open")
    if kind_name:
        stmt = stmt.where(DuplicateFlag.kind == kind_name)
    return list(session.scalars(stmt.order_by(DuplicateFlag.similarity.desc())))


def resolve_flag(session: Session, actor: Actor, flag_id: int, verdict: str) -> DuplicateFlag:
    """Mark a flagged pair ``distinct`` or ``duplicate``."""
    authorize(session, actor, "inventory.review_duplicates")
    if verdict not in ("distinct", "duplicate"):
        raise ValidationFailed("The verdict is 'distinct' or 'duplicate'.")
    flag = session.get(DuplicateFlag, flag_id)
    if flag is None:
        raise NotFound("No such duplicate flag.")
    flag.status = verdict
    flag.resolved_by_id = actor.user_id
    audit.record(session, actor, "duplicates.resolve", obj=("duplicate_flags", flag.id),
                 detail={"verdict": verdict, "at": utcnow().isoformat()})
    session.commit()
    return flag
