"""Validated input for deals (成交): what is recorded when a case lands, and what comes later.

Only what people know from the contract is a field here. What the platform already knows —
the case's record, institution and enterprise, the industry field, the seller's region, the
credited broker — is derived by :mod:`luodi.landing.deals`, and ``extra="forbid"`` refuses a
body that tries to set it. Checks reuse :mod:`luodi.inventory.codes` (credit codes, GB/T 2260
region codes, contract categories, transfer modes) and speak Chinese and English like it.
:func:`parse` turns a pydantic error into one :class:`~luodi.errors.ValidationFailed` (422).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from luodi.errors import ValidationFailed
from luodi.inventory import codes
from luodi.inventory.records import validation_message
from luodi.landing.models import MILESTONES, PARTY_ROLES, PARTY_TYPES

__all__ = ["BEIJING", "EARLIEST", "MAX_AMOUNT", "DealInput", "DealUpdate", "EquityIn",
           "MilestoneInput", "PartyIn", "parse", "today"]

# Contracts are signed in China: "not in the future" means by the Beijing calendar, so a deal
# signed on a Beijing morning is not refused while UTC is still on the day before.
BEIJING = dt.timezone(dt.timedelta(hours=8), "UTC+8")
EARLIEST = dt.date(1990, 1, 1)  # before the technology-contract registration system as it is
MAX_AMOUNT = Decimal("10000000")  # 万元: 1,000 亿元, beyond any single technology contract
MAX_NOTE = 2000
CENT = Decimal("0.01")

# Chinese words people type for the codes (the codes are what is stored).
ROLE_ALIASES = {"卖方": "seller", "转让方": "seller", "买方": "buyer", "受让方": "buyer",
                "中介方": "intermediary", "中介": "intermediary"}
TYPE_ALIASES = {"高校": "university", "高等院校": "university", "科研院所": "institute",
                "研究院所": "institute", "企业": "enterprise", "医院": "hospital",
                "医疗卫生机构": "hospital", "个人": "individual", "其他": "other"}
MILESTONE_ALIASES = {"中试": "pilot", "量产": "production", "产业化": "production",
                     "收入": "revenue", "产生收入": "revenue"}


def today() -> dt.date:
    """Today's date in Beijing."""
    return dt.datetime.now(BEIJING).date()


def _text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A codes.* check for an optional value: blank is None, a refusal a pydantic error."""

    def run(value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return check(value)
        except ValidationFailed as exc:
            raise ValueError(exc.message) from None

    return run


def _required(check: Callable[[Any], Any], zh: str, en: str) -> Callable[[Any], Any]:
    optional = _optional(check)

    def run(value: Any) -> Any:
        clean = optional(value)
        if clean is None:
            raise ValueError(f"请填写{zh} / Please give the {en}.")
        return clean

    return run


def _choice(choices: tuple[str, ...], aliases: Mapping[str, str], zh: str,
            en: str) -> Callable[[Any], Any]:
    def run(value: Any) -> Any:
        text = str(value if value is not None else "").strip()
        code = aliases.get(text, text.lower())
        if code not in choices:
            raise ValueError(f"无法识别的{zh}「{text}」，可选 {'、'.join(choices)} / Unknown "
                             f"{en} '{text}'; expected one of {', '.join(choices)}.")
        return code

    return run


def _registration_no(value: Any) -> str | None:
    """A 技术合同登记号: exactly 16 digits (full-width digits and spaces are forgiven)."""
    if value is None:
        return None
    text = "".join(unicodedata.normalize("NFKC", str(value)).split())
    if not text:
        return None
    if len(text) != 16 or not text.isascii() or not text.isdigit():
        raise ValueError(f"技术合同登记号应为 16 位数字，收到「{text}」（{len(text)} 位） / A "
                         f"registration number has exactly 16 digits; got '{text}' "
                         f"({len(text)} characters).")
    return text


def _amount(*, zero: bool, what_zh: str, what_en: str) -> Callable[[Decimal], Decimal]:
    """An amount in 万元: positive (or ≥ 0), at most MAX_AMOUNT, in whole cents."""

    def run(value: Decimal) -> Decimal:
        low_ok = value >= 0 if zero else value > 0
        if not low_ok or value > MAX_AMOUNT:
            low = "≥ 0" if zero else "> 0"
            raise ValueError(f"{what_zh}应 {low} 且不超过 {MAX_AMOUNT} 万元 / The {what_en} "
                             f"must be {low} and at most {MAX_AMOUNT} (万元).")
        if value != value.quantize(CENT):
            raise ValueError(f"{what_zh}最多两位小数 / The {what_en} has at most two decimals.")
        return value

    return run


def _past_date(what_zh: str, what_en: str) -> Callable[[dt.date], dt.date]:
    def run(value: dt.date) -> dt.date:
        if value > today():
            raise ValueError(f"{what_zh}不能晚于今天 / The {what_en} cannot be in the future.")
        if value < EARLIEST:
            raise ValueError(f"{what_zh}不能早于 {EARLIEST} / The {what_en} cannot be before "
                             f"{EARLIEST}.")
        return value

    return run


def _share(value: Decimal) -> Decimal:
    if not 0 < value <= 100:
        raise ValueError("入股比例应大于 0 且不超过 100% / The share must be above 0 and at most "
                         "100%.")
    return value


Text = Annotated[str, BeforeValidator(_text)]
OptText = Annotated[str | None, BeforeValidator(lambda v: _text(v) or None)]
Category = Annotated[str, BeforeValidator(_required(
    lambda v: codes.ContractCategory.parse(v).value, "技术合同类别", "contract category"))]
Mode = Annotated[str | None, BeforeValidator(_optional(
    lambda v: codes.TransferMode.parse(v).value))]
Region = Annotated[str, BeforeValidator(_required(
    codes.validate_region_code, "行政区划代码", "region code"))]
CreditCode = Annotated[str | None, BeforeValidator(_optional(codes.validate_credit_code))]
RegistrationNo = Annotated[str | None, BeforeValidator(_registration_no)]
Amount = Annotated[Decimal, AfterValidator(_amount(zero=False, what_zh="合同金额",
                                                    what_en="contract amount"))]
Income = Annotated[Decimal | None, AfterValidator(_optional(_amount(
    zero=True, what_zh="登记技术交易额", what_en="registered technical income")))]
Revenue = Annotated[Decimal | None, AfterValidator(_optional(_amount(
    zero=False, what_zh="收入金额", what_en="revenue amount")))]
SignedOn = Annotated[dt.date, AfterValidator(_past_date("签订日期", "signing date"))]
AchievedOn = Annotated[dt.date | None, AfterValidator(_optional(_past_date(
    "实现日期", "date achieved")))]
SharePct = Annotated[Decimal, AfterValidator(_share)]
Note = Annotated[Annotated[str, Field(max_length=MAX_NOTE)] | None,
                 BeforeValidator(lambda v: _text(v) or None)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=20000)


class EquityIn(_In):
    """作价投资 terms: the share the technology buys, the valuation, and who holds the shares."""

    share_pct: SharePct = Field(description="Share of the landed entity, %")
    valuation_wan: Amount = Field(description="The technology's valuation, 万元")
    holder: Text = Field(min_length=1, max_length=200, description="Who holds the shares")


class PartyIn(_In):
    """A party to the contract: its role, name, credit code, region and type."""

    role: Annotated[str, BeforeValidator(_choice(PARTY_ROLES, ROLE_ALIASES, "合同方角色",
                                                 "party role"))]
    name: Text = Field(min_length=2, max_length=200)
    credit_code: CreditCode = None
    region_code: Region
    party_type: Annotated[str, BeforeValidator(_choice(PARTY_TYPES, TYPE_ALIASES, "主体类型",
                                                       "party type"))]


class MilestoneInput(_In):
    """A follow-up milestone (中试 / 量产 / 收入): planned and achieved dates; revenue's amount."""

    kind: Annotated[str, BeforeValidator(_choice(MILESTONES, MILESTONE_ALIASES, "里程碑类型",
                                                 "milestone kind"))]
    planned_on: dt.date | None = None
    achieved_on: AchievedOn = None
    amount_wan: Revenue = Field(None, description="Revenue only, 万元")
    note: Note = None

    @model_validator(mode="after")
    def _consistent(self) -> MilestoneInput:
        if self.amount_wan is not None and self.kind != "revenue":
            raise ValueError("只有「产生收入」里程碑有金额 / Only a revenue milestone has an "
                             "amount.")
        if self.planned_on is None and self.achieved_on is None:
            raise ValueError("请填写计划日期或实现日期 / Give a planned date or the date "
                             "achieved.")
        return self


class DealInput(_In):
    """A deal as recorded from an agreed case (登记成交)."""

    category: Category = Field(description=" | ".join(m.value for m in codes.ContractCategory))
    title: Text = Field(min_length=2, max_length=300, description="合同名称")
    amount_wan: Amount = Field(description="Contract amount, 万元")
    signed_on: SignedOn
    registration_no: RegistrationNo = Field(None, description="技术合同登记号, 16 digits")
    registered_income_wan: Income = Field(None, description="登记技术交易额, 万元")
    transfer_mode: Mode = Field(None, description=" | ".join(m.value for m in codes.TransferMode))
    equity: EquityIn | None = Field(None, description="Required with equity_investment")
    landed_entity: OptText = Field(None, max_length=200, description="落地主体")
    landed_credit_code: CreditCode = None
    landing_region_code: Region = Field(description="GB/T 2260 code where the deal lands")
    parties: list[PartyIn] = Field(max_length=20, description="At least a seller and a buyer")
    milestones: list[MilestoneInput] = Field(default_factory=list, max_length=20)
    note: Note = None

    @model_validator(mode="after")
    def _consistent(self) -> DealInput:
        if self.registered_income_wan is not None and self.registered_income_wan > \
                self.amount_wan:
            raise ValueError("登记技术交易额不能高于合同金额 / The registered technical income "
                             "cannot exceed the contract amount.")
        equity_mode = self.transfer_mode == codes.TransferMode.EQUITY_INVESTMENT.value
        if equity_mode and self.equity is None:
            raise ValueError("作价投资须填写入股比例、作价金额和持股方 / An equity investment "
                             "needs its share, valuation and holder.")
        if self.equity is not None and not equity_mode:
            raise ValueError("只有作价投资填写股权信息 / Equity terms go with an equity "
                             "investment only.")
        roles = {p.role for p in self.parties}
        if not {"seller", "buyer"} <= roles:
            raise ValueError("合同方至少要有一个卖方和一个买方 / The parties need at least one "
                             "seller and one buyer.")
        return self


class DealUpdate(_In):
    """What is completed after signing: the 登记号 arrives weeks later, the entity is formed.

    Only the fields sent change; sending null clears one.
    """

    registration_no: RegistrationNo = None
    registered_income_wan: Income = None
    landed_entity: OptText = Field(None, max_length=200)
    landed_credit_code: CreditCode = None
    note: Note = None


Model = TypeVar("Model", bound=BaseModel)


def parse(model: type[Model], data: Model | Mapping[str, Any]) -> Model:
    """``data`` as ``model`` (an instance passes through); a refusal is one 422 with problems."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        message, problems = validation_message(exc)
        raise ValidationFailed(message, data={"problems": problems}) from None
