"""Named import mapping profiles (导入映射方案), stored in the database.

A profile tells the importer how one supplier's files map onto a record kind: which header is
which field, constants for fields the file lacks, and value transforms. The importer takes a
profile by name; operators save them from JSON (``luodi import-profile save FILE.json``) and the
demo saves its own for its sample files. The stored spec is exactly
:meth:`MappingProfile.to_dict`, so a profile read back equals the one saved.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.policy import authorize
from luodi.errors import NotFound, ValidationFailed
from luodi.inventory.importers.mapping import MappingProfile
from luodi.inventory.models import MappingProfileRecord

_ACTION = "inventory.import"  # whoever may import may manage the profiles imports use


def _as_profile(profile: MappingProfile | dict[str, Any]) -> MappingProfile:
    if isinstance(profile, MappingProfile):
        return profile
    return MappingProfile.from_dict(profile)  # ValidationFailed on a malformed spec


def _find(session: Session, name: str) -> MappingProfileRecord:
    """The stored profile called ``name``, or NotFound."""
    record = session.scalar(select(MappingProfileRecord).where(
        MappingProfileRecord.name == name.strip()))
    if record is None:
        raise NotFound(f"No mapping profile named '{name}'.")
    return record


def save_profile(
    session: Session, actor: Actor, profile: MappingProfile | dict[str, Any]
) -> MappingProfileRecord:
    """Create or replace the profile called ``profile.name``; audited and committed."""
    authorize(session, actor, _ACTION)
    parsed = _as_profile(profile)
    name = parsed.name.strip()
    if len(name) > 80:
        raise ValidationFailed("A mapping profile name has at most 80 characters.")
    record = session.scalar(select(MappingProfileRecord).where(MappingProfileRecord.name == name))
    created = record is None
    if record is None:
        record = MappingProfileRecord(name=name)
        session.add(record)
    record.kind = parsed.kind
    record.spec = parsed.to_dict() | {"name": name}
    session.flush()
    audit.record(session, actor, "import_profile.create" if created else "import_profile.update",
                 obj=("mapping_profiles", record.id), detail={"name": name, "kind": parsed.kind})
    session.commit()
    return record


def get_profile(session: Session, actor: Actor, name: str) -> MappingProfile:
    """The profile called ``name``, or NotFound."""
    authorize(session, actor, _ACTION)
    record = _find(session, name)
    return MappingProfile.from_dict(record.spec)


def list_profiles(session: Session, actor: Actor, kind: str | None = None) -> list[MappingProfile]:
    """All profiles (of ``kind`` when given), by name."""
    authorize(session, actor, _ACTION)
    stmt = select(MappingProfileRecord).order_by(MappingProfileRecord.name)
    if kind:
        stmt = stmt.where(MappingProfileRecord.kind == kind)
    return [MappingProfile.from_dict(r.spec) for r in session.scalars(stmt)]


def delete_profile(session: Session, actor: Actor, name: str) -> None:
    """Delete the profile called ``name`` (NotFound if there is none); audited."""
    authorize(session, actor, _ACTION)
    record = _find(session, name)
    audit.record(session, actor, "import_profile.delete", obj=("mapping_profiles", record.id),
                 detail={"name": record.name, "kind": record.kind})
    session.delete(record)
    session.commit()
