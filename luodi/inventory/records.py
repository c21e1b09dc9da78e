"""Record services: create, update, read, delete any inventory record, authorised and audited.

One code path for every kind; what differs lives in :mod:`luodi.inventory.kinds`. Writes are
validated by the kind's schema, enriched, checked for near-duplicates and committed here (callers
such as the importer pass ``commit=False`` to group many writes into one transaction).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.policy import authorize, can, is_staff, require_login
from luodi.config import Settings
from luodi.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from luodi.inventory.duplicates import flag_duplicates
from luodi.inventory.indexing import apply_enrichment
from luodi.inventory.kinds import Kind, kind_of
from luodi.inventory.models import Enterprise, Institution

# Statuses set by workflows, never by a form: docking moves a record on, the freshness sweep
# expires it.
WORKFLOW_STATUSES = frozenset({"in_docking", "transferred", "expired"})


def validation_message(exc: ValidationError) -> tuple[str, list[dict[str, Any]]]:
    """A readable message and per-field problems from a pydantic error."""
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        problems.append({"field": loc, "value": err.get("input"), "reason": msg})
    text = "; ".join(f"{p['field']}: {p['reason']}" if p["field"] else p["reason"]
                     for p in problems[:5])
    return text, problems


def validate(kind: Kind, data: dict[str, Any]) -> dict[str, Any]:
    """Validate ``data`` against the kind's schema; returns clean values or raises 422."""
    try:
        model = kind.schema.model_validate(data)  # type: ignore[attr-defined]
    except ValidationError as exc:
        message, problems = validation_message(exc)
        raise ValidationFailed(message, data={"problems": problems}) from None
    return model.model_dump()


def _check_staff_only(actor: Actor, kind: Kind, data: dict[str, Any],
                      current: dict[str, Any] | None = None) -> None:
    if is_staff(actor):
        return
    for name in kind.staff_only:
        if name in data and (current is None or data[name] != current.get(name)):
            default = kind.schema.model_fields[name].default  # type: ignore[attr-defined]
            if current is None and data[name] in (None, default):
                continue
            raise PermissionDenied(f"Only operators may set '{name}'.")


def _default_owner(session: Session, actor: Actor, kind: Kind, values: dict[str, Any]) -> None:
    """Institution and enterprise members post for their own organisation by default."""
    if is_staff(actor) or actor.org_id is None:
        return
    if kind.name == "achievements" and values.get("institution_id") is None:
        values["institution_id"] = session.scalar(
            select(Institution.id).where(Institution.organisation_id == actor.org_id))
    if kind.name == "demands" and values.get("enterprise_id") is None:
        values["enterprise_id"] = session.scalar(
            select(Enterprise.id).where(Enterprise.organisation_id == actor.org_id))


def _check_links(session: Session, values: dict[str, Any]) -> None:
    for field, model in (("institution_id", Institution), ("enterprise_id", Enterprise)):
        if values.get(field) is not None and session.get(model, values[field]) is None:
            raise ValidationFailed(f"{field}: no such record.", data={"field": field})


def _freshness_defaults(settings: Settings | None, values: dict[str, Any], kind: Kind) -> None:
    if settings is None or not kind.indexed:
        return
    today = dt.datetime.now(dt.UTC).date()
    if values.get("expires_on") is None:
        values["expires_on"] = today + dt.timedelta(days=settings.record_validity_days)
    if values.get("review_due_on") is None:
        values["review_due_on"] = today + dt.timedelta(days=settings.review_interval_days)


def _apply(obj: Any, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(obj, name, value)


def create_record(
    session: Session, actor: Actor, kind_name: str, data: dict[str, Any], *,
    settings: Settings | None = None, commit: bool = True, dup_index: Any = None,
) -> Any:
    """Create a record of ``kind_name`` from raw ``data``."""
    kind = kind_of(kind_name)
    values = validate(kind, data)
    _check_staff_only(actor, kind, {k: v for k, v in data.items() if k in values}, None)
    _default_owner(session, actor, kind, values)
    _check_links(session, values)
    _freshness_defaults(settings, values, kind)
    obj = kind.model()
    _apply(obj, values)
    obj.created_by_id = actor.user_id
    _load_owner(session, obj)
    authorize(session, actor, f"{kind.name}.create", obj)
    session.add(obj)
    if kind.indexed:
        apply_enrichment(obj)
    session.flush()
    if kind.indexed:
        flag_duplicates(session, kind.name, obj, threshold=_threshold(settings), index=dup_index)
    audit.record(session, actor, f"{kind.name}.create", obj=(kind.name, obj.id))
    if commit:
        session.commit()
    return obj


def _threshold(settings: Settings | None) -> float:
    return settings.duplicate_threshold if settings else 0.8


def _load_owner(session: Session, obj: Any) -> None:
    """Make ``owner_org_id`` answerable before the policy looks at a new object."""
    if getattr(obj, "institution_id", None) is not None and hasattr(obj, "institution"):
        obj.institution = session.get(Institution, obj.institution_id)
    if getattr(obj, "enterprise_id", None) is not None and hasattr(obj, "enterprise"):
        obj.enterprise = session.get(Enterprise, obj.enterprise_id)


def current_values(kind: Kind, obj: Any) -> dict[str, Any]:
    """The record's editable fields as the schema names them."""
    return {name: getattr(obj, name) for name in kind.schema.model_fields  # type: ignore[attr-defined]
            if hasattr(obj, name)}


def update_record(
    session: Session, actor: Actor, kind_name: str, record_id: int, patch: dict[str, Any], *,
    settings: Settings | None = None, commit: bool = True,
) -> Any:
    """Apply ``patch`` to a record; the merged record is validated as a whole."""
    kind = kind_of(kind_name)
    obj = _get(session, kind, record_id)
    authorize(session, actor, f"{kind.name}.update", obj)
    current = current_values(kind, obj)
    # Docking and the freshness sweep own these statuses: keep them unless the patch sets one.
    keep_status = current.get("status") in WORKFLOW_STATUSES and "status" not in patch
    base = {k: v for k, v in current.items()
            if v is not None and not (keep_status and k == "status")}
    values = validate(kind, {**base, **patch})
    if keep_status:
        values.pop("status")
    _check_staff_only(actor, kind, {k: values[k] for k in patch if k in values}, current)
    _check_links(session, values)
    changed = {k: v for k, v in values.items() if current.get(k) != v}
    _apply(obj, values)
    with session.no_autoflush:  # judge the new owner before anything reaches the database
        _load_owner(session, obj)
        authorize(session, actor, f"{kind.name}.update", obj)  # e.g. moving it elsewhere
    if kind.indexed:
        apply_enrichment(obj)
    audit.record(session, actor, f"{kind.name}.update", obj=(kind.name, obj.id),
                 detail={"fields": sorted(changed)})
    if commit:
        session.commit()
    return obj


def _get(session: Session, kind: Kind, record_id: int) -> Any:
    obj = session.get(kind.model, record_id)
    if obj is None:
        raise NotFound(f"No such record in {kind.name}.")
    return obj


# Kinds only signed-in users may read at all (the party directories and experts): anonymous
# callers are refused before the lookup.
LOGIN_TO_READ = frozenset({"enterprises", "experts"})


def get_record(session: Session, actor: Actor, kind_name: str, record_id: int) -> Any:
    """A record the actor may see; NotFound when it does not exist *or* is hidden from them."""
    kind = kind_of(kind_name)
    if kind.name in LOGIN_TO_READ:
        require_login(actor)
    obj = _get(session, kind, record_id)
    if not can(actor, f"{kind.name}.read", obj):
        raise NotFound(f"No such record in {kind.name}.")  # do not confirm a hidden draft exists
    return obj


def get_for_edit(session: Session, actor: Actor, kind_name: str, record_id: int) -> Any:
    """A record the actor may edit (the refusal is audited like any denial)."""
    obj = get_record(session, actor, kind_name, record_id)
    authorize(session, actor, f"{kind_of(kind_name).name}.update", obj)
    return obj


def delete_record(session: Session, actor: Actor, kind_name: str, record_id: int) -> None:
    """Delete a record (operators only; owners withdraw instead)."""
    kind = kind_of(kind_name)
    obj = _get(session, kind, record_id)
    authorize(session, actor, f"{kind.name}.delete", obj)
    title = getattr(obj, kind.title_attr)
    session.delete(obj)
    audit.record(session, actor, f"{kind.name}.delete", obj=(kind.name, record_id),
                 detail={"title": title})
    try:
        session.commit()
    except IntegrityError:
        # Other records still point at it (a docking case, a deal, an institution's
        # achievements): the history they carry must not vanish, so refuse instead.
        session.rollback()
        raise Conflict("该记录仍被对接案件、成交或其他记录引用，不能删除；请改为撤回 / Other "
                       "records (docking cases, deals, listings) still refer to it: withdraw it "
                       "instead of deleting.", code="still_referenced") from None
