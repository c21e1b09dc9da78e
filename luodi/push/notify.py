"""Writing a cycle's deliveries: the pushes, announcements and outbox messages, in one go.

Called inside the cycle's transaction (the caller commits). Everything a person receives is
decided here from their recorded choices:

* members with personalised pushes on get their organisation's pushes in the inbox and in an
  e-mail digest; members with it off get only the non-personalised announcements;
* no e-mail to anyone who turned e-mail off or unsubscribed, and none above their weekly cap:
  such digests are kept as ``suppressed`` rows with the reason, so the cycle view can say why;
* one webhook call per active endpoint of each organisation that received pushes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from luodi.config import Settings
from luodi.inventory.catalogue_models import Catalogue, CatalogueVersion
from luodi.push.audience import Person, email_budget
from luodi.push.ledger import Announcement, OutboxMessage, Push, PushCycle, WebhookEndpoint

__all__ = ["PlannedPush", "write_cycle"]

TEASER = 160  # characters of an achievement's public summary in a message


@dataclass(frozen=True)
class PlannedPush:
    """One pair of a cycle's plan, as the dry run shows it and the ledger stores it."""

    enterprise_id: int
    enterprise_name: str
    organisation_id: int
    achievement_id: int
    title: str
    summary: str | None  # the public teaser
    score: float
    rank: int
    reason: str
    reason_en: str
    catalogue_id: int | None
    explanation: dict[str, Any]


def _pushes(session: Session, cycle: PushCycle, rows: Sequence[PlannedPush], now: dt.datetime,
            ) -> list[Push]:
    pushes = [Push(cycle_id=cycle.id, enterprise_id=r.enterprise_id,
                   organisation_id=r.organisation_id, achievement_id=r.achievement_id,
                   catalogue_id=r.catalogue_id, score=r.score, rank=r.rank, reason=r.reason,
                   reason_en=r.reason_en, explanation=r.explanation, created_at=now)
              for r in rows]
    session.add_all(pushes)
    session.flush()
    return pushes


def _announcements(session: Session, cycle: PushCycle, now: dt.datetime) -> list[Announcement]:
    """One announcement per catalogue version published since the last announced."""
    done = {(a, v) for a, v in session.execute(
        select(Announcement.catalogue_id, Announcement.catalogue_version))}
    stmt = (select(Catalogue, CatalogueVersion)
            .join(CatalogueVersion, (CatalogueVersion.catalogue_id == Catalogue.id)
                  & (CatalogueVersion.number == Catalogue.published_version))
            .order_by(Catalogue.id))
    out = [Announcement(cycle_id=cycle.id, catalogue_id=cat.id, catalogue_version=ver.number,
                        title=ver.name, items=len(ver.snapshot), created_at=now)
           for cat, ver in session.execute(stmt) if (cat.id, ver.number) not in done]
    session.add_all(out)
    return out


def _item(settings: Settings, push: Push, title: str, summary: str | None) -> dict[str, Any]:
    teaser = (summary or "").strip()
    return {"push_id": push.id, "achievement_id": push.achievement_id, "title": title,
            "summary": teaser[:TEASER] + ("…" if len(teaser) > TEASER else "") or None,
            "score": push.score, "reason": push.reason, "reason_en": push.reason_en,
            "url": f"{settings.base_url}/inbox/{push.id}"}


def _digest_status(person: Person, sent: int) -> str | None:
    """Why this person gets no digest now, or None to send it."""
    if not person.email:
        return "email_off"
    if sent >= person.email_cap:
        return "frequency_cap"
    return None


def _emails(session: Session, settings: Settings, cycle: PushCycle,
            items: dict[int, list[dict[str, Any]]], notices: list[dict[str, Any]],
            people: dict[int, list[Person]], now: dt.datetime) -> tuple[int, int]:
    budget = email_budget(session, [p.user.id for ps in people.values() for p in ps], now)
    queued = suppressed = 0
    for org_id, members in people.items():
        for person in members:
            own = items.get(org_id, []) if person.personalised else []
            if not own and not notices:
                continue
            why = _digest_status(person, budget.get(person.user.id, 0))
            session.add(OutboxMessage(
                key=f"email:{cycle.id}:{person.user.id}", channel="email", cycle_id=cycle.id,
                user_id=person.user.id, organisation_id=org_id,
                push_ids=[i["push_id"] for i in own], status="suppressed" if why else "pending",
                last_error=why, created_at=now, next_attempt_at=now,
                payload={"to": person.user.email, "name": person.user.display_name,
                         "locale": person.user.locale or settings.default_locale,
                         "kind": "digest" if own else "announcements", "cycle": cycle.id,
                         "items": own, "announcements": notices,
                         "inbox_url": f"{settings.base_url}/inbox"}))
            queued, suppressed = queued + (not why), suppressed + bool(why)
    return queued, suppressed


def _webhooks(session: Session, settings: Settings, cycle: PushCycle,
              items: dict[int, list[dict[str, Any]]], names: dict[int, tuple[int, str]],
              now: dt.datetime) -> int:
    endpoints = session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.organisation_id.in_(list(items)), WebhookEndpoint.active.is_(True))
        .order_by(WebhookEndpoint.id)).all()
    for ep in endpoints:
        ent_id, ent_name = names[ep.organisation_id]
        own = items[ep.organisation_id]
        session.add(OutboxMessage(
            key=f"webhook:{cycle.id}:{ep.id}", channel="webhook", cycle_id=cycle.id,
            endpoint_id=ep.id, organisation_id=ep.organisation_id,
            push_ids=[i["push_id"] for i in own], created_at=now, next_attempt_at=now,
            payload={"type": "push.delivered", "timestamp": now.isoformat(),
                     "data": {"cycle": cycle.id, "enterprise": {"id": ent_id, "name": ent_name},
                              "pushes": own}}))
    return len(endpoints)


def write_cycle(session: Session, settings: Settings, cycle: PushCycle, rows: Sequence[PlannedPush],
                people: dict[int, list[Person]], *, now: dt.datetime) -> dict[str, int]:
    """Add the cycle's pushes, announcements and outbox messages; returns their counts.

    ``people`` are the enterprise members and their choices the plan was made with
    (:func:`luodi.push.audience.enterprise_people`)."""
    pushes = _pushes(session, cycle, rows, now)
    items: dict[int, list[dict[str, Any]]] = defaultdict(list)
    names: dict[int, tuple[int, str]] = {}
    for push, row in zip(pushes, rows, strict=True):
        items[push.organisation_id].append(
            _item(settings, push, row.title, row.summary))
        names[push.organisation_id] = (row.enterprise_id, row.enterprise_name)
    notices = [{"title": a.title, "items": a.items,
                "url": f"{settings.base_url}/catalogues/{a.catalogue_id}"}
               for a in _announcements(session, cycle, now)]
    emails, suppressed = _emails(session, settings, cycle, items, notices, people, now)
    hooks = _webhooks(session, settings, cycle, items, names, now)
    return {"emails": emails, "emails_suppressed": suppressed, "webhooks": hooks,
            "announcements": len(notices)}
