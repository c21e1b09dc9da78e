"""Plain factories for the push ledger: parties with accounts, achievements, cycles, pushes.

Records go through the inventory services (as the system actor); ledger rows (cycles, pushes,
announcements) are written directly through the models, as a cycle would write them, so tests
of the recipients' side do not depend on the planner. Typical use::

    buyer = enterprise_party(session, settings)          # .org, .record, .user
    tto = institution_party(session, settings)
    robot = achievement(session, settings, tto.record, description="秘密")
    c = cycle(session)
    p = push(session, c, buyer.record, robot)
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from luodi.auth.models import Organisation, User
from luodi.config import Settings
from luodi.inventory.catalogue_models import Catalogue
from luodi.inventory.models import Achievement, Enterprise, Institution
from luodi.push.ledger import Announcement, Push, PushCycle
from tests.factories import make_org, make_user
from tests.inventory import factories as inv

_seq = itertools.count(1)


class Party(NamedTuple):
    """An organisation with its inventory record and one member who can log in."""

    org: Organisation
    record: Any  # Enterprise or Institution
    user: User


def enterprise_party(session: Session, settings: Settings, name: str | None = None) -> Party:
    """An enterprise organisation, its enterprise record and an enterprise member."""
    org = make_org(session, "enterprise")
    record: Enterprise = inv.enterprise(session, settings, name=name or f"示范企业{next(_seq)}",
                                        org=org)
    return Party(org, record, make_user(session, "enterprise_member", org=org))


def institution_party(session: Session, settings: Settings, name: str | None = None) -> Party:
    """An institution organisation, its institution record and an institution member."""
    org = make_org(session, "institution")
    record: Institution = inv.institution(session, settings, name=name or f"示范大学{next(_seq)}",
                                          org=org)
    return Party(org, record, make_user(session, "institution_member", org=org))


def achievement(session: Session, settings: Settings, institution: Institution,
                **extra: Any) -> Achievement:
    """A published achievement of ``institution`` (with a confidential description and contact)."""
    extra.setdefault("title", f"一种示范成果{next(_seq)}")
    return inv.achievement(session, settings, institution, **extra)


def cycle(session: Session, **extra: Any) -> PushCycle:
    """A push cycle as a finished run would leave it."""
    values: dict[str, Any] = {"cap_per_recipient": 5, "min_recipients": 2, "min_score": 1.0,
                              "status": "delivered", "figures": {}, **extra}
    row = PushCycle(**values)
    session.add(row)
    session.commit()
    return row


def push(session: Session, cycle: PushCycle, enterprise: Enterprise, achievement: Achievement,
         **extra: Any) -> Push:
    """One push of ``achievement`` to ``enterprise`` in ``cycle`` (into its organisation's inbox)."""
    values: dict[str, Any] = {"score": 2.5, "rank": 1, "reason": "共同关键词：示范",
                              "reason_en": "Shared terms: demo", **extra}
    row = Push(cycle_id=cycle.id, enterprise_id=enterprise.id,
               organisation_id=enterprise.organisation_id, achievement_id=achievement.id,
               **values)
    session.add(row)
    session.commit()
    return row


def announcement(session: Session, title: str = "2026年第一批重点成果供给清单",
                 **extra: Any) -> Announcement:
    """A non-personalised notice about a (published) catalogue."""
    cat = Catalogue(name=f"{title}-{next(_seq)}", kind="achievements", status="published",
                    published_version=1)
    session.add(cat)
    session.flush()
    row = Announcement(catalogue_id=cat.id, catalogue_version=1, title=title,
                       **{"items": 3, **extra})
    session.add(row)
    session.commit()
    return row
