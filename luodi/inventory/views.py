"""What a given actor sees of a record: public teaser, or every tier when allowed.

Confidential tiers are left out entirely (not blanked), and a non-owner viewing them — an
operator, or later a consented party — leaves an audit line (who saw what, when).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.policy import can
from luodi.inventory import codes
from luodi.inventory.kinds import Kind, kind_of
from luodi.inventory.taxonomy import active_taxonomy

_HIDDEN = frozenset({"minhash", "search_text", "status_before_expiry"})
_ANONYMISED = "某企业（需求方信息保密）/ Confidential enterprise"


def plain(value: Any) -> Any:
    """A column value as JSON wants it: amounts as floats, dates as ISO text."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _columns(obj: Any) -> dict[str, Any]:
    return {c.key: plain(getattr(obj, c.key)) for c in obj.__table__.columns
            if c.key not in _HIDDEN}


def may_see_confidential(actor: Actor, kind: Kind, obj: Any) -> bool:
    """Owners and staff see every tier (docking consent extends this in a later stage)."""
    return can(actor, f"{kind.name}.read_confidential", obj)


def record_view(
    session: Session | None, actor: Actor, kind_name: str, obj: Any, *, audit_view: bool = True,
) -> dict[str, Any]:
    """The record as ``actor`` may see it, with display helpers (names, stage, expiry)."""
    kind = kind_of(kind_name)
    data = _columns(obj)
    full = may_see_confidential(actor, kind, obj)
    if not full:
        for name in kind.tiers:
            data.pop(name, None)
    data.update(_display(kind, obj, full))
    data["confidential_visible"] = full
    owner = getattr(obj, "owner_org_id", None)
    if full and session is not None and audit_view and kind.tiers and owner != actor.org_id:
        audit.record(session, actor, f"{kind.name}.view_confidential", obj=(kind.name, obj.id))
        session.commit()
    return data


def _display(kind: Kind, obj: Any, full: bool) -> dict[str, Any]:
    extra: dict[str, Any] = {"kind": kind.name}
    region = getattr(obj, "region_code", None)
    extra["region_name"] = _region_name(region)
    field = getattr(obj, "field_code", None)
    extra["field_name"] = _field_name(field)
    trl = getattr(obj, "trl", None)
    if trl:
        stage = codes.trl_stage(trl)
        extra["stage"], extra["stage_name"] = stage.value, stage.zh
    expires = getattr(obj, "expires_on", None)
    extra["expired"] = getattr(obj, "status", None) == "expired" or bool(
        expires and expires < dt.datetime.now(dt.UTC).date())
    if kind.name == "achievements":
        extra["institution_name"] = obj.institution.name if obj.institution else None
    if kind.name == "demands":
        hide = obj.confidential and not full
        extra["enterprise_name"] = (_ANONYMISED if hide else
                                    (obj.enterprise.name if obj.enterprise else None))
        if hide:
            extra["enterprise_id"] = None
    if kind.name == "experts":
        extra["institution_name"] = obj.institution.name if obj.institution else obj.affiliation
    return extra


def _region_name(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return " ".join(codes.region_chain(code))
    except Exception:  # a code retired since it was stored: show the code rather than fail
        return code


def _field_name(code: str | None) -> str | None:
    if not code:
        return None
    for field in active_taxonomy():
        if field.code == code:
            return field.name_zh
    return code
