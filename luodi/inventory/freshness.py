"""Freshness (时效): listed records expire unless their owners renew them.

Achievements and demands carry ``review_due_on`` and ``expires_on`` (set on creation from
``record_validity_days`` / ``review_interval_days``). A daily :func:`sweep` marks published
records past their expiry date as ``expired`` — which takes them out of pushes, see
:func:`is_pushable` — and leaves reminders for their owners: before expiry, at expiry and when a
review is due. :func:`renew` puts a record back where it was and starts a new validity period.

Reminders go to the record's owner organisation. Records without one (imported public data such
as the demo's CSL and NASA records) are curated by operators, so their reminders carry no
organisation and are shown to staff.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from luodi import audit
from luodi import models as _registry  # noqa: F401 — maps users etc. for the audit FKs in jobs
from luodi.auth.actor import Actor
from luodi.auth.policy import authorize, can, is_staff
from luodi.config import Settings
from luodi.db import utcnow
from luodi.errors import NotAuthenticated, NotFound, ValidationFailed
from luodi.inventory.kinds import Kind, kind_of
from luodi.inventory.models import Reminder

FRESH_KINDS = ("achievements", "demands")
# Statuses in which a record is "on the market" and so can go stale. Drafts are not listed,
# withdrawn and transferred records are finished: none of them expire.
LIVE_STATUSES = ("published", "in_docking")
EXPIRY_SOON, EXPIRED, REVIEW_DUE = "expiry_soon", "expired", "review_due"
# The sweep is a system job: the policy lets staff and the system actor run it.
SWEEP_ACTION = "inventory.freshness_sweep"


@dataclass
class SweepResult:
    """What one sweep did, per record kind."""

    today: dt.date
    expired: dict[str, int] = field(default_factory=dict)
    reminders: dict[str, int] = field(default_factory=dict)  # reminder kind → new rows

    @property
    def total_expired(self) -> int:
        """Records marked expired by this sweep, all kinds together."""
        return sum(self.expired.values())

    @property
    def total_reminders(self) -> int:
        """Reminders created by this sweep (re-running it creates none)."""
        return sum(self.reminders.values())


def is_pushable(obj: Any, today: dt.date) -> bool:
    """Whether a record may be pushed today: published and not past its expiry date.

    The date is checked as well as the status so a record that expired since the last sweep
    never slips into a push cycle.
    """
    expires = getattr(obj, "expires_on", None)
    return getattr(obj, "status", None) == "published" and (expires is None or expires >= today)


def sweep(session: Session, actor: Actor, settings: Settings, today: dt.date) -> SweepResult:
    """Expire stale records and leave reminders for their owners; commits once at the end.

    Idempotent: a record is expired once, and a reminder is unique per record, kind and due
    date, so running the sweep twice on one day changes nothing the second time.
    """
    authorize(session, actor, SWEEP_ACTION)
    result = SweepResult(today=today)
    horizon = today + dt.timedelta(days=settings.expiry_reminder_days)
    for name in FRESH_KINDS:
        kind = kind_of(name)
        model: Any = kind.model
        live = model.status.in_(LIVE_STATUSES)
        stale = list(session.scalars(
            select(model).where(live, model.expires_on < today).order_by(model.id)))
        for obj in stale:
            obj.status_before_expiry, obj.status = obj.status, "expired"
            audit.record(session, actor, f"{name}.expire", obj=(name, obj.id),
                         detail={"expires_on": obj.expires_on.isoformat(),
                                 "status_before_expiry": obj.status_before_expiry})
        result.expired[name] = len(stale)
        soon = session.scalars(select(model).where(
            live, model.expires_on >= today, model.expires_on <= horizon).order_by(model.id))
        review = session.scalars(select(model).where(
            live, model.review_due_on <= today, model.expires_on >= today).order_by(model.id))
        wanted = ([(EXPIRED, o, o.expires_on) for o in stale]
                  + [(EXPIRY_SOON, o, o.expires_on) for o in soon]
                  + [(REVIEW_DUE, o, o.review_due_on) for o in review])
        _add_reminders(session, kind, wanted, result)
    audit.record(session, actor, "inventory.freshness_sweep",
                 detail={"today": today.isoformat(), "expired": result.expired,
                         "reminders": result.reminders})
    session.commit()
    return result


def _add_reminders(session: Session, kind: Kind, wanted: list[tuple[str, Any, dt.date]],
                   result: SweepResult) -> None:
    """Insert the reminders not already on file (one query for the existing keys)."""
    if not wanted:
        return
    ids = {obj.id for _, obj, _ in wanted}
    existing = {(k, i, d) for k, i, d in session.execute(
        select(Reminder.kind, Reminder.record_id, Reminder.due_on)
        .where(Reminder.record_kind == kind.name, Reminder.record_id.in_(ids)))}
    for reminder_kind, obj, due in wanted:
        key = (reminder_kind, obj.id, due)
        if key in existing:
            continue
        existing.add(key)
        session.add(Reminder(kind=reminder_kind, record_kind=kind.name, record_id=obj.id,
                             organisation_id=obj.owner_org_id, due_on=due,
                             message=_message(reminder_kind, kind, obj, due)))
        result.reminders[reminder_kind] = result.reminders.get(reminder_kind, 0) + 1


def _message(reminder_kind: str, kind: Kind, obj: Any, due: dt.date) -> str:
    title = getattr(obj, kind.title_attr)
    day = due.isoformat()
    if reminder_kind == EXPIRY_SOON:
        return (f"{kind.label_zh}《{title}》将于 {day} 到期，请及时续期，否则将停止推送。 / "
                f'{kind.label_en[:-1]} "{title}" expires on {day}; renew it to keep it listed.')
    if reminder_kind == EXPIRED:
        return (f"{kind.label_zh}《{title}》已于 {day} 到期，已停止推送，续期后恢复。 / "
                f'{kind.label_en[:-1]} "{title}" expired on {day} and is no longer pushed '
                "until renewed.")
    return (f"{kind.label_zh}《{title}》应于 {day} 复核，请确认信息仍然准确。 / "
            f'{kind.label_en[:-1]} "{title}" was due for review on {day}: please check it '
            "is still accurate.")


def renew(
    session: Session, actor: Actor, kind_name: str, record_id: int, *,
    settings: Settings, today: dt.date | None = None,
) -> Any:
    """Renew a record (续期): a new validity period from today and its pre-expiry status back.

    Owners and staff may renew (the ``<kind>.update`` rule). Open reminders about the record are
    marked read, since renewing is the answer to them.
    """
    if kind_name not in FRESH_KINDS:
        raise ValidationFailed(f"Records of kind '{kind_name}' do not expire.",
                               data={"kinds": list(FRESH_KINDS)})
    kind = kind_of(kind_name)
    obj: Any = session.get(kind.model, record_id)
    if obj is None:
        raise NotFound(f"No such record in {kind.name}.")
    authorize(session, actor, f"{kind.name}.update", obj)
    today = today or utcnow().date()
    was = obj.status
    if obj.status == "expired":
        obj.status = obj.status_before_expiry or "published"
        obj.status_before_expiry = None
    obj.expires_on = today + dt.timedelta(days=settings.record_validity_days)
    obj.review_due_on = today + dt.timedelta(days=settings.review_interval_days)
    now = utcnow()
    for reminder in session.scalars(select(Reminder).where(
            Reminder.record_kind == kind.name, Reminder.record_id == obj.id,
            Reminder.read_at.is_(None))):
        reminder.read_at = now
    audit.record(session, actor, f"{kind.name}.renew", obj=(kind.name, obj.id),
                 detail={"expires_on": obj.expires_on.isoformat(), "status_from": was,
                         "status_to": obj.status})
    session.commit()
    return obj


def _visible_to(actor: Actor) -> Any:
    """The reminders an actor receives: their organisation's; staff also get unowned ones."""
    clauses = []
    if actor.org_id is not None:
        clauses.append(Reminder.organisation_id == actor.org_id)
    if is_staff(actor):
        clauses.append(Reminder.organisation_id.is_(None))
    return or_(*clauses) if clauses else None


def reminders_for(
    session: Session, actor: Actor, *, include_read: bool = False, limit: int = 200,
) -> list[Reminder]:
    """The actor's organisation's reminders, unread ones only unless ``include_read``.

    Soonest due date first. Anonymous actors and users without an organisation get none.
    """
    clause = _visible_to(actor) if actor.is_authenticated else None
    if clause is None:
        return []
    stmt = select(Reminder).where(clause)
    if not include_read:
        stmt = stmt.where(Reminder.read_at.is_(None))
    return list(session.scalars(stmt.order_by(Reminder.due_on, Reminder.id).limit(limit)))


def mark_read(session: Session, actor: Actor, reminder_id: int) -> Reminder:
    """Mark one of the actor's reminders read; NotFound for someone else's (no probing)."""
    reminder = session.get(Reminder, reminder_id)
    if reminder is None or not _may_see(actor, reminder):
        raise NotFound("No such reminder.")
    if reminder.read_at is None:
        reminder.read_at = utcnow()
        session.commit()
    return reminder


def _may_see(actor: Actor, reminder: Reminder) -> bool:
    if not actor.is_authenticated:
        raise NotAuthenticated("Please log in first.")
    return can(actor, "reminders.read", reminder)
