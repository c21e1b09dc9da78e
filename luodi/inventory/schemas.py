"""Validated input for each record kind (pydantic). Used by the API, the pages and the importer.

Domain checks (credit code, region code, TRL, vocabularies) come from :mod:`luodi.inventory.codes`;
their bilingual messages become the ``reason`` of an import row error or an API 422.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from luodi.errors import ValidationFailed
from luodi.inventory import codes
from luodi.inventory.taxonomy import active_taxonomy

_SPLIT = re.compile(r"[;；,，、|\n]+")


def _domain(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Turn a codes.* validator's ValidationFailed into the ValueError pydantic expects."""

    def run(value: Any) -> Any:
        if value is None or value == "":
            return None
        try:
            return check(value)
        except ValidationFailed as exc:
            raise ValueError(exc.message) from None

    return run


def _split_list(value: Any) -> Any:
    """Lists arrive from files as 'a；b、c'; from JSON as real lists."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in _SPLIT.split(value) if part.strip()]
    return value


def _field_code(value: Any) -> str | None:
    """Accept a field code, or its Chinese or English name."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    for field in active_taxonomy():
        if text in (field.code, field.name_zh, field.name_en) or text.casefold() == field.code:
            return field.code
    choices = "、".join(f.name_zh for f in active_taxonomy())
    raise ValueError(f"未知的行业领域 '{text}'，可选 {choices} / Unknown industry field '{text}'.")


def _modes(values: list[str]) -> list[str]:
    return list(dict.fromkeys(codes.TransferMode.parse(v).value for v in values))


def _quals(values: list[str]) -> list[str]:
    return list(dict.fromkeys(codes.Qualification.parse(v).value for v in values))


def _clean_text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


Text = Annotated[str, BeforeValidator(_clean_text)]
OptText = Annotated[str | None, BeforeValidator(lambda v: _clean_text(v) or None)]
Region = Annotated[str | None, BeforeValidator(_domain(codes.validate_region_code))]
CreditCode = Annotated[str | None, BeforeValidator(_domain(codes.validate_credit_code))]
Trl = Annotated[int | None, BeforeValidator(_domain(codes.validate_trl))]
FieldCode = Annotated[str | None, BeforeValidator(_field_code)]
StrList = Annotated[list[Annotated[str, Field(max_length=200)]], BeforeValidator(_split_list),
                    Field(max_length=50)]
Modes = Annotated[list[str], BeforeValidator(_split_list),
                  AfterValidator(_domain(_modes)), Field(max_length=6)]
Money = Annotated[Decimal | None, Field(ge=0, le=Decimal("1e11"), decimal_places=2)]
# The constraints sit on the str inside the union: on ``str | None`` itself pydantic would try
# them on None too (a blank contact cleaned to None) and fail with a TypeError, not a 422.
Email = Annotated[
    Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None,
    BeforeValidator(lambda v: _clean_text(v) or None)]
Phone = Annotated[
    Annotated[str, Field(max_length=40, pattern=r"^[0-9+\-() 转ext.]{5,40}$")] | None,
    BeforeValidator(lambda v: _clean_text(v) or None)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=20000)

    source: str = Field("manual", max_length=80)
    external_id: OptText = Field(None, max_length=120)
    provenance: OptText = None
    review_due_on: dt.date | None = None
    expires_on: dt.date | None = None


class IpItem(BaseModel):
    """An IP right behind an achievement (专利号, type, status, dates)."""

    model_config = ConfigDict(extra="forbid")
    number: str = Field(min_length=1, max_length=60)
    kind: Literal["invention", "utility_model", "design", "software", "pct", "foreign",
                  "other"] = "invention"
    status: Literal["pending", "granted", "expired", "lapsed"] = "pending"
    filed_on: dt.date | None = None
    granted_on: dt.date | None = None
    expires_on: dt.date | None = None


UserStatus = Literal["draft", "published", "withdrawn"]


class AchievementIn(_In):
    """An achievement as an institution or operator submits it."""

    title: Text = Field(min_length=2, max_length=300)
    summary: OptText = Field(None, max_length=5000)
    description: OptText = None
    keywords: StrList = []
    field_code: FieldCode = None
    trl: Trl = None
    ip_items: list[IpItem] = Field(default_factory=list, max_length=100)
    institution_id: int | None = None
    inventors: StrList = []
    transfer_modes: Modes = []
    price_wan: Money = None
    price_note: OptText = Field(None, max_length=200)
    region_code: Region = None
    status: UserStatus = "draft"
    contact_name: OptText = Field(None, max_length=100)
    contact_email: Email = None
    contact_phone: Phone = None


class DemandIn(_In):
    """A technology demand as an enterprise or operator submits it."""

    title: Text = Field(min_length=2, max_length=300)
    summary: OptText = Field(None, max_length=5000)
    description: OptText = None
    keywords: StrList = []
    enterprise_id: int | None = None
    field_code: FieldCode = None
    trl_wanted: Trl = None
    budget_min_wan: Money = None
    budget_max_wan: Money = None
    deadline: dt.date | None = None
    cooperation_modes: Modes = []
    region_code: Region = None
    confidential: bool = False
    status: UserStatus = "draft"
    contact_name: OptText = Field(None, max_length=100)
    contact_email: Email = None
    contact_phone: Phone = None

    @model_validator(mode="after")
    def _budget_order(self) -> DemandIn:
        if (self.budget_min_wan is not None and self.budget_max_wan is not None
                and self.budget_min_wan > self.budget_max_wan):
            raise ValueError("预算下限高于上限 / The budget minimum exceeds the maximum.")
        return self


class EnterpriseIn(_In):
    """An enterprise record."""

    name: Text = Field(min_length=2, max_length=200)
    name_en: OptText = Field(None, max_length=200)
    credit_code: CreditCode = None
    region_code: Region = None
    industry_code: OptText = Field(None, pattern=r"^[A-T](\d{2,4})?$")  # GB/T 4754-2017
    size: Annotated[str | None, BeforeValidator(_domain(lambda v: codes.EnterpriseSize.parse(v).value))] = None  # noqa: E501
    qualifications: Annotated[list[str], BeforeValidator(_split_list),
                              AfterValidator(_domain(_quals))] = []
    profile: OptText = None
    organisation_id: int | None = None


class InstitutionIn(_In):
    """An institution record."""

    name: Text = Field(min_length=2, max_length=200)
    name_en: OptText = Field(None, max_length=200)
    kind: Literal["university", "institute", "hospital", "enterprise_lab", "other"] = "university"
    country: str = Field("CN", pattern=r"^[A-Z]{2}$")
    region_code: Region = None
    credit_code: CreditCode = None
    website: OptText = Field(None, max_length=300, pattern=r"^https?://")
    profile: OptText = None
    organisation_id: int | None = None

    @field_validator("kind", mode="before")
    @classmethod
    def _kind_labels(cls, value: Any) -> Any:
        labels = {"高校": "university", "大学": "university", "科研院所": "institute",
                  "研究所": "institute", "研究院": "institute", "医院": "hospital",
                  "企业研发机构": "enterprise_lab", "其他": "other"}
        return labels.get(str(value).strip(), value) if value else "university"


class ExpertIn(_In):
    """An expert profile."""

    name: Text = Field(min_length=1, max_length=100)
    title: OptText = Field(None, max_length=60)
    institution_id: int | None = None
    affiliation: OptText = Field(None, max_length=200)
    skills: StrList = []
    publications: StrList = []
    email: Email = None
    phone: Phone = None
    field_code: FieldCode = None
    consent: Literal["none", "granted", "withdrawn"] = "none"


SCHEMAS: dict[str, type[_In]] = {
    "achievements": AchievementIn, "demands": DemandIn, "enterprises": EnterpriseIn,
    "institutions": InstitutionIn, "experts": ExpertIn,
}
