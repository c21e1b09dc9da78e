"""The outbox dispatcher: claims, retries with backoff, dead letters, concurrency, crash recovery.

Time is stepped through ``dispatch(now=…)``; nothing sleeps. Receivers are real servers on
127.0.0.1 (see ``delivery_fixtures``).
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from luodi.audit import AuditEvent
from luodi.db import utcnow
from luodi.push import outbox
from luodi.push.ledger import OutboxMessage
from tests.push.delivery_fixtures import (
    HookSink,
    SmtpSink,
    email_row,
    make_endpoint,
    make_world,
    webhook_row,
)


@pytest.fixture
def cfg(settings):  # type: ignore[no-untyped-def]
    return settings.model_copy(update={"webhook_allow_private": True, "outbox_max_attempts": 4,
                                       "outbox_backoff_seconds": 30.0,
                                       "outbox_claim_seconds": 120.0})


def _row(session, row: OutboxMessage) -> OutboxMessage:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.get(OutboxMessage, row.id)


def _seconds(later: dt.datetime, earlier: dt.datetime) -> float:
    return (later - earlier).total_seconds()


def test_failed_calls_are_retried_with_exponential_backoff(db, session, cfg) -> None:  # type: ignore[no-untyped-def]
    with HookSink(fail_first=2) as hook:
        world = make_world(session)
        row = webhook_row(session, cfg, world, make_endpoint(session, world.org, hook.url))
        t0 = utcnow()

        assert outbox.dispatch(db, cfg, now=t0).failed == 1
        first = _row(session, row)
        assert first.status == "failed" and first.attempts == 1 and first.last_error == "HTTP 500 from the endpoint"
        assert 24 <= _seconds(first.next_attempt_at, t0) <= 36  # 30 s ± 20 %

        assert outbox.dispatch(db, cfg, now=t0 + dt.timedelta(seconds=20)).handled == 0  # not due
        t1 = first.next_attempt_at
        assert outbox.dispatch(db, cfg, now=t1).failed == 1
        second = _row(session, row)
        assert second.attempts == 2 and 48 <= _seconds(second.next_attempt_at, t1) <= 72

        assert outbox.dispatch(db, cfg, now=second.next_attempt_at).sent == 1
        done = _row(session, row)
        assert (done.status, done.attempts, done.last_error) == ("sent", 3, None)
        assert [r.headers["webhook-id"] for r in hook.requests] == [f"msg_luodi_{row.id}"] * 3


def test_dead_after_max_attempts_with_an_audit_line(db, session, cfg) -> None:  # type: ignore[no-untyped-def]
    with HookSink(fail_first=100) as hook:
        world = make_world(session)
        row = webhook_row(session, cfg, world, make_endpoint(session, world.org, hook.url))
        now = utcnow()
        for attempt in range(1, cfg.outbox_max_attempts + 1):
            report = outbox.dispatch(db, cfg, now=now)
            current = _row(session, row)
            assert current.attempts == attempt
            now = current.next_attempt_at

        assert (report.dead, current.status) == (1, "dead")
        assert "after 4 attempts" in current.last_error
        assert outbox.dispatch(db, cfg, now=now + dt.timedelta(days=30)).handled == 0
        assert len(hook.requests) == cfg.outbox_max_attempts
        [line] = session.scalars(select(AuditEvent).where(AuditEvent.action == "push.delivery_dead"))
        assert (line.object_id, line.outcome, line.detail["key"]) == (str(row.id), "failure", row.key)


def test_backoff_doubles_with_jitter_and_is_capped_at_a_day(cfg) -> None:  # type: ignore[no-untyped-def]
    for attempts, base in ((1, 30), (2, 60), (5, 480)):
        delays = {outbox.backoff_delay(cfg, attempts).total_seconds() for _ in range(50)}
        assert all(0.8 * base <= d <= 1.2 * base for d in delays) and len(delays) > 1
    assert outbox.backoff_delay(cfg, 40) == dt.timedelta(days=1)
    assert outbox.backoff_delay(cfg, 10_000) == dt.timedelta(days=1)


def test_two_concurrent_dispatchers_never_send_a_row_twice(db, session, cfg) -> None:  # type: ignore[no-untyped-def]
    with HookSink(delay=0.01) as hook, SmtpSink() as smtp:
        cfg = smtp.settings(cfg)
        rows = []
        for _ in range(6):
            world = make_world(session)
            rows.append(email_row(session, cfg, world))
            rows.append(webhook_row(session, cfg, world, make_endpoint(session, world.org, hook.url)))
        start = threading.Barrier(2)
        reports: list[outbox.DispatchReport] = []

        def run() -> None:
            start.wait()
            reports.append(outbox.dispatch(db, cfg))

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)

        assert len(reports) == 2 and sum(r.sent for r in reports) == len(rows)
        assert sum(r.failed + r.dead for r in reports) == 0
        ids = [r.headers["webhook-id"] for r in hook.requests]
        assert sorted(ids) == sorted(f"msg_luodi_{r.id}" for r in rows if r.channel == "webhook")
        message_ids = [m["Message-ID"] for m in smtp.messages]
        assert len(message_ids) == len(set(message_ids)) == 6
        assert outbox.pending_count(session) == 0


def test_expired_claim_is_resent_with_the_same_webhook_id(db, session, cfg) -> None:  # type: ignore[no-untyped-def]
    with HookSink() as hook:
        world = make_world(session)
        t0 = utcnow()
        # A dispatcher claimed the row at t0 and died mid-send.
        row = webhook_row(session, cfg, world, make_endpoint(session, world.org, hook.url),
                          status="sending", attempts=1,
                          claimed_until=t0 + dt.timedelta(seconds=cfg.outbox_claim_seconds))

        assert outbox.dispatch(db, cfg, now=t0 + dt.timedelta(seconds=5)).handled == 0
        assert outbox.pending_count(session) == 1
        later = t0 + dt.timedelta(seconds=cfg.outbox_claim_seconds + 1)
        assert outbox.dispatch(db, cfg, now=later).sent == 1

        [call] = hook.requests
        assert call.headers["webhook-id"] == f"msg_luodi_{row.id}"
        assert (_row(session, row).status, _row(session, row).attempts) == ("sent", 2)


def test_a_row_whose_last_attempt_was_interrupted_goes_dead(db, session, cfg) -> None:  # type: ignore[no-untyped-def]
    with HookSink() as hook:
        world = make_world(session)
        t0 = utcnow()
        row = webhook_row(session, cfg, world, make_endpoint(session, world.org, hook.url),
                          status="sending", attempts=cfg.outbox_max_attempts,
                          claimed_until=t0 - dt.timedelta(seconds=1))

        report = outbox.dispatch(db, cfg, now=t0)

        assert report.dead == 1 and hook.requests == []
        assert "interrupted" in _row(session, row).last_error


def test_channels_filter_and_dispatch_until_idle(db, session, cfg) -> None:  # type: ignore[no-untyped-def]
    with HookSink() as hook, SmtpSink() as smtp:
        cfg = smtp.settings(cfg)
        world = make_world(session)
        email_row(session, cfg, world)
        webhook_row(session, cfg, world, make_endpoint(session, world.org, hook.url))
        assert outbox.pending_count(session) == 2

        assert outbox.dispatch(db, cfg, channels={"webhook"}).sent == 1
        assert (len(hook.requests), len(smtp.messages), outbox.pending_count(session)) == (1, 0, 1)

        total = outbox.dispatch_until_idle(db, cfg, max_rounds=5)
        assert (total.sent, len(smtp.messages), outbox.pending_count(session)) == (1, 1, 0)


def test_dispatch_takes_at_most_limit_rows_oldest_first(db, session, cfg) -> None:  # type: ignore[no-untyped-def]
    with HookSink() as hook:
        world = make_world(session)
        endpoint = make_endpoint(session, world.org, hook.url)
        t0 = utcnow()
        rows = [webhook_row(session, cfg, world, endpoint, key=f"webhook:t:{n}",
                            next_attempt_at=t0 - dt.timedelta(minutes=n)) for n in range(3)]

        assert outbox.dispatch(db, cfg, limit=2, now=t0).sent == 2
        sent = {r.headers["webhook-id"] for r in hook.requests}
        assert sent == {f"msg_luodi_{rows[2].id}", f"msg_luodi_{rows[1].id}"}


def test_suppressed_and_finished_rows_are_left_alone(db, session, cfg) -> None:  # type: ignore[no-untyped-def]
    with HookSink() as hook:
        world = make_world(session)
        endpoint = make_endpoint(session, world.org, hook.url)
        for n, status in enumerate(("suppressed", "sent", "dead")):
            webhook_row(session, cfg, world, endpoint, key=f"webhook:x:{n}", status=status,
                        last_error="frequency cap" if status == "suppressed" else None)

        assert outbox.dispatch(db, cfg, now=utcnow() + dt.timedelta(days=2)).handled == 0
        assert hook.requests == [] and outbox.pending_count(session) == 0
