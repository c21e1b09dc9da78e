"""Deals (成交): recording the contract an agreed case ends in, completing it, cancelling it.

:func:`record_deal` is the only way a case reaches ``landed``: it checks the case is
``agreed``, stores the deal with what the platform derives itself (the record, the institution
and enterprise, the industry field, the seller's region and the broker to credit), writes a
``deal`` line in the case's trail, and lets the system take the workflow's ``land`` step as
its own line — as :func:`luodi.docking.cases.consent_contacts` lets it take ``reveal``.

Who may do what follows the case (:mod:`luodi.auth.policy` ``deals.*``): its two parties, its
broker and staff read and write its deal; outsiders and government viewers get NotFound (the
viewers read the statistics of :mod:`luodi.landing.stats` instead). Every write is one
transaction with its trail line and audit line; a refusal writes nothing (:func:`atomic`).

A cancelled deal (合同解除) keeps its row and its case stays ``landed`` — the trail is never
rewritten — but its ``status`` is ``cancelled`` and the statistics leave it out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from luodi import audit
from luodi.auth.actor import Actor, system_actor
from luodi.auth.policy import authorize, can, is_staff
from luodi.docking import workflow
from luodi.docking.access import get_case_for
from luodi.docking.cases import _apply as apply_step  # the one way a step is written
from luodi.docking.cases import _clean_note, atomic
from luodi.docking.models import Case
from luodi.docking.trail import record_event
from luodi.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from luodi.inventory.models import Achievement, Demand, Enterprise, Institution
from luodi.landing.models import Deal, DealParty, Milestone
from luodi.landing.schemas import DealInput, DealUpdate, MilestoneInput, parse

__all__ = ["MAX_PER_PAGE", "DealInput", "DealUpdate", "MilestoneInput", "add_milestone",
           "cancel_deal", "deal_of_case", "get_deal_for", "list_deals", "may_record",
           "record_deal", "sides", "update_deal"]

MAX_PER_PAGE = 200


def may_record(actor: Actor, case: Case) -> bool:
    """Whether ``actor`` may record the deal of ``case`` now (the case page's form)."""
    return case.state == "agreed" and can(actor, "deals.record", case)


def _plain(value: Any) -> Any:
    """A value for the audit log and the trail (JSON): amounts and dates as text."""
    if isinstance(value, Decimal | dt.date):
        return str(value)
    return value


# --- recording ----------------------------------------------------------------------------

def _check_agreed(case: Case) -> None:
    if case.state == "landed":
        raise Conflict("该案件已登记成交 / This case already has a deal.",
                       code="deal_exists", data={"case_id": case.id})
    if case.state != "agreed":
        raise workflow.IllegalTransition(
            f"案件处于「{case.state}」状态，双方达成协议后才能登记成交 / A case in state "
            f"'{case.state}' cannot record a deal; the parties must reach an agreement first.",
            data={"state": case.state, "action": "land"})


def _check_registration_no(session: Session, number: str | None,
                           deal_id: int | None = None) -> None:
    """A 登记号 names one contract: refuse one already recorded on another deal."""
    if number is None:
        return
    other = session.scalar(select(Deal.id).where(Deal.registration_no == number))
    if other is not None and other != deal_id:
        raise Conflict(f"技术合同登记号 {number} 已登记在另一笔成交上 / Registration number "
                       f"{number} is already recorded on another deal.",
                       code="duplicate_registration_no", data={"field": "registration_no"})


def _org_record(session: Session, model: type[Institution] | type[Enterprise],
                org_id: int | None) -> Any:
    """The organisation's inventory record of this type (its first, if it registered two)."""
    if org_id is None:
        return None
    return session.scalar(select(model).where(model.organisation_id == org_id)
                          .order_by(model.id).limit(1))


def sides(session: Session, case: Case) -> dict[str, tuple[int | None, Any]]:
    """The case's seller and buyer: (organisation id, inventory record) for each.

    An achievement is sold by its institution to the interested enterprise; a demand is
    solved by the interested institution for the enterprise that posted it.
    """
    record: Any = case.record
    if case.kind == "achievements":
        seeker = _org_record(session, Enterprise, case.seeker_org_id)
        return {"seller": (case.owner_org_id, record.institution),
                "buyer": (case.seeker_org_id, seeker)}
    seeker = _org_record(session, Institution, case.seeker_org_id)
    return {"seller": (case.seeker_org_id, seeker), "buyer": (case.owner_org_id,
                                                              record.enterprise)}


def _is_side(party: Any, record: Any) -> bool:
    """A party is a side's inventory record when the credit code, or else the name, matches."""
    if record is None:
        return False
    if party.credit_code and record.credit_code:
        return bool(party.credit_code == record.credit_code)
    return bool(party.name == record.name)


def _parties(data: DealInput, known: dict[str, tuple[int | None, Any]]) -> list[DealParty]:
    rows = []
    for party in data.parties:
        org_id, record = known.get(party.role, (None, None))
        rows.append(DealParty(role=party.role, name=party.name, credit_code=party.credit_code,
                              region_code=party.region_code, party_type=party.party_type,
                              organisation_id=org_id if _is_side(party, record) else None))
    return rows


def _milestone(data: MilestoneInput, actor: Actor) -> Milestone:
    return Milestone(kind=data.kind, planned_on=data.planned_on, achieved_on=data.achieved_on,
                     amount_wan=data.amount_wan, note=data.note, recorded_by_id=actor.user_id)


def _new_deal(session: Session, actor: Actor, case: Case, data: DealInput) -> Deal:
    """The deal row: the input, plus what is derived from the case (never from the input)."""
    record: Achievement | Demand = case.record  # type: ignore[assignment]
    known = sides(session, case)
    deal = Deal(
        case_id=case.id, achievement_id=case.achievement_id, demand_id=case.demand_id,
        category=data.category, title=data.title, amount_wan=data.amount_wan,
        signed_on=data.signed_on, registration_no=data.registration_no,
        registered_income_wan=data.registered_income_wan, transfer_mode=data.transfer_mode,
        # Decimal strings in the JSON: exact, where floats would round a valuation.
        equity=data.equity.model_dump(mode="json") if data.equity else None,
        landed_entity=data.landed_entity, landed_credit_code=data.landed_credit_code,
        landing_region_code=data.landing_region_code, field_code=record.field_code,
        # Co-sellers are allowed; the flows between regions count from the first one named.
        seller_region_code=next(p.region_code for p in data.parties if p.role == "seller"),
        broker_id=case.broker_id,  # the broker at the time is credited with the landing
        institution_id=_record_id(known, Institution), enterprise_id=_record_id(known, Enterprise),
        status="signed", note=data.note,
        created_by_id=actor.user_id, parties=_parties(data, known),
        milestones=[_milestone(m, actor) for m in data.milestones])
    session.add(deal)
    try:
        session.flush()
    except IntegrityError:
        # Two requests raced past the checks: the unique constraints had the last word.
        raise Conflict("该案件或登记号已有成交记录 / This case or registration number already "
                       "has a deal.", code="deal_exists") from None
    return deal


def _record_id(known: dict[str, tuple[int | None, Any]],
               model: type[Institution] | type[Enterprise]) -> int | None:
    """The id of the side's inventory record of this type (institution or enterprise)."""
    return next((record.id for _org, record in known.values() if isinstance(record, model)),
                None)


def record_deal(session: Session, actor: Actor, case_id: int,
                data: DealInput | Mapping[str, Any]) -> Deal:
    """Record the deal (登记成交) of an agreed case; the case lands.

    Refusals: NotFound for those who may not read the case; 409 when the case is not
    ``agreed`` (or already has a deal) or the registration number is taken; 422 for input
    that breaks a rule (:class:`~luodi.landing.schemas.DealInput`). Nothing is written then.
    """
    with atomic(session):
        case = get_case_for(session, actor, case_id, for_update=True)
        authorize(session, actor, "deals.record", case)
        _check_agreed(case)
        clean = parse(DealInput, data)
        _check_registration_no(session, clean.registration_no)
        deal = _new_deal(session, actor, case, clean)
        record_event(session, case, actor, "deal", action="record",
                     detail={"deal_id": deal.id, "category": deal.category,
                             "amount_wan": _plain(deal.amount_wan)})
        system = system_actor(via=actor.via).with_addr(actor.client_addr)
        step = workflow.check(case.state, "land", frozenset({workflow.SYSTEM}))
        apply_step(session, system, case, step, note=None, detail={"deal_id": deal.id})
        audit.record(session, actor, "deals.record", obj=("deals", deal.id),
                     detail={"case_id": case.id, "category": deal.category,
                             "amount_wan": _plain(deal.amount_wan),
                             "broker_id": deal.broker_id})
        session.commit()
    return deal


# --- reading ------------------------------------------------------------------------------

def _case_of(session: Session, deal: Deal) -> Case:
    case = session.get(Case, deal.case_id)
    assert case is not None  # noqa: S101 — deals.case_id is a RESTRICT foreign key
    return case


def get_deal_for(session: Session, actor: Actor, deal_id: int, *,
                 for_update: bool = False) -> Deal:
    """The deal, if ``actor`` may read its case; NotFound otherwise (401 if anonymous)."""
    if not actor.is_authenticated:
        raise NotAuthenticated("Please log in first.")
    # An id beyond 64 bits names no row; the database would refuse it with an error instead.
    deal = session.get(Deal, deal_id, with_for_update=for_update or None) \
        if 0 < deal_id < 2**63 else None
    if deal is None or not can(actor, "deals.read", _case_of(session, deal)):
        raise NotFound("没有这笔成交 / No such deal.")
    return deal


def deal_of_case(session: Session, actor: Actor, case: Case) -> Deal | None:
    """The deal of a case the actor reads (None before one is recorded or to non-readers)."""
    if not can(actor, "deals.read", case):
        return None
    return session.scalar(select(Deal).where(Deal.case_id == case.id))


def _scope(actor: Actor) -> Any:
    """Deals of the cases a non-staff actor reads: its organisation's, and those it brokers.

    A government viewer's organisation is never a side of a case, so it sees no deal here:
    viewers read the aggregated statistics, not contracts.
    """
    conditions = []
    if actor.org_id is not None and actor.role != "viewer":
        conditions += [Case.seeker_org_id == actor.org_id, Case.owner_org_id == actor.org_id]
    if actor.role == "broker" and actor.user_id is not None:
        conditions.append(Case.broker_id == actor.user_id)
    return or_(*conditions) if conditions else false()


def list_deals(session: Session, actor: Actor, *, date_from: dt.date | None = None,
               date_to: dt.date | None = None, status: str | None = None, page: int = 1,
               per_page: int = 50) -> tuple[list[Deal], int]:
    """A page of the deals the actor may read, latest signing first, and their total.

    Staff see every deal; parties and brokers the deals of their cases (see :func:`_scope`).
    ``date_from``/``date_to`` bound the signing date (both inclusive); ``status`` is
    ``signed`` or ``cancelled`` (default: both). Parties and milestones load eagerly.
    """
    authorize(session, actor, "deals.list")
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed("开始日期晚于结束日期 / The start date is after the end date.",
                               data={"field": "date_from"})
    if status not in (None, "signed", "cancelled"):
        raise ValidationFailed(f"未知的状态「{status}」 / Unknown status '{status}'.",
                               data={"field": "status", "allowed": ["signed", "cancelled"]})
    stmt = select(Deal)
    if not is_staff(actor):
        stmt = stmt.join(Case, Case.id == Deal.case_id).where(_scope(actor))
    if date_from is not None:
        stmt = stmt.where(Deal.signed_on >= date_from)
    if date_to is not None:
        stmt = stmt.where(Deal.signed_on <= date_to)
    if status is not None:
        stmt = stmt.where(Deal.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page, per_page = max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)
    items = session.scalars(stmt.options(selectinload(Deal.parties),
                                         selectinload(Deal.milestones))
                            .order_by(Deal.signed_on.desc(), Deal.id.desc())
                            .offset((page - 1) * per_page).limit(per_page))
    return list(items), total


# --- completing, milestones, cancelling ---------------------------------------------------

def _writable(session: Session, actor: Actor, deal_id: int) -> tuple[Deal, Case]:
    """The deal, locked, if the actor may change it and it is not cancelled."""
    deal = get_deal_for(session, actor, deal_id, for_update=True)
    case = _case_of(session, deal)
    authorize(session, actor, "deals.update", case)
    if deal.status == "cancelled":
        raise Conflict("这笔成交已取消，不能再修改 / This deal is cancelled and cannot change.",
                       code="deal_cancelled", data={"deal_id": deal.id})
    return deal, case


def _changes(deal: Deal, clean: DealUpdate) -> dict[str, tuple[Any, Any]]:
    """Field → (old, new) for the fields sent that differ from the deal."""
    diff = {}
    for name in sorted(clean.model_fields_set):
        old, new = getattr(deal, name), getattr(clean, name)
        if old != new:
            diff[name] = (old, new)
    return diff


def update_deal(session: Session, actor: Actor, deal_id: int,
                changes: DealUpdate | Mapping[str, Any]) -> Deal:
    """Complete or correct a deal: registration number, registered income, landed entity, note.

    The 登记号 typically arrives weeks after signing. Only the fields sent change; the
    audit line keeps old and new values, the trail names the fields changed.
    """
    with atomic(session):
        deal, case = _writable(session, actor, deal_id)
        clean = parse(DealUpdate, changes)
        diff = _changes(deal, clean)
        if "registration_no" in diff:
            _check_registration_no(session, clean.registration_no, deal.id)
        income = clean.registered_income_wan if "registered_income_wan" in diff else None
        if income is not None and income > deal.amount_wan:
            raise ValidationFailed("登记技术交易额不能高于合同金额 / The registered technical "
                                   "income cannot exceed the contract amount.",
                                   data={"field": "registered_income_wan"})
        for name, (_old, new) in diff.items():
            setattr(deal, name, new)
        if diff:
            record_event(session, case, actor, "deal_update", action="update",
                         detail={"deal_id": deal.id, "fields": list(diff)})
            audit.record(session, actor, "deals.update", obj=("deals", deal.id), detail={
                "old": {k: _plain(v[0]) for k, v in diff.items()},
                "new": {k: _plain(v[1]) for k, v in diff.items()}})
        session.commit()
    return deal


def add_milestone(session: Session, actor: Actor, deal_id: int,
                  data: MilestoneInput | Mapping[str, Any]) -> Milestone:
    """Add a follow-up milestone (中试 / 量产 / 收入) to a deal that is not cancelled."""
    with atomic(session):
        deal, case = _writable(session, actor, deal_id)
        clean = parse(MilestoneInput, data)
        milestone = _milestone(clean, actor)
        deal.milestones.append(milestone)
        session.flush()
        record_event(session, case, actor, "milestone", action=clean.kind,
                     detail={"deal_id": deal.id, "milestone_id": milestone.id})
        audit.record(session, actor, "deals.milestone", obj=("deals", deal.id), detail={
            "milestone_id": milestone.id, "kind": clean.kind,
            "planned_on": _plain(clean.planned_on), "achieved_on": _plain(clean.achieved_on),
            "amount_wan": _plain(clean.amount_wan)})
        session.commit()
    return milestone


def cancel_deal(session: Session, actor: Actor, deal_id: int, reason: str) -> Deal:
    """Cancel a deal (合同解除) with a reason: kept on record, left out of the statistics.

    The case stays ``landed`` (nothing in a trail is undone); a cancelled deal cannot change.
    """
    with atomic(session):
        deal, case = _writable(session, actor, deal_id)
        text = _clean_note(reason, required=True, field="reason")
        deal.status = "cancelled"
        record_event(session, case, actor, "deal_cancel", action="cancel", note=text,
                     detail={"deal_id": deal.id})
        audit.record(session, actor, "deals.cancel", obj=("deals", deal.id),
                     detail={"case_id": case.id, "reason": text})
        session.commit()
    return deal
