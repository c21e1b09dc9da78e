"""The deal form (登记成交) of the case page, and the labels deal pages show.

The form is flat HTML fields (no script: the pages run under a strict CSP): one row per party
role and per milestone kind. :func:`form_to_input` turns the submitted fields into the JSON
shape :class:`luodi.landing.schemas.DealInput` validates, so the page and the API share every
rule. :func:`prefill` proposes the parties from the inventory records of the case's two sides
(seller: the owner's institution for an achievement; buyer: the seeker's enterprise).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from luodi.docking.models import Case
from luodi.errors import ValidationFailed
from luodi.inventory import codes
from luodi.inventory.models import Institution
from luodi.landing import deals
from luodi.landing.models import MILESTONES, PARTY_ROLES, PARTY_TYPES
from luodi.landing.schemas import today
from luodi.web.deps import Ctx
from luodi.web.labels import (
    DEAL_PARTY_ROLE_LABELS,
    DEAL_PARTY_TYPE_LABELS,
    DEAL_STATUS_LABELS,
    MILESTONE_LABELS,
)

__all__ = ["PLAIN_FIELDS", "deal_section", "deal_texts", "form_to_input", "prefill"]

# Fields sent as they are typed (blank: not given).
PLAIN_FIELDS = ("category", "title", "amount_wan", "signed_on", "registration_no",
                "registered_income_wan", "transfer_mode", "landed_entity", "landed_credit_code",
                "landing_region_code", "note")
PARTY_FIELDS = ("name", "credit_code", "region_code", "party_type")
MILESTONE_FIELDS = ("planned_on", "achieved_on", "amount_wan")
EQUITY_FIELDS = ("share_pct", "valuation_wan", "holder")
# An institution record's kind → the contract party's type.
INSTITUTION_TYPES = {"university": "university", "institute": "institute",
                     "hospital": "hospital"}


def _get(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    return text or None


def _parties(form: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One party per role row whose name is given; a blank row is no party."""
    rows = []
    for role in PARTY_ROLES:
        row = {name: _get(form, f"{role}_{name}") for name in PARTY_FIELDS}
        if row["name"]:
            rows.append({"role": role, **row, "party_type": row["party_type"] or "other"})
    return rows


def _milestones(form: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for kind in MILESTONES:
        row = {name: _get(form, f"{kind}_{name}") for name in MILESTONE_FIELDS}
        if any(row.values()):
            rows.append({"kind": kind, **row})
    return rows


def form_to_input(form: Mapping[str, Any]) -> dict[str, Any]:
    """The submitted deal form as the JSON shape of ``DealInput`` (validated by the service)."""
    data: dict[str, Any] = {name: _get(form, name) for name in PLAIN_FIELDS}
    data["title"] = data["title"] or ""
    equity = {name: _get(form, f"equity_{name}") for name in EQUITY_FIELDS}
    data["equity"] = equity if any(equity.values()) else None
    data["parties"] = _parties(form)
    data["milestones"] = _milestones(form)
    return data


def _party_values(role: str, record: Any) -> dict[str, str]:
    if record is None:
        return {}
    kind = INSTITUTION_TYPES.get(record.kind, "other") if isinstance(record, Institution) \
        else "enterprise"
    return {f"{role}_name": record.name, f"{role}_credit_code": record.credit_code or "",
            f"{role}_region_code": record.region_code or "", f"{role}_party_type": kind}


def prefill(session: Session, case: Case) -> dict[str, str]:
    """What the form proposes: the record's title, the two sides, and where the buyer is.

    The technology usually lands with the buyer, so its name, credit code and region are the
    proposed landed entity and landing region; people correct what differs.
    """
    sides = deals.sides(session, case)
    buyer = sides["buyer"][1]
    record: Any = case.record
    values = {"title": record.title if record is not None else "",
              "category": "transfer" if case.kind == "achievements"
              else "development_commissioned"}
    for role in ("seller", "buyer"):
        values.update(_party_values(role, sides[role][1]))
    if buyer is not None:
        values.update(landed_entity=buyer.name, landed_credit_code=buyer.credit_code or "",
                      landing_region_code=buyer.region_code or "")
    return values


def region_label(code: str | None, locale: str) -> str:
    """'天津市 · 滨海新区' for a code; the bare code when it is retired or unknown."""
    if not code:
        return ""
    try:
        return " · ".join(codes.region_chain(code, locale))
    except ValidationFailed:
        return code


def _vocab(enum: type[codes.LabelledEnum], code: str | None, locale: str) -> str:
    member = next((m for m in enum if m.value == code), None)
    return member.label(locale) if member is not None else (code or "")


def deal_texts(locale: str) -> dict[str, Any]:
    """Labels for deal templates: categories and modes from codes (zh/en), the rest gettext."""
    label: Callable[..., str] = partial(_vocab, locale=locale)
    return {
        "deal_categories": [(m.value, m.label(locale)) for m in codes.ContractCategory],
        "deal_modes": [(m.value, m.label(locale)) for m in codes.TransferMode],
        "category_label": partial(label, codes.ContractCategory),
        "mode_label": partial(label, codes.TransferMode),
        "region_label": partial(region_label, locale=locale),
        "party_roles": PARTY_ROLES, "party_types": PARTY_TYPES, "milestone_kinds": MILESTONES,
        "party_role_labels": DEAL_PARTY_ROLE_LABELS, "party_type_labels": DEAL_PARTY_TYPE_LABELS,
        "milestone_labels": MILESTONE_LABELS, "deal_status_labels": DEAL_STATUS_LABELS,
        "deal_today": today().isoformat(),
    }


def deal_section(ctx: Ctx, case: Case) -> dict[str, Any]:
    """What the case page's deal section needs: the form when it may be recorded, else the deal."""
    may_record = deals.may_record(ctx.actor, case)
    deal = deals.deal_of_case(ctx.session, ctx.actor, case) if case.state == "landed" else None
    return {"deal": deal, "may_record_deal": may_record,
            "deal_form": prefill(ctx.session, case) if may_record else {},
            **deal_texts(ctx.locale)}
