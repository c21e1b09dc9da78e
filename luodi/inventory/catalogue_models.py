"""Catalogues (清单): named, versioned collections of achievements or demands.

The working set (``CatalogueItem``) is edited freely while a catalogue is a draft; publishing
freezes it into an immutable ``CatalogueVersion`` snapshot. Later edits reopen a draft, and the
next publication becomes version n+1. Every transition is a ``CatalogueEvent``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from luodi.db import Base, PortableJSON, UTCDateTime, utcnow


class Catalogue(Base):
    """A named list such as 2026年第一批重点成果供给清单 or 津冀技术需求清单."""

    __tablename__ = "catalogues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # achievements | demands
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="draft")  # draft|in_review|published
    published_version: Mapped[int | None] = mapped_column(Integer)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    items: Mapped[list[CatalogueItem]] = relationship(
        back_populates="catalogue", cascade="all, delete-orphan",
        order_by="CatalogueItem.position")
    versions: Mapped[list[CatalogueVersion]] = relationship(
        back_populates="catalogue", cascade="all, delete-orphan",
        order_by="CatalogueVersion.number")


class CatalogueItem(Base):
    """One record in a catalogue's working set."""

    __tablename__ = "catalogue_items"
    __table_args__ = (UniqueConstraint("catalogue_id", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    catalogue_id: Mapped[int] = mapped_column(ForeignKey("catalogues.id", ondelete="CASCADE"),
                                              index=True)
    record_id: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(String(300))

    catalogue: Mapped[Catalogue] = relationship(back_populates="items")


class CatalogueVersion(Base):
    """A frozen publication: the items and their public fields as they were when published."""

    __tablename__ = "catalogue_versions"
    __table_args__ = (UniqueConstraint("catalogue_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    catalogue_id: Mapped[int] = mapped_column(ForeignKey("catalogues.id", ondelete="CASCADE"),
                                              index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    snapshot: Mapped[list[dict[str, Any]]] = mapped_column(PortableJSON)
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    catalogue: Mapped[Catalogue] = relationship(back_populates="versions")


class CatalogueEvent(Base):
    """A transition or edit of a catalogue (created, item added, submitted, published…)."""

    __tablename__ = "catalogue_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    catalogue_id: Mapped[int] = mapped_column(ForeignKey("catalogues.id", ondelete="CASCADE"),
                                              index=True)
    action: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
