"""The outbox dispatcher (发送器): sends e-mail digests and webhook calls queued by push cycles.

A push cycle writes its pushes and their :class:`~luodi.push.ledger.OutboxMessage` rows in one
transaction; this module sends those rows afterwards. Each row moves through::

    pending ──claim──▶ sending ──▶ sent
                          │
                          ├──▶ failed ──(next_attempt_at)──▶ claim again … ──▶ dead
                          ├──▶ dead        (refused target, endpoint gone, attempts used up)
                          └──▶ suppressed  (the person turned e-mail off since the cycle)

A claim is a conditional UPDATE committed *before* sending, so two dispatchers never send one
row at the same time (on SQLite and PostgreSQL alike). A dispatcher that dies mid-send leaves
``sending`` with a claim that expires; the row is then claimed and sent again under the same
identity (Message-ID ``<luodi-outbox-{id}@host>``, ``webhook-id msg_luodi_{id}``), so receivers
can drop the duplicate: exactly once in the ledger, at least once on the wire.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from functools import partial
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from luodi import audit
from luodi.auth.actor import system_actor
from luodi.auth.models import User
from luodi.config import Settings
from luodi.db import Database, utcnow
from luodi.push.channels import DeliveryFailed, DeliveryRefused, email, webhook
from luodi.push.ledger import OutboxMessage, PushPreference, WebhookEndpoint

__all__ = ["DispatchReport", "backoff_delay", "dispatch", "dispatch_until_idle", "pending_count"]

log = logging.getLogger(__name__)

OPEN_STATUSES = ("pending", "failed", "sending")
MAX_DELAY = dt.timedelta(days=1)
ERROR_CHARS = 1000  # last_error is for people, not a log: keep it readable


@dataclass
class DispatchReport:
    """What one dispatch did: rows sent, failed (will retry), dead, suppressed, and skipped.

    ``skipped`` counts rows another dispatcher claimed (or finished) first.
    """

    sent: int = 0
    failed: int = 0
    dead: int = 0
    suppressed: int = 0
    skipped: int = 0

    @property
    def handled(self) -> int:
        """Rows this dispatch looked at, whatever became of them."""
        return sum(getattr(self, f.name) for f in fields(self))

    def add(self, other: DispatchReport) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


class _Suppressed(Exception):
    """The message must not be sent any more (consent withdrawn since the cycle)."""


def _due(now: dt.datetime) -> Any:
    """Rows ready to send: waiting and due, or held by a dispatcher whose claim ran out."""
    return or_(
        and_(OutboxMessage.status.in_(("pending", "failed")), OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now),
    )


def backoff_delay(settings: Settings, attempts: int) -> dt.timedelta:
    """Delay before the next attempt: backoff·2^(attempts−1), ±20 % jitter, at most a day.

    The jitter spreads retries of many messages that failed together (an SMTP outage) so they
    do not all come back in the same second.
    """
    base = settings.outbox_backoff_seconds * 2 ** min(max(attempts - 1, 0), 30)
    seconds = base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not a secret
    return min(dt.timedelta(seconds=seconds), MAX_DELAY)


def pending_count(session: Session) -> int:
    """Messages not finished yet (pending, failed and waiting to retry, or being sent)."""
    stmt = select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status.in_(OPEN_STATUSES))
    return int(session.scalar(stmt) or 0)


def dispatch(
    db: Database, settings: Settings, *, limit: int = 100, now: dt.datetime | None = None,
    channels: Iterable[str] | None = None,
) -> DispatchReport:
    """Send up to ``limit`` due outbox messages, oldest first; safe to run concurrently.

    ``now`` fixes the clock (tests step it instead of sleeping); by default each message is
    claimed with the real time, so a long batch never sends on an expired claim. ``channels``
    restricts the run to some channels (``{"email"}``, ``{"webhook"}``).
    """
    clock: Callable[[], dt.datetime] = (lambda: now) if now is not None else utcnow
    wanted = tuple(channels) if channels is not None else None
    report = DispatchReport()
    report.dead += _bury_exhausted(db, settings, clock(), wanted)
    stmt = (select(OutboxMessage.id).where(_due(clock()))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
    if wanted is not None:
        stmt = stmt.where(OutboxMessage.channel.in_(wanted))
    with db.sessions() as session:
        ids = list(session.scalars(stmt))
    for outbox_id in ids:
        outcome = _dispatch_one(db, settings, outbox_id, clock)
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def dispatch_until_idle(
    db: Database, settings: Settings, max_rounds: int = 10, *, now: dt.datetime | None = None,
    channels: Iterable[str] | None = None,
) -> DispatchReport:
    """Dispatch round after round until nothing is due (or ``max_rounds``); for CLI and tests."""
    total = DispatchReport()
    for _ in range(max_rounds):
        report = dispatch(db, settings, now=now, channels=channels)
        total.add(report)
        if report.handled == 0:
            break
    return total


def _bury_exhausted(
    db: Database, settings: Settings, now: dt.datetime, channels: tuple[str, ...] | None
) -> int:
    """Mark dead the due rows with no attempt left (a worker died during the last one)."""
    stmt = select(OutboxMessage).where(
        _due(now), OutboxMessage.attempts >= settings.outbox_max_attempts)
    if channels is not None:
        stmt = stmt.where(OutboxMessage.channel.in_(channels))
    buried = 0
    with db.sessions() as session:
        for row in list(session.scalars(stmt)):
            reason = ("the last attempt was interrupted and no attempts are left"
                      if row.status == "sending" else "no attempts left")
            held = and_(_due(now), OutboxMessage.attempts == row.attempts)
            buried += _finish(session, row, "dead", reason, held=held) == "dead"
    return buried


def _claim(session: Session, settings: Settings, outbox_id: int,
           now: dt.datetime) -> OutboxMessage | None:
    """Take the row for this dispatcher (committed), or None if another one has it."""
    claimed_until = now + dt.timedelta(seconds=settings.outbox_claim_seconds)
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, _due(now),
               OutboxMessage.attempts < settings.outbox_max_attempts)
        .values(status="sending", attempts=OutboxMessage.attempts + 1,
                claimed_until=claimed_until)
        .execution_options(synchronize_session=False))
    session.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(OutboxMessage, outbox_id, populate_existing=True)


def _dispatch_one(db: Database, settings: Settings, outbox_id: int,
                  clock: Callable[[], dt.datetime]) -> str:
    with db.sessions() as session:
        row = _claim(session, settings, outbox_id, clock())
        if row is None:
            return "skipped"
        try:
            send = _prepare(session, settings, row)
            # End the read transaction before network I/O: no transaction stays open while an
            # SMTP server or a webhook endpoint takes its time.
            session.commit()
            send()
        except _Suppressed as exc:
            return _finish(session, row, "suppressed", str(exc))
        except DeliveryRefused as exc:
            return _finish(session, row, "dead", str(exc))
        except DeliveryFailed as exc:
            return _retry_or_bury(session, settings, row, str(exc), clock())
        except Exception as exc:
            # A bug while rendering one message must not stop the others; it is retried like
            # a failure and ends dead, on record, if it never passes.
            log.exception("outbox message %s failed unexpectedly", row.id)
            session.rollback()
            return _retry_or_bury(session, settings, row, f"{type(exc).__name__}: {exc}",
                                  clock())
        return _mark_sent(session, row, clock())


def _prepare(session: Session, settings: Settings, row: OutboxMessage) -> Callable[[], Any]:
    """Check the message may still be sent and return the call that sends it."""
    if row.channel == "email":
        return _prepare_email(session, settings, row)
    if row.channel == "webhook":
        return _prepare_webhook(session, settings, row)
    raise DeliveryRefused(f"unknown channel {row.channel!r}")


def _prepare_email(session: Session, settings: Settings, row: OutboxMessage) -> Callable[[], Any]:
    # Consent is checked again now: the cycle may be days old and the person may have
    # unsubscribed (or been deactivated) since it queued the digest.
    user = session.get(User, row.user_id) if row.user_id is not None else None
    if user is None:
        raise _Suppressed("the recipient's account no longer exists")
    if not user.is_active:
        raise _Suppressed("the recipient's account is deactivated")
    pref = session.scalar(select(PushPreference).where(PushPreference.user_id == user.id))
    if pref is not None and pref.unsubscribed_at is not None and not pref.email:
        raise _Suppressed("the recipient unsubscribed from e-mail digests")
    if pref is not None and not pref.email:
        raise _Suppressed("the recipient turned e-mail digests off")
    # The account's current address, not the one copied when the cycle ran: a person who
    # changed it since must not have digests go to the old one.
    return partial(email.send_digest, settings, outbox_id=row.id, user_id=user.id,
                   to=user.email, payload=row.payload)


def _prepare_webhook(session: Session, settings: Settings,
                     row: OutboxMessage) -> Callable[[], Any]:
    endpoint = session.get(WebhookEndpoint, row.endpoint_id) if row.endpoint_id else None
    if endpoint is None or not endpoint.active:
        raise DeliveryRefused("the webhook endpoint was deleted or deactivated")
    return partial(webhook.deliver, url=endpoint.url, secret=endpoint.secret,
                   outbox_id=row.id, payload=row.payload,
                   timeout=settings.webhook_timeout_seconds,
                   allow_private=settings.webhook_allow_private or endpoint.allow_private)


def _mark_sent(session: Session, row: OutboxMessage, now: dt.datetime) -> str:
    # Unconditional but for "sent": if our claim ran out and another dispatcher resent the
    # row meanwhile, it was delivered all the same.
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id, OutboxMessage.status != "sent")
        .values(status="sent", sent_at=now, claimed_until=None, last_error=None)
        .execution_options(synchronize_session=False))
    session.commit()
    return "sent"


def _retry_or_bury(session: Session, settings: Settings, row: OutboxMessage, error: str,
                   now: dt.datetime) -> str:
    log.warning("outbox message %s (%s) attempt %s failed: %s", row.id, row.key,
                row.attempts, error)
    if row.attempts >= settings.outbox_max_attempts:
        return _finish(session, row, "dead", f"{error} (after {row.attempts} attempts)")
    return _finish(session, row, "failed", error,
                   next_attempt_at=now + backoff_delay(settings, row.attempts))


def _finish(session: Session, row: OutboxMessage, status: str, error: str, *,
            next_attempt_at: dt.datetime | None = None, held: Any = None) -> str:
    """Record the outcome while this dispatcher still holds the claim; dead rows are audited.

    Returns ``status``, or ``"skipped"`` when the claim was lost to another dispatcher.
    """
    if held is None:
        held = and_(OutboxMessage.status == "sending", OutboxMessage.attempts == row.attempts)
    values: dict[str, Any] = {"status": status, "last_error": error[:ERROR_CHARS],
                              "claimed_until": None}
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    result = session.execute(
        update(OutboxMessage).where(OutboxMessage.id == row.id, held).values(**values)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        return "skipped"
    if status == "dead":
        audit.record(session, system_actor("job"), "push.delivery_dead",
                     obj=("push_outbox", row.id), outcome="failure",
                     detail={"channel": row.channel, "key": row.key,
                             "attempts": row.attempts, "error": error[:ERROR_CHARS]})
    session.commit()
    return status
