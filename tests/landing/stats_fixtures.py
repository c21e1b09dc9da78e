"""Ledger rows for the statistics tests, written directly through the models.

The statistics read only rows — cases, their transition events and deals — so the fixtures
write those rows as the services would leave them, at chosen times, instead of walking cases
through :mod:`luodi.docking.cases` (which stamps events with the wall clock). Typical use::

    w = ledger_world(session)
    case = add_case(session, w, opened=at(2026, 1, 5), trail=[("accepted", 2), ("closed", 9)])
    add_deal(session, w, case, amount="120.50", signed_on=dt.date(2026, 2, 1),
             landing="120116", seller="110108")
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import delete
from sqlalchemy.orm import Session

from luodi.auth.models import Organisation, User
from luodi.docking.models import Case, CaseEvent
from luodi.inventory.models import Institution
from luodi.landing.models import Deal

_seq = itertools.count(1)

# Landing districts used across the tests: inside 京津冀 and elsewhere.
BEIJING = ("110108", "110105")  # 海淀区, 朝阳区
TIANJIN = ("120116",)  # 滨海新区
HEBEI = ("130638", "131000")  # 雄县, 廊坊市
ELSEWHERE = ("310115", "440305", "320508")  # 浦东新区, 南山区, 姑苏区
CATEGORIES = ("development_commissioned", "transfer", "license", "service")
FIELDS = ("ai", "health", "materials", None)


class LedgerWorld(NamedTuple):
    """Two organisations (seeker, owner), two institutions and two brokers."""

    seeker: Organisation
    owner: Organisation
    institutions: tuple[Institution, Institution]
    brokers: tuple[User, User]


def at(year: int, month: int, day: int, hour: int = 9) -> dt.datetime:
    """A UTC instant (the only kind the ledger stores)."""
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC)


def ledger_world(session: Session) -> LedgerWorld:
    """The parties every case and deal of a test refers to."""
    n = next(_seq)
    seeker = Organisation(name=f"统计测试企业{n}", kind="enterprise", region_code="120116")
    owner = Organisation(name=f"统计测试高校{n}", kind="institution", region_code="110108")
    institutions = (Institution(name=f"北京理工测试大学{n}", region_code="110108"),
                    Institution(name=f"河北测试研究院{n}", region_code="130100"))
    brokers = tuple(User(email=f"stats-broker-{n}-{i}@example.org", display_name=f"经理人{n}-{i}",
                         role="broker", password_hash="x") for i in (1, 2))
    session.add_all([seeker, owner, *institutions, *brokers])
    session.commit()
    return LedgerWorld(seeker, owner, institutions, (brokers[0], brokers[1]))


def add_case(session: Session, world: LedgerWorld, *, opened: dt.datetime,
             trail: Sequence[tuple[str, float]] = (), commit: bool = True) -> Case:
    """A case opened at ``opened`` whose trail then moves to each (state, days after opening).

    The first event is the opening transition into "interested", as ``open_case`` writes it;
    the case's ``state`` and ``last_event_at`` follow the last event.
    """
    case = Case(kind="achievements", seeker_org_id=world.seeker.id,
                owner_org_id=world.owner.id, state="interested", opened_at=opened,
                last_event_at=opened)
    session.add(case)
    session.flush()
    events = [CaseEvent(case_id=case.id, at=opened, kind="transition", action="open",
                        to_state="interested")]
    state = "interested"
    for target, days in trail:
        when = opened + dt.timedelta(days=days)
        events.append(CaseEvent(case_id=case.id, at=when, kind="transition", action=target,
                                from_state=state, to_state=target))
        state, case.last_event_at = target, when
    case.state = state
    session.add_all(events)
    if commit:
        session.commit()
    return case


def add_deal(session: Session, world: LedgerWorld, case: Case, *, amount: str | Decimal,
             signed_on: dt.date, landing: str, seller: str | None = "110108",
             category: str = "transfer", field_code: str | None = "ai",
             institution: int | None = 0, broker: int | None = 0, status: str = "signed",
             registration_no: str | None = None, commit: bool = True) -> Deal:
    """A deal for ``case``; ``institution`` / ``broker`` index the world's (None: unset)."""
    deal = Deal(case_id=case.id, category=category, title=f"技术合同{case.id}",
                amount_wan=Decimal(str(amount)), signed_on=signed_on,
                registration_no=registration_no, landing_region_code=landing,
                seller_region_code=seller, field_code=field_code, status=status,
                transfer_mode="transfer",
                institution_id=None if institution is None else world.institutions[institution].id,
                broker_id=None if broker is None else world.brokers[broker].id)
    session.add(deal)
    if commit:
        session.commit()
    return deal


def clear_ledger(session: Session) -> None:
    """Remove every deal, event and case (between hypothesis examples on one database)."""
    for model in (Deal, CaseEvent, Case):
        session.execute(delete(model))
    session.commit()
