"""Who a push cycle may reach, and how: recipients, their people and their choices.

A recipient is an enterprise record linked to an account organisation with at least one active
member who has not turned personalised pushes off (PIPL art. 24) and whose organisation has not
paused its subscription. Each person's e-mail consent and weekly cap are read here too, so the
cycle writes exactly the messages people agreed to.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from luodi.auth.models import Organisation, OrgKind, User
from luodi.config import Settings
from luodi.inventory.models import Enterprise
from luodi.push.ledger import OutboxMessage, PushPreference, Subscription

__all__ = ["Person", "Recipient", "email_budget", "enterprise_people", "recipients"]


@dataclass(frozen=True)
class Person:
    """A member of a recipient organisation, with what they agreed to."""

    user: User
    personalised: bool
    email: bool
    email_cap: int  # digests allowed in 7 days


@dataclass
class Recipient:
    """An enterprise a cycle may push to."""

    enterprise: Enterprise
    organisation_id: int
    cap: int  # this cycle's k for it (the subscription may ask for fewer)
    subscription: Subscription | None
    people: list[Person] = field(default_factory=list)

    @property
    def personalised_people(self) -> list[Person]:
        """Members who receive personalised pushes."""
        return [p for p in self.people if p.personalised]


def _person(user: User, pref: PushPreference | None, settings: Settings) -> Person:
    if pref is None:
        return Person(user, True, True, settings.push_email_max_per_week)
    cap = settings.push_email_max_per_week if pref.email_max_per_week is None else \
        min(pref.email_max_per_week, settings.push_email_max_per_week)
    return Person(user, pref.personalised, pref.email and pref.unsubscribed_at is None, cap)


def enterprise_people(session: Session, settings: Settings) -> dict[int, list[Person]]:
    """Active members of every enterprise organisation, by organisation id."""
    users = session.scalars(
        select(User).join(Organisation, User.organisation_id == Organisation.id)
        .where(Organisation.kind == OrgKind.ENTERPRISE.value, User.is_active.is_(True))
        .order_by(User.id)).all()
    prefs = {p.user_id: p for p in session.scalars(select(PushPreference).where(
        PushPreference.user_id.in_([u.id for u in users])))}
    people: dict[int, list[Person]] = defaultdict(list)
    for user in users:
        people[int(user.organisation_id or 0)].append(_person(user, prefs.get(user.id), settings))
    return people


def recipients(session: Session, settings: Settings,
               people: dict[int, list[Person]]) -> list[Recipient]:
    """Enterprises a personalised cycle may reach, in id order (the plan is reproducible);
    ``people`` is :func:`enterprise_people`, read once per cycle."""
    subs = {s.organisation_id: s for s in session.scalars(select(Subscription))}
    out = []
    for ent in session.scalars(select(Enterprise).where(Enterprise.organisation_id.is_not(None))
                               .order_by(Enterprise.id)):
        org = ent.organisation_id or 0
        sub = subs.get(org)
        members = people.get(org, [])
        if (sub is not None and sub.paused) or not any(p.personalised for p in members):
            continue
        cap = settings.push_cap_per_recipient
        if sub is not None and sub.max_per_cycle:
            cap = min(cap, sub.max_per_cycle)
        out.append(Recipient(ent, org, cap, sub, members))
    return out


def email_budget(session: Session, user_ids: list[int], now: dt.datetime) -> dict[int, int]:
    """Digests each user was sent (or has queued) in the last 7 days: the frequency cap's count."""
    if not user_ids:
        return {}
    since = now - dt.timedelta(days=7)
    rows = session.execute(
        select(OutboxMessage.user_id, func.count()).where(
            OutboxMessage.channel == "email", OutboxMessage.user_id.in_(user_ids),
            OutboxMessage.status != "suppressed", OutboxMessage.created_at >= since)
        .group_by(OutboxMessage.user_id)).all()
    return {int(uid or 0): int(n) for uid, n in rows}
