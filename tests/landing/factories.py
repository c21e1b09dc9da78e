"""Plain factories for landing tests: a valid deal body for a docking world, and a landed case.

Typical use::

    w = docking_world(session, settings)
    case = open_and_advance(session, w, "agreed", broker=True)
    deal = record(session, w, case, amount_wan="120.5")   # the case is now "landed"

:func:`deal_data` is what an API client or the case page sends: parties named after the
world's institution (seller) and enterprise (buyer), with valid credit and region codes.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy.orm import Session

from luodi.docking.models import Case
from luodi.inventory.codes import make_credit_code
from luodi.landing import deals
from luodi.landing.models import Deal
from tests.docking.factories import DockingWorld, actor_of

_seq = itertools.count(1)

SIGNED_ON = dt.date(2026, 3, 18)


def registration_no() -> str:
    """A fresh 16-digit 技术合同登记号."""
    return f"2026110108{next(_seq):06d}"


def deal_data(world: DockingWorld, **overrides: Any) -> dict[str, Any]:
    """A valid deal body (JSON shape) for a case of ``world`` on its achievement."""
    seller, buyer = world.tto.record, world.buyer.record
    data: dict[str, Any] = {
        "category": "transfer", "title": f"固态电解质专利转让合同{next(_seq)}",
        "amount_wan": "120.50", "signed_on": SIGNED_ON.isoformat(),
        "registration_no": registration_no(), "registered_income_wan": "100",
        "transfer_mode": "transfer", "landed_entity": buyer.name,
        "landed_credit_code": make_credit_code("landed", region="120116"),
        "landing_region_code": "120116",
        "parties": [
            {"role": "seller", "name": seller.name, "region_code": "110108",
             "credit_code": make_credit_code(f"seller-{seller.id}", category="2",
                                             department="1"),
             "party_type": "university"},
            {"role": "buyer", "name": buyer.name, "region_code": "120116",
             "credit_code": make_credit_code(f"buyer-{buyer.id}", region="120116"),
             "party_type": "enterprise"}],
        "milestones": [{"kind": "pilot", "planned_on": "2026-09-30"}],
        "note": "首付款已到账",
    }
    data.update(overrides)
    return data


def record(session: Session, world: DockingWorld, case: Case, *, by: Any = None,
           **overrides: Any) -> Deal:
    """Record a deal on an agreed ``case`` (by the buyer unless ``by`` is given)."""
    actor = actor_of(by if by is not None else world.buyer)
    return deals.record_deal(session, actor, case.id, deal_data(world, **overrides))
