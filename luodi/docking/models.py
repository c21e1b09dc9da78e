"""Docking records (对接): cases and their trail, messages, meetings, NDAs and dossier files,
stalled-case reminders, and docking events (对接会 / 路演) with their 1:1 meetings.

A :class:`Case` links one achievement (or one demand) with the party that showed interest (the
*seeker*) and the party that owns the record (the *owner*). Its state changes only through the
table in :mod:`luodi.docking.workflow`; every change, note, consent and file is a
:class:`CaseEvent`, never updated or deleted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from luodi.db import Base, PortableJSON, UTCDateTime, utcnow
from luodi.inventory.models import Achievement, Demand


class Case(Base):
    """A docking case (对接案例): one record, the interested party and the owner."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # achievements | demands: what is docked
    achievement_id: Mapped[int | None] = mapped_column(
        ForeignKey("achievements.id", ondelete="RESTRICT"), index=True)
    demand_id: Mapped[int | None] = mapped_column(
        ForeignKey("demands.id", ondelete="RESTRICT"), index=True)
    # The organisation that showed interest, and the one that owns the record.
    seeker_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    owner_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    push_id: Mapped[int | None] = mapped_column(ForeignKey("pushes.id", ondelete="SET NULL"))
    broker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                  index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    closed_reason: Mapped[str | None] = mapped_column(Text)
    # Mutual consent to exchange contacts: each side's consent, and the contact it shares.
    seeker_consent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    owner_consent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    seeker_contact: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)
    owner_contact: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)
    nda_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # dossier files open after
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_event_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    achievement: Mapped[Achievement | None] = relationship()
    demand: Mapped[Demand | None] = relationship()
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan")

    @property
    def record(self) -> Achievement | Demand | None:
        """The docked record."""
        return self.achievement if self.kind == "achievements" else self.demand


class CaseEvent(Base):
    """One line of a case's trail: a transition, a note, a consent, a file, a meeting…"""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str | None] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(20))  # transition|note|consent|nda|file|meeting|broker
    action: Mapped[str | None] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)
    # Broker notes are for the broker and operators only; everything else is for both parties.
    internal: Mapped[bool] = mapped_column(Boolean, default=False)

    case: Mapped[Case] = relationship(back_populates="events")


class CaseMessage(Base):
    """A message between the parties of a case (and its broker)."""

    __tablename__ = "case_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_label: Mapped[str] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Meeting(Base):
    """A meeting of a case: when, where (a place or an online link), and its iCalendar identity."""

    __tablename__ = "case_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    uid: Mapped[str] = mapped_column(String(80), unique=True)  # iCalendar UID
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # bumped on every change (RFC 5545)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    place: Mapped[str | None] = mapped_column(String(300))
    online_url: Mapped[str | None] = mapped_column(String(500))
    agenda: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="scheduled")  # scheduled|held|cancelled
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DossierFile(Base):
    """A file of a case's dossier (尽调资料); readable only after an NDA is recorded."""

    __tablename__ = "case_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_as: Mapped[str] = mapped_column(String(120))  # name under data_dir/dossiers
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseReminder(Base):
    """A reminder that a case has had no event for a while, to its broker or an operator."""

    __tablename__ = "case_reminders"
    __table_args__ = (UniqueConstraint("case_id", "user_id", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    due_on: Mapped[dt.date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class DockingEvent(Base):
    """A docking event (对接会 / 路演) with registered participants and 1:1 meetings."""

    __tablename__ = "docking_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="matchmaking")  # matchmaking|roadshow
    held_on: Mapped[dt.date] = mapped_column(Date)
    venue: Mapped[str | None] = mapped_column(String(300))
    # Start times of the 1:1 slots ("09:00", "09:20", …) and how many tables run at once.
    slots: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=20)
    tables: Mapped[int] = mapped_column(Integer, default=10)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open|scheduled|closed
    description: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    schedule_figures: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)


class EventParticipant(Base):
    """An organisation registered for an event, and who attends for it."""

    __tablename__ = "event_participants"
    __table_args__ = (UniqueConstraint("event_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("docking_events.id", ondelete="CASCADE"),
                                          index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))  # shown on agendas
    # Slot indexes the participant cannot attend (arrives late, leaves early).
    unavailable: Mapped[list[int]] = mapped_column(PortableJSON, default=list)
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def owner_org_id(self) -> int:
        """The registered organisation: its members request, answer and read its agenda."""
        return self.organisation_id


class MeetingRequest(Base):
    """A request for a 1:1 meeting at an event; the other side accepts or declines it."""

    __tablename__ = "event_meeting_requests"
    __table_args__ = (UniqueConstraint("event_id", "requester_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("docking_events.id", ondelete="CASCADE"),
                                          index=True)
    requester_id: Mapped[int] = mapped_column(
        ForeignKey("event_participants.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("event_participants.id", ondelete="CASCADE"))
    # requested | accepted | declined
    status: Mapped[str] = mapped_column(String(12), default="requested")
    priority: Mapped[int] = mapped_column(Integer, default=1)  # 1 normal, 2 high (requester's)
    note: Mapped[str | None] = mapped_column(String(300))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventMeeting(Base):
    """A scheduled 1:1 meeting: one accepted request at one slot and table."""

    __tablename__ = "event_meetings"
    __table_args__ = (UniqueConstraint("event_id", "slot", "table_no"),
                      UniqueConstraint("request_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("docking_events.id", ondelete="CASCADE"),
                                          index=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("event_meeting_requests.id", ondelete="CASCADE"))
    slot: Mapped[int] = mapped_column(Integer)
    table_no: Mapped[int] = mapped_column(Integer)
