"""Landing records (落地): the deal that closes a docking case, its parties and milestones.

A :class:`Deal` is the technology contract a case ended in: its category as the technology
contract registration (技术合同认定登记) knows it, amount, signing date, the parties with their
GB/T 2260 region codes, the registration number and registered technical income when known,
the transfer mode (and equity terms for 作价投资), the landed entity and where it landed. The
statistics (:mod:`luodi.landing.stats`) read these rows and the case trail, nothing else.
Amounts are in 万元 (10,000 CNY), like prices and budgets in the inventory.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from luodi.db import Base, PortableJSON, UTCDateTime, utcnow

# 技术合同登记 categories (luodi.inventory.codes.ContractCategory): technology development
# (commissioned / cooperative), transfer, licensing, consulting, services.
CATEGORIES = ("development_commissioned", "development_cooperative", "transfer", "license",
              "consulting", "service")
PARTY_ROLES = ("seller", "buyer", "intermediary")  # 卖方 / 买方 / 中介方
PARTY_TYPES = ("university", "institute", "enterprise", "hospital", "individual", "other")
MILESTONES = ("pilot", "production", "revenue")  # 中试 / 量产 / 产生收入


class Deal(Base):
    """A deal (成交) — the technology contract that closes a docking case."""

    __tablename__ = "deals"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"),
                                         unique=True)
    achievement_id: Mapped[int | None] = mapped_column(
        ForeignKey("achievements.id", ondelete="SET NULL"), index=True)
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demands.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(String(30), index=True)  # CATEGORIES
    title: Mapped[str] = mapped_column(String(300))  # 合同名称
    amount_wan: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # contract value, 万元
    signed_on: Mapped[dt.date] = mapped_column(Date, index=True)
    registration_no: Mapped[str | None] = mapped_column(String(16), unique=True)  # 16 digits
    registered_income_wan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 技术交易额
    transfer_mode: Mapped[str | None] = mapped_column(String(30))  # inventory TransferMode
    equity: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)  # 作价投资 terms
    field_code: Mapped[str | None] = mapped_column(String(40), index=True)  # from the record
    landed_entity: Mapped[str | None] = mapped_column(String(200))  # 落地主体
    landed_credit_code: Mapped[str | None] = mapped_column(String(18))
    landing_region_code: Mapped[str] = mapped_column(String(6), index=True)  # GB/T 2260
    seller_region_code: Mapped[str | None] = mapped_column(String(6))  # the owner's, for flows
    broker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                  index=True)  # credited 技术经理人
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="SET NULL"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprises.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="signed")  # signed | cancelled
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parties: Mapped[list[DealParty]] = relationship(
        back_populates="deal", cascade="all, delete-orphan", order_by="DealParty.id")
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="deal", cascade="all, delete-orphan", order_by="Milestone.id")


class DealParty(Base):
    """A party to a deal's contract: role, name, credit code, region and type."""

    __tablename__ = "deal_parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(12))  # PARTY_ROLES
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    region_code: Mapped[str] = mapped_column(String(6))
    party_type: Mapped[str] = mapped_column(String(12))  # PARTY_TYPES
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"))

    deal: Mapped[Deal] = relationship(back_populates="parties")


class Milestone(Base):
    """A follow-up milestone of a deal (中试 / 量产 / 收入): dates and, for revenue, amount."""

    __tablename__ = "deal_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # MILESTONES
    planned_on: Mapped[dt.date | None] = mapped_column(Date)
    achieved_on: Mapped[dt.date | None] = mapped_column(Date)
    amount_wan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    deal: Mapped[Deal] = relationship(back_populates="milestones")
