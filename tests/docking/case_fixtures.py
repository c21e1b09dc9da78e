"""A docking case and everyone around it, written directly through the models.

Messages, meetings and reminders only need a case in a given state with known parties, so
the case row is written as the workflow would leave it rather than walked there through
:mod:`luodi.docking.cases`. Typical use::

    world = case_world(session, settings, state="contacts_revealed", idle_days=20)
    actor = as_actor(world.broker)
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy.orm import Session

from luodi.auth.actor import Actor
from luodi.auth.models import User
from luodi.auth.service import actor_for
from luodi.config import Settings
from luodi.db import utcnow
from luodi.docking.models import Case
from luodi.inventory.models import Achievement
from tests.factories import make_user
from tests.push import ledger_factories as lf
from tests.push.ledger_factories import Party

# Contacts the parties shared on consent: they must never reach a calendar file.
SEEKER_CONTACT = {"name": "采购部王经理", "email": "wang.buyer@example.cn",
                  "phone": "13800138000"}
OWNER_CONTACT = {"name": "技术转移中心李老师", "email": "li.tto@example.edu.cn",
                 "phone": "010-62781234"}


class CaseWorld(NamedTuple):
    """A case, its two parties (each with a member), its broker, an operator and an outsider."""

    case: Case
    achievement: Achievement
    seeker: Party
    owner: Party
    broker: User
    operator: User
    outsider: User


def case_world(session: Session, settings: Settings, *, state: str = "contacts_revealed",
               idle_days: float = 0, with_broker: bool = True,
               title: str = "一种耐高温锂电池隔膜的制备方法") -> CaseWorld:
    """A case about one achievement in ``state``, its last event ``idle_days`` ago."""
    seeker = lf.enterprise_party(session, settings)
    owner = lf.institution_party(session, settings)
    achievement = lf.achievement(session, settings, owner.record, title=title)
    broker = make_user(session, "broker")
    operator = make_user(session, "operator")
    outsider = lf.enterprise_party(session, settings).user
    case = make_case(session, achievement, seeker=seeker, owner=owner, state=state,
                     idle_days=idle_days, broker=broker if with_broker else None)
    return CaseWorld(case, achievement, seeker, owner, broker, operator, outsider)


def make_case(session: Session, achievement: Achievement, *, seeker: Party, owner: Party,
              state: str, idle_days: float = 0, broker: User | None = None) -> Case:
    """Another case between the same kind of parties (contacts shared once revealed)."""
    last = utcnow() - dt.timedelta(days=idle_days)
    revealed = state not in ("interested", "accepted")
    case = Case(kind="achievements", achievement_id=achievement.id,
                seeker_org_id=seeker.org.id, owner_org_id=owner.org.id,
                broker_id=broker.id if broker else None, state=state,
                closed_reason="不再合作" if state == "closed" else None,
                seeker_consent_at=last if revealed else None,
                owner_consent_at=last if revealed else None,
                seeker_contact=SEEKER_CONTACT if revealed else None,
                owner_contact=OWNER_CONTACT if revealed else None,
                opened_by_id=seeker.user.id, opened_at=last, last_event_at=last)
    session.add(case)
    session.commit()
    return case


def as_actor(user: User) -> Actor:
    """The actor ``user`` acts as on the web."""
    return actor_for(user)
