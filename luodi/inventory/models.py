"""Inventory records (清单): institutions, enterprises, experts, achievements, demands.

Institutions and enterprises are inventory records that may or may not have accounts on the
platform; ``organisation_id`` links a record to the account organisation that owns and edits it.
Every record keeps its source and external id (re-imports update instead of duplicating), review
and expiry dates (freshness), and the derived index text and enrichment stored beside the original.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from luodi.db import Base, PortableJSON, UTCDateTime, utcnow


class Tracked:
    """Columns every inventory record has: provenance, freshness and bookkeeping."""

    source: Mapped[str] = mapped_column(String(80), default="manual")
    external_id: Mapped[str | None] = mapped_column(String(120))
    provenance: Mapped[str | None] = mapped_column(Text)  # where the data came from, in words
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)  # demo data written by us
    review_due_on: Mapped[dt.date | None] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @declared_attr
    def created_by_id(cls) -> Mapped[int | None]:  # noqa: N805
        return mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Indexed:
    """Derived columns written by enrichment on save; never typed by users."""

    search_text: Mapped[str] = mapped_column(Text, default="")  # segmented, simplified, public only
    # Keywords found by enrichment, kept apart from the owner's own so a re-import can tell
    # whether the owner's data changed.
    auto_keywords: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    language: Mapped[str] = mapped_column(String(8), default="zh")
    field_suggested: Mapped[str | None] = mapped_column(String(40))
    field_confidence: Mapped[float | None] = mapped_column(Float)
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)


class Listing:
    """What achievements and demands share: the public teaser, the confidential tiers, status."""

    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text)  # public teaser
    description: Mapped[str | None] = mapped_column(Text)  # detail tier (confidential)
    keywords: Mapped[list[str]] = mapped_column(PortableJSON, default=list)  # the owner's own
    field_code: Mapped[str | None] = mapped_column(String(40), index=True)
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    status_before_expiry: Mapped[str | None] = mapped_column(String(16))
    contact_name: Mapped[str | None] = mapped_column(String(100))  # contact tier
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))


class Party:
    """What institutions and enterprises share: names, registration, region, account link."""

    name: Mapped[str] = mapped_column(String(200), index=True)
    name_en: Mapped[str | None] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    profile: Mapped[str | None] = mapped_column(Text)

    @declared_attr
    def organisation_id(cls) -> Mapped[int | None]:  # noqa: N805
        return mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"), index=True)

    @property
    def owner_org_id(self) -> int | None:
        """The account organisation that may edit this record."""
        return self.organisation_id


class Institution(Party, Tracked, Base):
    """A university, institute or hospital that owns achievements (高校院所)."""

    __tablename__ = "institutions"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="university")
    country: Mapped[str] = mapped_column(String(2), default="CN")  # ISO 3166-1 alpha-2
    website: Mapped[str | None] = mapped_column(String(300))


class Enterprise(Party, Tracked, Base):
    """An enterprise (企业) with its unified social credit code (GB 32100-2015)."""

    __tablename__ = "enterprises"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    industry_code: Mapped[str | None] = mapped_column(String(5))  # GB/T 4754-2017
    size: Mapped[str | None] = mapped_column(String(10))
    qualifications: Mapped[list[str]] = mapped_column(PortableJSON, default=list)


class Expert(Tracked, Base):
    """An expert's profile (专家). Shown to others only with consent; contacts stay private."""

    __tablename__ = "experts"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str | None] = mapped_column(String(60))  # 职称
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="SET NULL"), index=True)
    affiliation: Mapped[str | None] = mapped_column(String(200))  # when not a listed institution
    skills: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    publications: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    field_code: Mapped[str | None] = mapped_column(String(40))
    consent: Mapped[str] = mapped_column(String(12), default="none")  # none | granted | withdrawn
    consent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    institution: Mapped[Institution | None] = relationship()

    owner_org_id = None  # experts are personal: the expert's own user, not an organisation


class Achievement(Listing, Tracked, Indexed, Base):
    """A technology achievement (成果): a patent, result or prototype offered for transfer."""

    __tablename__ = "achievements"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trl: Mapped[int | None] = mapped_column(Integer, index=True)
    ip_items: Mapped[list[dict[str, Any]]] = mapped_column(PortableJSON, default=list)
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="RESTRICT"), index=True)
    inventors: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    transfer_modes: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    price_wan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # indicative, 万元
    price_note: Mapped[str | None] = mapped_column(String(200))

    institution: Mapped[Institution | None] = relationship()

    @property
    def owner_org_id(self) -> int | None:
        """The owning institution's account organisation."""
        return self.institution.organisation_id if self.institution else None


class Demand(Listing, Tracked, Indexed, Base):
    """An enterprise's technology demand (需求 / 难题 / 场景需求)."""

    __tablename__ = "demands"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True)
    trl_wanted: Mapped[int | None] = mapped_column(Integer)  # the least maturity that helps
    budget_min_wan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    budget_max_wan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    cooperation_modes: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)  # hides the enterprise too

    enterprise: Mapped[Enterprise | None] = relationship()

    @property
    def owner_org_id(self) -> int | None:
        """The posting enterprise's account organisation."""
        return self.enterprise.organisation_id if self.enterprise else None


class DuplicateFlag(Base):
    """A likely near-duplicate pair, flagged for an operator's review; never merged silently."""

    __tablename__ = "duplicate_flags"
    __table_args__ = (UniqueConstraint("kind", "record_id", "other_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # achievements | demands
    record_id: Mapped[int] = mapped_column(Integer, index=True)  # the newer record
    other_id: Mapped[int] = mapped_column(Integer)
    similarity: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | distinct | duplicate
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class MappingProfileRecord(Base):
    """A named import mapping profile (导入映射方案), stored as the profile's plain dict."""

    __tablename__ = "mapping_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    spec: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ImportRun(Base):
    """One import (or dry run): what file, by whom, and what came of it."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(80))
    mapping: Mapped[str | None] = mapped_column(String(80))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    strict: Mapped[bool] = mapped_column(Boolean, default=False)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    committed: Mapped[bool] = mapped_column(Boolean, default=False)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(PortableJSON, default=list)  # first 1000
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reminder(Base):
    """A reminder to a record's owner (e.g. expiry coming up); one per record, kind and date."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("kind", "record_kind", "record_id", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # expiry_soon | expired
    record_kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[int] = mapped_column(Integer)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    due_on: Mapped[dt.date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
