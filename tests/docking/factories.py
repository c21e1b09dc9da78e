"""Plain factories for docking tests: the parties of a case, a broker, an operator, and a case
moved to any state through the real services.

Every confidential value carries a *canary* (see :data:`CANARIES`) so a test can assert that a
response, a page or a list never shows it to someone it is not for. Typical use::

    w = docking_world(session, settings)        # .tto, .achievement, .buyer, .broker, …
    case = open_and_advance(session, w, "contacts_revealed")
    view = disclosure.case_view(session, actor_of(w.buyer), case.id)

``open_and_advance`` walks the happy path (open → accept → consent ×2 → meet → negotiate →
agree → a deal is recorded, which lands the case), or closes the case from the state before
``closed`` given by ``close_from``.
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from luodi.audit import AuditEvent
from luodi.auth.actor import Actor
from luodi.auth.models import User
from luodi.auth.service import actor_for
from luodi.config import Settings
from luodi.docking import cases
from luodi.docking.models import Case
from luodi.inventory.models import Achievement, Demand
from tests.factories import make_org, make_user
from tests.inventory import factories as inv
from tests.push import ledger_factories as lf
from tests.push.ledger_factories import Party

# Canaries: strings that must only ever appear where their tier is open.
DETAIL_CANARY = "SECRET-DETAIL-xyz 保密工艺参数"
CONTACT_EMAIL = "contact-xyz@example.cn"
CONTACT_NAME = "保密联系人-xyz"
CONTACT_PHONE = "13900000042"
SEEKER_EMAIL = "seeker-shared-xyz@example.cn"  # what the enterprise shares on consent
OWNER_EMAIL = "owner-shared-xyz@example.cn"  # what the institution shares on consent
DEMAND_CANARY = "SECRET-DEMAND-xyz 产线缺陷率"
CANARIES = (DETAIL_CANARY, CONTACT_EMAIL, CONTACT_NAME, CONTACT_PHONE, SEEKER_EMAIL,
            OWNER_EMAIL, DEMAND_CANARY)
CONTACT_CANARIES = (CONTACT_EMAIL, CONTACT_NAME, CONTACT_PHONE, SEEKER_EMAIL, OWNER_EMAIL)

_seq = itertools.count(1)


class DockingWorld(NamedTuple):
    """An institution with a published achievement, an enterprise, a broker and an operator."""

    tto: Party  # the institution (owner of the achievement)
    achievement: Achievement
    buyer: Party  # the enterprise (seeker)
    broker: User  # role broker, in a broker_agency organisation
    operator: User


def actor_of(who: Party | User) -> Actor:
    """The actor for a party (its member) or a user."""
    return actor_for(who.user if isinstance(who, Party) else who)


def institution_party(session: Session, settings: Settings) -> Party:
    """An institution organisation, its institution record and an institution member."""
    return lf.institution_party(session, settings)


def enterprise_party(session: Session, settings: Settings) -> Party:
    """An enterprise organisation, its enterprise record and an enterprise member."""
    return lf.enterprise_party(session, settings)


def published_achievement(session: Session, settings: Settings, tto: Party,
                          **extra: Any) -> Achievement:
    """A published achievement of ``tto`` whose confidential tiers hold canaries."""
    values = {"title": f"固态电解质中试成果{next(_seq)}", "summary": "高离子电导率固态电解质。",
              "description": DETAIL_CANARY, "contact_name": CONTACT_NAME,
              "contact_email": CONTACT_EMAIL, "contact_phone": CONTACT_PHONE, **extra}
    return lf.achievement(session, settings, tto.record, **values)


def published_demand(session: Session, settings: Settings, buyer: Party,
                     **extra: Any) -> Demand:
    """A published demand of ``buyer`` whose confidential tiers hold canaries."""
    values = {"title": f"视觉抓取技术需求{next(_seq)}", "description": DEMAND_CANARY,
              "contact_email": CONTACT_EMAIL, "contact_name": CONTACT_NAME, **extra}
    return inv.demand(session, settings, buyer.record, **values)


def broker_user(session: Session) -> User:
    """A broker (技术经理人) in a broker agency."""
    return make_user(session, "broker", org=make_org(session, "broker_agency"))


def operator_user(session: Session) -> User:
    """A platform operator (staff)."""
    return make_user(session, "operator")


def viewer_user(session: Session) -> User:
    """A government viewer: dashboards only, never a case."""
    return make_user(session, "viewer")


def docking_world(session: Session, settings: Settings) -> DockingWorld:
    """Everyone a case needs; the broker is not assigned to anything yet."""
    tto = institution_party(session, settings)
    return DockingWorld(tto=tto, achievement=published_achievement(session, settings, tto),
                        buyer=enterprise_party(session, settings),
                        broker=broker_user(session), operator=operator_user(session))


HAPPY_PATH = ("interested", "accepted", "contacts_revealed", "meeting", "negotiating", "agreed",
              "landed")


def _step(session: Session, world: DockingWorld, case: Case, state: str) -> None:
    """Move ``case`` from the state before ``state`` in :data:`HAPPY_PATH` to ``state``."""
    owner, seeker = actor_of(world.tto), actor_of(world.buyer)
    if state == "accepted":
        cases.transition(session, owner, case.id, "accept")
    elif state == "landed":  # only recording a deal lands a case
        from tests.landing.factories import record  # here: that module imports this one

        record(session, world, case)
    elif state == "contacts_revealed":
        cases.consent_contacts(session, seeker, case.id, name="采购部王工", email=SEEKER_EMAIL)
        cases.consent_contacts(session, owner, case.id, name="转化办李老师", email=OWNER_EMAIL,
                               phone="010-62780000")
    else:
        action = {"meeting": "meet", "negotiating": "negotiate", "agreed": "agree"}[state]
        cases.transition(session, seeker, case.id, action)


def open_and_advance(session: Session, world: DockingWorld, to_state: str, *,
                     close_from: str = "interested", broker: bool = False,
                     nda: bool = False) -> Case:
    """A case of ``world.buyer`` on ``world.achievement`` in ``to_state``.

    ``closed``: walked to ``close_from`` first, then closed by the seeker with a reason.
    ``broker``: the world's broker is assigned right after opening. ``nda``: an NDA is
    recorded by the owner once contacts are revealed (needs ``to_state`` at least there).
    """
    case = cases.open_case(session, actor_of(world.buyer), kind="achievements",
                           record_id=world.achievement.id, note="希望进一步了解")
    if broker:
        cases.assign_broker(session, actor_of(world.operator), case.id, world.broker.id)
    target = close_from if to_state == "closed" else to_state
    for state in HAPPY_PATH[1:HAPPY_PATH.index(target) + 1]:
        _step(session, world, case, state)
        if state == "contacts_revealed" and nda:
            cases.record_nda(session, actor_of(world.tto), case.id, note="双方已签署")
    if to_state == "closed":
        cases.transition(session, actor_of(world.buyer), case.id, "close", note="预算未获批准")
    session.refresh(case)
    return case


def audit_lines(session: Session, action: str, outcome: str = "success") -> list[AuditEvent]:
    """The audit lines of ``action`` with ``outcome``, oldest first (fresh from the database)."""
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                         AuditEvent.outcome == outcome)
                                .order_by(AuditEvent.id)))
