"""Deal services: recording from an agreed case, every rule on the input, who may act, the
broker's credit, completing a deal later, milestones, cancelling, and the lists."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from luodi.audit import AuditEvent
from luodi.auth.actor import ANONYMOUS, system_actor
from luodi.docking import cases, workflow
from luodi.docking.models import Case, CaseEvent
from luodi.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from luodi.landing import deals
from luodi.landing.models import Deal, DealParty, Milestone
from luodi.landing.schemas import today
from tests.docking import factories as df
from tests.docking.factories import actor_of
from tests.docking.factories import audit_lines as _audit
from tests.landing import factories as lf


@pytest.fixture
def agreed(session, world):  # type: ignore[no-untyped-def]
    return df.open_and_advance(session, world, "agreed", broker=True)




def _snapshot(session, case_id: int) -> tuple:  # type: ignore[no-untyped-def]
    """Everything a refused request must leave as it was."""
    session.expire_all()
    count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
    events = session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case_id))
    audits = session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.outcome == "success"))
    state = session.scalar(select(Case.state).where(Case.id == case_id))
    return (count(Deal), count(DealParty), count(Milestone), events, audits, state)


# --- the happy path -----------------------------------------------------------------------

def test_recording_lands_the_case_with_derived_fields_trail_and_audit(session, world,
                                                                      agreed) -> None:  # type: ignore[no-untyped-def]
    deal = lf.record(session, world, agreed)
    session.refresh(agreed)
    assert agreed.state == "landed"
    assert (deal.case_id, deal.achievement_id, deal.demand_id) == (
        agreed.id, world.achievement.id, None)
    assert deal.institution_id == world.tto.record.id
    assert deal.enterprise_id == world.buyer.record.id
    assert deal.field_code == world.achievement.field_code
    assert (deal.seller_region_code, deal.landing_region_code) == ("110108", "120116")
    assert deal.broker_id == world.broker.id  # the case's broker is credited
    assert (deal.status, deal.amount_wan, deal.signed_on) == (
        "signed", Decimal("120.50"), lf.SIGNED_ON)
    assert deal.created_by_id == world.buyer.user.id
    assert [(p.role, p.organisation_id) for p in deal.parties] == [
        ("seller", world.tto.org.id), ("buyer", world.buyer.org.id)]
    assert [(m.kind, m.planned_on) for m in deal.milestones] == [("pilot", dt.date(2026, 9, 30))]
    *_, recorded, landed = agreed.events
    assert (recorded.kind, recorded.action, recorded.actor_id) == (
        "deal", "record", world.buyer.user.id)
    assert recorded.detail["deal_id"] == deal.id
    assert (landed.kind, landed.action, landed.from_state, landed.to_state) == (
        "transition", "land", "agreed", "landed")
    assert landed.actor_id is None and landed.detail == {"deal_id": deal.id}  # the system's step
    (line,) = _audit(session, "deals.record")
    assert line.object_id == str(deal.id) and line.actor_id == world.buyer.user.id
    assert line.detail["broker_id"] == world.broker.id
    assert _audit(session, "cases.transition")[-1].detail == {
        "action": "land", "from": "agreed", "to": "landed"}


@pytest.mark.parametrize("who", ["tto", "broker", "operator"])
def test_owner_broker_and_staff_may_record_too(session, world, agreed, who) -> None:  # type: ignore[no-untyped-def]
    deal = lf.record(session, world, agreed, by=getattr(world, who))
    assert deal.broker_id == world.broker.id


def test_the_system_actor_records_for_demo_data(session, world, agreed) -> None:  # type: ignore[no-untyped-def]
    deal = deals.record_deal(session, system_actor(), agreed.id, lf.deal_data(world))
    assert deal.created_by_id is None and deal.status == "signed"


def test_chinese_labels_and_an_equity_investment(session, world, agreed) -> None:  # type: ignore[no-untyped-def]
    data = lf.deal_data(world, category="技术许可", transfer_mode="作价投资",
                        equity={"share_pct": "12.5", "valuation_wan": "800",
                                "holder": "示范大学资产经营有限公司"})
    data["parties"][0]["role"], data["parties"][1]["party_type"] = "卖方", "企业"
    deal = deals.record_deal(session, actor_of(world.buyer), agreed.id, data)
    assert (deal.category, deal.transfer_mode) == ("license", "equity_investment")
    assert deal.equity == {"share_pct": "12.5", "valuation_wan": "800",
                           "holder": "示范大学资产经营有限公司"}
    assert [p.role for p in deal.parties] == ["seller", "buyer"]


def test_a_demand_case_derives_the_other_way_round(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    demand = df.published_demand(session, settings, world.buyer)
    case = cases.open_case(session, actor_of(world.tto), kind="demands", record_id=demand.id)
    for action in ("accept",):
        cases.transition(session, actor_of(world.buyer), case.id, action)
    cases.consent_contacts(session, actor_of(world.tto), case.id, name="李", email="a@b.cn")
    cases.consent_contacts(session, actor_of(world.buyer), case.id, name="王", email="c@d.cn")
    for action in ("negotiate", "agree"):
        cases.transition(session, actor_of(world.buyer), case.id, action)
    deal = deals.record_deal(session, actor_of(world.buyer), case.id,
                             lf.deal_data(world, category="development_commissioned"))
    assert (deal.achievement_id, deal.demand_id) == (None, demand.id)
    assert (deal.institution_id, deal.enterprise_id) == (world.tto.record.id,
                                                         world.buyer.record.id)
    assert deal.broker_id is None


# --- every rule on the input --------------------------------------------------------------

def _parties(world, roles: tuple[str, ...]) -> list[dict]:  # type: ignore[no-untyped-def]
    base = lf.deal_data(world)["parties"]
    return [{**base[i % 2], "role": role} for i, role in enumerate(roles)]


INVALID = {
    "bad category": lambda w: {"category": "赠与合同"},
    "no category": lambda w: {"category": ""},
    "amount zero": lambda w: {"amount_wan": "0"},
    "amount negative": lambda w: {"amount_wan": "-5"},
    "amount too large": lambda w: {"amount_wan": "10000000.01"},
    "amount fractions of a cent": lambda w: {"amount_wan": "1.001"},
    "future date": lambda w: {"signed_on": (today() + dt.timedelta(days=1)).isoformat()},
    "before 1990": lambda w: {"signed_on": "1989-12-31"},
    "15-digit registration no": lambda w: {"registration_no": "202611010800001"},
    "letters in registration no": lambda w: {"registration_no": "2026110108A00001"},
    "bad landing region": lambda w: {"landing_region_code": "990000"},
    "landing region not six digits": lambda w: {"landing_region_code": "1201"},
    "missing landing region": lambda w: {"landing_region_code": ""},
    "bad landed credit code": lambda w: {"landed_credit_code": "91120116MA05XXXX0Y"},
    "bad party credit code": lambda w: {"parties": [
        {**lf.deal_data(w)["parties"][0], "credit_code": "12110108LAKKF2QX70"},
        lf.deal_data(w)["parties"][1]]},
    "bad party region": lambda w: {"parties": [
        {**lf.deal_data(w)["parties"][0], "region_code": "119999"},
        lf.deal_data(w)["parties"][1]]},
    "missing seller": lambda w: {"parties": _parties(w, ("buyer", "buyer"))},
    "missing buyer": lambda w: {"parties": _parties(w, ("seller", "intermediary"))},
    "one party only": lambda w: {"parties": _parties(w, ("seller",))},
    "unknown party role": lambda w: {"parties": _parties(w, ("seller", "buyer", "guarantor"))},
    "equity missing for 作价投资": lambda w: {"transfer_mode": "作价投资"},
    "equity without 作价投资": lambda w: {"equity": {"share_pct": "10", "valuation_wan": "5",
                                                     "holder": "某公司"}},
    "equity share above 100": lambda w: {"transfer_mode": "equity_investment", "equity": {
        "share_pct": "120", "valuation_wan": "5", "holder": "某公司"}},
    "unknown transfer mode": lambda w: {"transfer_mode": "赠与"},
    "income above amount": lambda w: {"registered_income_wan": "120.51"},
    "negative income": lambda w: {"registered_income_wan": "-1"},
    "amount on a pilot milestone": lambda w: {"milestones": [
        {"kind": "pilot", "planned_on": "2026-09-30", "amount_wan": "5"}]},
    "milestone without dates": lambda w: {"milestones": [{"kind": "production"}]},
    "milestone achieved in the future": lambda w: {"milestones": [
        {"kind": "pilot", "achieved_on": (today() + dt.timedelta(days=3)).isoformat()}]},
    "derived broker_id": lambda w: {"broker_id": 1},
    "derived field_code": lambda w: {"field_code": "ai"},
    "derived institution_id": lambda w: {"institution_id": 1},
    "derived status": lambda w: {"status": "signed"},
    "blank title": lambda w: {"title": "  "},
}


@pytest.mark.parametrize("case_name", sorted(INVALID))
def test_every_rule_refuses_and_writes_nothing(session, world, agreed, case_name) -> None:  # type: ignore[no-untyped-def]
    before = _snapshot(session, agreed.id)
    with pytest.raises(ValidationFailed) as err:
        deals.record_deal(session, actor_of(world.buyer), agreed.id,
                          lf.deal_data(world, **INVALID[case_name](world)))
    assert err.value.status == 422 and err.value.data["problems"]
    assert _snapshot(session, agreed.id) == before


def test_messages_are_bilingual(session, world, agreed) -> None:  # type: ignore[no-untyped-def]
    for overrides in ({"registration_no": "202611010800001"}, {"amount_wan": "0"},
                      {"registered_income_wan": "999"}, {"transfer_mode": "作价投资"},
                      {"parties": _parties(world, ("buyer", "buyer"))},
                      {"landing_region_code": "990000"}):
        with pytest.raises(ValidationFailed) as err:
            deals.record_deal(session, actor_of(world.buyer), agreed.id,
                              lf.deal_data(world, **overrides))
        assert " / " in err.value.message, err.value.message


def test_a_duplicate_registration_number_is_a_conflict(session, settings, world, agreed) -> None:  # type: ignore[no-untyped-def]
    first = lf.record(session, world, agreed)
    other = df.docking_world(session, settings)
    case = df.open_and_advance(session, other, "agreed")
    before = _snapshot(session, case.id)
    with pytest.raises(Conflict) as err:
        lf.record(session, other, case, registration_no=first.registration_no)
    assert (err.value.status, err.value.code) == (409, "duplicate_registration_no")
    assert first.registration_no in err.value.message and " / " in err.value.message
    assert _snapshot(session, case.id) == before
    assert lf.record(session, other, case, registration_no=None).registration_no is None


# --- the state of the case ----------------------------------------------------------------

@pytest.mark.parametrize("state", [s for s in workflow.STATES if s not in ("agreed", "landed")])
def test_only_an_agreed_case_records_a_deal(session, world, state) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, state, close_from="negotiating")
    before = _snapshot(session, case.id)
    with pytest.raises(workflow.IllegalTransition) as err:
        lf.record(session, world, case, by=world.operator)
    assert (err.value.status, err.value.code) == (409, "illegal_transition")
    assert state in err.value.message and " / " in err.value.message
    assert _snapshot(session, case.id) == before


def test_a_landed_case_has_one_deal(session, world, agreed) -> None:  # type: ignore[no-untyped-def]
    lf.record(session, world, agreed)
    before = _snapshot(session, agreed.id)
    with pytest.raises(Conflict) as err:
        lf.record(session, world, agreed)
    assert (err.value.status, err.value.code) == (409, "deal_exists")
    assert _snapshot(session, agreed.id) == before


# --- who may record and read --------------------------------------------------------------

def test_outsiders_and_viewers_may_not_record_or_read(session, settings, world, agreed) -> None:  # type: ignore[no-untyped-def]
    outsiders = (df.enterprise_party(session, settings), df.institution_party(session, settings),
                 df.broker_user(session), df.viewer_user(session))
    before = _snapshot(session, agreed.id)
    for who in outsiders:
        with pytest.raises(NotFound):
            lf.record(session, world, agreed, by=who)
    with pytest.raises(NotAuthenticated):
        deals.record_deal(session, ANONYMOUS, agreed.id, lf.deal_data(world))
    assert _snapshot(session, agreed.id) == before
    deal = lf.record(session, world, agreed)
    for who in outsiders:
        with pytest.raises(NotFound):
            deals.get_deal_for(session, actor_of(who), deal.id)
        with pytest.raises(NotFound):
            deals.update_deal(session, actor_of(who), deal.id, {"note": "x"})
        with pytest.raises(NotFound):
            deals.cancel_deal(session, actor_of(who), deal.id, "x")
        assert deals.list_deals(session, actor_of(who)) == ([], 0)
    with pytest.raises(NotAuthenticated):
        deals.get_deal_for(session, ANONYMOUS, deal.id)
    with pytest.raises(NotFound):
        deals.get_deal_for(session, actor_of(world.buyer), deal.id + 1000)
    for who in (world.buyer, world.tto, world.broker, world.operator):
        assert deals.get_deal_for(session, actor_of(who), deal.id).id == deal.id


def test_the_credited_broker_stays_when_the_case_changes_hands(session, world, agreed) -> None:  # type: ignore[no-untyped-def]
    deal = lf.record(session, world, agreed)
    cases.assign_broker(session, actor_of(world.operator), agreed.id, None)
    session.refresh(deal)
    assert deal.broker_id == world.broker.id


# --- completing, milestones, cancelling ---------------------------------------------------

def test_the_registration_number_is_completed_later(session, world, agreed) -> None:  # type: ignore[no-untyped-def]
    deal = lf.record(session, world, agreed, registration_no=None, registered_income_wan=None)
    number = lf.registration_no()
    deals.update_deal(session, actor_of(world.tto), deal.id,
                      {"registration_no": f" {number} ", "registered_income_wan": "110"})
    session.refresh(deal)
    assert (deal.registration_no, deal.registered_income_wan) == (number, Decimal("110"))
    assert deal.landed_entity == world.buyer.record.name  # not sent: unchanged
    (line,) = _audit(session, "deals.update")
    assert line.detail == {"old": {"registered_income_wan": None, "registration_no": None},
                           "new": {"registered_income_wan": "110", "registration_no": number}}
    session.refresh(agreed)
    event = agreed.events[-1]
    assert (event.kind, event.detail) == ("deal_update", {
        "deal_id": deal.id, "fields": ["registered_income_wan", "registration_no"]})
    deals.update_deal(session, actor_of(world.tto), deal.id, {"registration_no": number})
    assert len(_audit(session, "deals.update")) == 1  # nothing changed, nothing written


def test_update_refusals_write_nothing(session, settings, world, agreed) -> None:  # type: ignore[no-untyped-def]
    other = df.docking_world(session, settings)
    taken = lf.record(session, other, df.open_and_advance(session, other, "agreed"))
    deal = lf.record(session, world, agreed)
    before = _snapshot(session, agreed.id)
    refusals = (({"registration_no": taken.registration_no}, Conflict),
                ({"registration_no": "123"}, ValidationFailed),
                ({"registered_income_wan": "120.51"}, ValidationFailed),
                ({"landed_credit_code": "91120116MA05XXXX0Y"}, ValidationFailed),
                ({"amount_wan": "1"}, ValidationFailed),  # not completable: a new contract
                ({"broker_id": world.operator.id}, ValidationFailed))
    for changes, error in refusals:
        with pytest.raises(error):
            deals.update_deal(session, actor_of(world.buyer), deal.id, changes)
    assert _snapshot(session, agreed.id) == before


def test_milestones(session, world, agreed) -> None:  # type: ignore[no-untyped-def]
    deal = lf.record(session, world, agreed, milestones=[])
    revenue = deals.add_milestone(session, actor_of(world.broker), deal.id, {
        "kind": "revenue", "achieved_on": "2026-04-01", "amount_wan": "35.5", "note": "首批"})
    assert (revenue.kind, revenue.amount_wan, revenue.recorded_by_id) == (
        "revenue", Decimal("35.5"), world.broker.id)
    with pytest.raises(ValidationFailed):
        deals.add_milestone(session, actor_of(world.broker), deal.id,
                            {"kind": "pilot", "planned_on": "2026-05-01", "amount_wan": "1"})
    session.refresh(deal)
    assert [m.kind for m in deal.milestones] == ["revenue"]
    assert _audit(session, "deals.milestone")[0].detail["amount_wan"] == "35.5"
    session.refresh(agreed)
    assert (agreed.events[-1].kind, agreed.events[-1].action) == ("milestone", "revenue")


def test_cancel_keeps_the_row_and_the_landed_case(session, world, agreed) -> None:  # type: ignore[no-untyped-def]
    deal = lf.record(session, world, agreed)
    with pytest.raises(ValidationFailed):
        deals.cancel_deal(session, actor_of(world.buyer), deal.id, "  ")
    deals.cancel_deal(session, actor_of(world.buyer), deal.id, "对方未按期付款，合同解除")
    session.refresh(deal)
    session.refresh(agreed)
    assert deal.status == "cancelled" and agreed.state == "landed"
    event = agreed.events[-1]
    assert (event.kind, event.note) == ("deal_cancel", "对方未按期付款，合同解除")
    assert _audit(session, "deals.cancel")[0].detail["reason"] == "对方未按期付款，合同解除"
    for call in (lambda: deals.cancel_deal(session, actor_of(world.buyer), deal.id, "again"),
                 lambda: deals.update_deal(session, actor_of(world.buyer), deal.id,
                                           {"note": "x"}),
                 lambda: deals.add_milestone(session, actor_of(world.buyer), deal.id,
                                             {"kind": "pilot", "planned_on": "2026-05-01"})):
        with pytest.raises(Conflict):
            call()
    assert deals.list_deals(session, actor_of(world.operator), status="signed") == ([], 0)
    assert deals.list_deals(session, actor_of(world.operator), status="cancelled")[1] == 1


# --- lists --------------------------------------------------------------------------------

def test_lists_are_scoped_and_filtered(session, settings, world, agreed) -> None:  # type: ignore[no-untyped-def]
    mine = lf.record(session, world, agreed, signed_on="2026-01-10")
    other = df.docking_world(session, settings)
    theirs = lf.record(session, other, df.open_and_advance(session, other, "agreed"),
                       signed_on="2026-02-20")
    ids = lambda actor, **kw: [d.id for d in deals.list_deals(session, actor, **kw)[0]]  # noqa: E731
    assert ids(actor_of(world.operator)) == [theirs.id, mine.id]  # latest signing first
    assert ids(actor_of(world.buyer)) == [mine.id] == ids(actor_of(world.tto))
    assert ids(actor_of(world.broker)) == [mine.id]
    assert ids(actor_of(other.buyer)) == [theirs.id]
    assert ids(actor_of(df.viewer_user(session))) == []
    staff = actor_of(world.operator)
    assert ids(staff, date_from=dt.date(2026, 2, 1)) == [theirs.id]
    assert ids(staff, date_to=dt.date(2026, 1, 10)) == [mine.id]
    assert ids(staff, per_page=1, page=2) == [mine.id]
    assert deals.list_deals(session, staff, per_page=1)[1] == 2
    with pytest.raises(ValidationFailed):
        deals.list_deals(session, staff, date_from=dt.date(2026, 3, 1),
                         date_to=dt.date(2026, 2, 1))
    with pytest.raises(ValidationFailed):
        deals.list_deals(session, staff, status="draft")
