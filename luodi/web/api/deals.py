"""API: deals (落地 · 成交) — record the deal of an agreed case, read, complete, cancel.

Handlers only shape what :mod:`luodi.landing.deals` returns; the service authorises, writes
the trail and the audit line, and commits. Request bodies are the service's own input models
(:mod:`luodi.landing.schemas`), which refuse unknown fields: the derived values — the broker
credited, the industry field, the institution and enterprise, the record, the seller's
region, the status — are never taken from a body. Amounts are numbers in 万元.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from luodi.docking.cases import MAX_NOTE
from luodi.landing import deals
from luodi.landing.models import Deal, DealParty, Milestone
from luodi.landing.schemas import DealInput, DealUpdate, MilestoneInput
from luodi.web.deps import CtxDep, UserCtx

router = APIRouter(tags=["landing"])


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=MAX_NOTE, description="Why the contract was cancelled")


class PartyOut(BaseModel):
    role: str = Field(description="seller | buyer | intermediary")
    name: str
    credit_code: str | None
    region_code: str
    party_type: str
    organisation_id: int | None = Field(description="Set when the party is a side of the case")


class MilestoneOut(BaseModel):
    id: int
    kind: str = Field(description="pilot | production | revenue")
    planned_on: dt.date | None
    achieved_on: dt.date | None
    amount_wan: float | None
    note: str | None
    recorded_at: dt.datetime


class DealOut(BaseModel):
    """A deal with its parties and milestones; the derived fields are read-only."""

    id: int
    case_id: int
    url: str
    case_url: str
    status: str = Field(description="signed | cancelled (left out of the statistics)")
    category: str
    title: str
    amount_wan: float
    signed_on: dt.date
    registration_no: str | None
    registered_income_wan: float | None
    transfer_mode: str | None
    equity: dict[str, Any] | None
    landed_entity: str | None
    landed_credit_code: str | None
    landing_region_code: str
    seller_region_code: str | None
    field_code: str | None
    achievement_id: int | None
    demand_id: int | None
    institution_id: int | None
    enterprise_id: int | None
    broker_id: int | None = Field(description="The broker credited with the landing")
    note: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    parties: list[PartyOut]
    milestones: list[MilestoneOut]


class DealListOut(BaseModel):
    items: list[DealOut]
    total: int
    page: int
    per_page: int


def _money(value: Any) -> float | None:
    return None if value is None else float(value)


def _party_out(row: DealParty) -> PartyOut:
    return PartyOut(role=row.role, name=row.name, credit_code=row.credit_code,
                    region_code=row.region_code, party_type=row.party_type,
                    organisation_id=row.organisation_id)


def milestone_out(row: Milestone) -> MilestoneOut:
    """One milestone as JSON."""
    return MilestoneOut(id=row.id, kind=row.kind, planned_on=row.planned_on,
                        achieved_on=row.achieved_on, amount_wan=_money(row.amount_wan),
                        note=row.note, recorded_at=row.recorded_at)


_COPIED = ("id", "case_id", "status", "category", "title", "signed_on", "registration_no",
           "transfer_mode", "equity", "landed_entity", "landed_credit_code",
           "landing_region_code", "seller_region_code", "field_code", "achievement_id",
           "demand_id", "institution_id", "enterprise_id", "broker_id", "note", "created_at",
           "updated_at")


def deal_out(deal: Deal) -> DealOut:
    """One deal as JSON (the pages' exports may reuse it)."""
    return DealOut(**{name: getattr(deal, name) for name in _COPIED},
                   url=f"/deals/{deal.id}", case_url=f"/cases/{deal.case_id}",
                   amount_wan=float(deal.amount_wan),
                   registered_income_wan=_money(deal.registered_income_wan),
                   parties=[_party_out(p) for p in deal.parties],
                   milestones=[milestone_out(m) for m in deal.milestones])


@router.post("/cases/{case_id}/deal", response_model=DealOut, status_code=201,
             summary="Record the deal of an agreed case (the case lands)")
def record_deal(case_id: int, body: DealInput, ctx: UserCtx) -> DealOut:
    return deal_out(deals.record_deal(ctx.session, ctx.actor, case_id, body))


@router.get("/deals", response_model=DealListOut,
            summary="The deals I may read (staff: all; parties and brokers: their cases')")
def list_deals(ctx: CtxDep, date_from: dt.date | None = None, date_to: dt.date | None = None,
               status: str | None = Query(None, description="signed | cancelled"),
               page: int = Query(1, ge=1, le=100000),
               per_page: int = Query(50, ge=1, le=deals.MAX_PER_PAGE)) -> DealListOut:
    items, total = deals.list_deals(ctx.session, ctx.actor, date_from=date_from,
                                    date_to=date_to, status=status, page=page,
                                    per_page=per_page)
    return DealListOut(items=[deal_out(d) for d in items], total=total, page=page,
                       per_page=per_page)


@router.get("/deals/{deal_id}", response_model=DealOut, summary="One deal")
def get_deal(deal_id: int, ctx: CtxDep) -> DealOut:
    return deal_out(deals.get_deal_for(ctx.session, ctx.actor, deal_id))


@router.patch("/deals/{deal_id}", response_model=DealOut,
              summary="Complete a deal: registration number, registered income, landed entity")
def update_deal(deal_id: int, body: DealUpdate, ctx: UserCtx) -> DealOut:
    return deal_out(deals.update_deal(ctx.session, ctx.actor, deal_id, body))


@router.post("/deals/{deal_id}/milestones", response_model=DealOut, status_code=201,
             summary="Add a milestone: pilot, production or revenue")
def add_milestone(deal_id: int, body: MilestoneInput, ctx: UserCtx) -> DealOut:
    milestone = deals.add_milestone(ctx.session, ctx.actor, deal_id, body)
    return deal_out(milestone.deal)


@router.post("/deals/{deal_id}/cancel", response_model=DealOut,
             summary="Cancel a deal with a reason (kept on record, left out of statistics)")
def cancel_deal(deal_id: int, body: CancelIn, ctx: UserCtx) -> DealOut:
    return deal_out(deals.cancel_deal(ctx.session, ctx.actor, deal_id, body.reason))
