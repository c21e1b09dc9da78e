"""The push ledger (推送台账): cycles, pushes, the outbox, and each party's choices.

* :class:`PushCycle` — one planned cycle with its settings and figures (flow and greedy);
* :class:`Push` — one (recipient, cycle, item) pair: the in-app inbox entry, the explanation
  and the recipient's feedback. A pair is pushed at most once, ever;
* :class:`OutboxMessage` — an e-mail digest or a webhook call written in the same transaction
  as the pushes it reports, sent afterwards by the dispatcher (transactional outbox);
* :class:`WebhookEndpoint`, :class:`PushPreference`, :class:`Subscription`, :class:`PushBlock`
  and :class:`Announcement` — where to deliver, what each person and enterprise agreed to,
  which arcs are forbidden, and the non-personalised notices everyone may receive.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from luodi.auth.models import Organisation
from luodi.db import Base, PortableJSON, UTCDateTime, utcnow
from luodi.inventory.models import Achievement, Enterprise

FEEDBACK = ("relevant", "not_relevant", "interested")
# Why a push was not relevant: fixed codes so institutions can see them aggregated.
NOT_RELEVANT_REASONS = ("wrong_field", "too_early", "too_costly", "have_it", "too_far",
                        "not_now", "other")


class PushCycle(Base):
    """One push cycle (推送批次): the plan's settings, its figures and delivery progress."""

    __tablename__ = "push_cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    # ISO week ("2026-W48") for scheduled cycles, so a restarted scheduler never plans twice;
    # None for cycles an operator runs by hand.
    period: Mapped[str | None] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="delivering")  # delivering|delivered
    cap_per_recipient: Mapped[int] = mapped_column(Integer)  # k
    min_recipients: Mapped[int] = mapped_column(Integer)  # d
    min_score: Mapped[float] = mapped_column(Float)
    figures: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Push(Base):
    """One push (推送): an achievement sent to an enterprise in a cycle, with why and feedback.

    The row *is* the in-app delivery: it is written in the cycle's transaction together with
    the outbox messages that announce it, so it exists exactly once or not at all.
    """

    __tablename__ = "pushes"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "cycle_id", "achievement_id"),  # the delivery ledger
        UniqueConstraint("enterprise_id", "achievement_id"),  # a pair is never pushed twice
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("push_cycles.id", ondelete="CASCADE"),
                                          index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    # The recipient's account organisation when pushed: whose inbox it is in.
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    achievement_id: Mapped[int] = mapped_column(
        ForeignKey("achievements.id", ondelete="CASCADE"), index=True)
    catalogue_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalogues.id", ondelete="SET NULL"))  # the active list that carried it
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)  # 1 = the recipient's best push of the cycle
    reason: Mapped[str] = mapped_column(Text)  # the explanation, zh-CN
    reason_en: Mapped[str] = mapped_column(Text)
    explanation: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    feedback: Mapped[str | None] = mapped_column(String(16), index=True)  # see FEEDBACK
    feedback_reason: Mapped[str | None] = mapped_column(String(20))  # NOT_RELEVANT_REASONS
    feedback_note: Mapped[str | None] = mapped_column(Text)
    feedback_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    feedback_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    cycle: Mapped[PushCycle] = relationship()
    enterprise: Mapped[Enterprise] = relationship()
    achievement: Mapped[Achievement] = relationship()
    organisation: Mapped[Organisation] = relationship()

    @property
    def owner_org_id(self) -> int:
        """The recipient organisation: its members read the push and give feedback."""
        return self.organisation_id


class OutboxMessage(Base):
    """A message for the outside world (e-mail digest, webhook call), sent after commit.

    ``key`` names the message (``email:<cycle>:<user>``, ``webhook:<cycle>:<endpoint>``), so a
    cycle written twice could not queue it twice. The dispatcher claims a row, sends it with
    the row id as the message's identity (Message-ID, webhook-id), then marks it sent; a worker
    killed in between leaves the claim to expire, and the resend carries the same identity.
    """

    __tablename__ = "push_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    channel: Mapped[str] = mapped_column(String(12))  # email | webhook
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("push_cycles.id", ondelete="CASCADE"),
                                                 index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    push_ids: Mapped[list[int]] = mapped_column(PortableJSON, default=list)
    payload: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    # pending → sending → sent | failed (will retry) → dead; suppressed: never sent (cap, opt-out)
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookEndpoint(Base):
    """An organisation's webhook endpoint; deliveries are signed the Standard Webhooks way.

    The secret (``whsec_`` + base64) must be kept to sign, as every webhook sender does; it is
    shown once at creation and never returned by the API afterwards.
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Private, loopback and link-local targets are refused unless an operator allows them here.
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def owner_org_id(self) -> int:
        """The organisation whose members manage the endpoint."""
        return self.organisation_id


class PushPreference(Base):
    """A person's choices (PIPL art. 24): personalised pushes, e-mail, and how often.

    No row means the defaults: personalised pushes and e-mail digests on, the platform's cap.
    """

    __tablename__ = "push_preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    personalised: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    email_max_per_week: Mapped[int | None] = mapped_column(Integer)  # None: the platform's cap
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Subscription(Base):
    """What an enterprise wants pushed (订阅): fields and keywords, and at most how many."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), unique=True)
    fields: Mapped[list[str]] = mapped_column(PortableJSON, default=list)  # field codes
    keywords: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    max_per_cycle: Mapped[int | None] = mapped_column(Integer)  # below the platform's k
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def owner_org_id(self) -> int:
        """The subscribing organisation."""
        return self.organisation_id


class PushBlock(Base):
    """A forbidden arc (禁推): an enterprise's opt-out or a declared conflict of interest.

    With ``achievement_id`` it forbids one achievement; with only ``institution_id`` every
    achievement of that institution.
    """

    __tablename__ = "push_blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"),
                                               index=True)
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"))
    achievement_id: Mapped[int | None] = mapped_column(
        ForeignKey("achievements.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))  # opt_out | conflict
    reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Announcement(Base):
    """A non-personalised notice (公告), the same for everyone: a newly published catalogue."""

    __tablename__ = "push_announcements"
    __table_args__ = (UniqueConstraint("catalogue_id", "catalogue_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("push_cycles.id", ondelete="CASCADE"),
                                                 index=True)
    catalogue_id: Mapped[int] = mapped_column(ForeignKey("catalogues.id", ondelete="CASCADE"))
    catalogue_version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    items: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
