"""What differs between record kinds, in one table: model, schema, tiers, search columns."""

from __future__ import annotations

from dataclasses import dataclass

from luodi.db import Base
from luodi.errors import NotFound
from luodi.inventory.models import Achievement, Demand, Enterprise, Expert, Institution
from luodi.inventory.schemas import (
    AchievementIn,
    DemandIn,
    EnterpriseIn,
    ExpertIn,
    InstitutionIn,
)

# Disclosure tiers (分级披露): public teaser → detail (on accepted interest) → contact (after mutual
# consent). Fields not listed are public.
DETAIL, CONTACT = "detail", "contact"


@dataclass(frozen=True)
class Kind:
    """One record kind."""

    name: str  # URL and CLI name: achievements, demands, …
    model: type[Base]
    schema: type
    label_zh: str
    label_en: str
    title_attr: str
    indexed: bool  # has search_text / enrichment
    tiers: dict[str, str]
    # Fields only staff may set: ownership links and provenance.
    staff_only: frozenset[str] = frozenset({"source", "external_id", "provenance"})


KINDS: dict[str, Kind] = {
    "achievements": Kind(
        "achievements", Achievement, AchievementIn, "成果", "Achievements", "title", True,
        {"description": DETAIL, "contact_name": CONTACT, "contact_email": CONTACT,
         "contact_phone": CONTACT}),
    "demands": Kind(
        "demands", Demand, DemandIn, "需求", "Demands", "title", True,
        {"description": DETAIL, "contact_name": CONTACT, "contact_email": CONTACT,
         "contact_phone": CONTACT}),
    "enterprises": Kind(
        "enterprises", Enterprise, EnterpriseIn, "企业", "Enterprises", "name", False, {},
        frozenset({"source", "external_id", "provenance", "organisation_id", "credit_code"})),
    "institutions": Kind(
        "institutions", Institution, InstitutionIn, "机构", "Institutions", "name", False, {},
        frozenset({"source", "external_id", "provenance", "organisation_id"})),
    "experts": Kind(
        "experts", Expert, ExpertIn, "专家", "Experts", "name", False,
        {"email": CONTACT, "phone": CONTACT}),
}


def kind_of(name: str) -> Kind:
    """The :class:`Kind` called ``name`` or NotFound."""
    try:
        return KINDS[name]
    except KeyError:
        raise NotFound(f"Unknown record kind '{name}'.") from None
