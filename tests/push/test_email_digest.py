"""E-mail digests through a real SMTP server: identity, unsubscribe headers, languages, escaping."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from luodi.audit import AuditEvent
from luodi.db import utcnow
from luodi.errors import NotFound, ValidationFailed
from luodi.push import outbox
from luodi.push.ledger import OutboxMessage, PushPreference
from luodi.push.unsubscribe import make_token, read_token, unsubscribe
from tests.push.delivery_fixtures import SmtpSink, email_row, make_world, parts


@pytest.fixture
def smtp():  # type: ignore[no-untyped-def]
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def cfg(settings, smtp):  # type: ignore[no-untyped-def]
    return smtp.settings(settings)


def _status(session, row: OutboxMessage) -> OutboxMessage:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.get(OutboxMessage, row.id)


def test_digest_arrives_with_identity_and_one_click_unsubscribe(db, session, cfg, smtp) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session)
    row = email_row(session, cfg, world)

    report = outbox.dispatch(db, cfg)

    assert (report.sent, report.failed, report.dead) == (1, 0, 0)
    [message] = smtp.messages
    assert smtp.recipients == [[world.user.email]]
    assert message["Message-ID"] == f"<luodi-outbox-{row.id}@luodi.example.cn>"
    assert message["Subject"] == "落地 · 本周为您推荐 2 项成果"
    assert message["Date"] is not None and message["To"].addresses[0].addr_spec == world.user.email
    unsub = f"https://luodi.example.cn/unsubscribe/{make_token(cfg, world.user.id)}"
    assert message["List-Unsubscribe"] == f"<{unsub}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"\r\nList-Unsubscribe: <{unsub}>\r\n".encode() in smtp.raw[0]  # not encoded-words
    text, html = parts(message)
    for body in (text, html):
        assert "基于深度学习的机械臂视觉抓取系统" in body and "面向仓储物流分拣" in body
        assert "与贵单位需求" in body and "Closely matches" not in body
        assert f"https://luodi.example.cn/achievements/{world.achievements[0].id}" in body
        assert unsub in body and "https://luodi.example.cn/account/notifications" in body
        assert "保密的技术细节" not in body  # the confidential tier never travels
    done = _status(session, row)
    assert done.status == "sent" and done.sent_at is not None and done.attempts == 1


def test_english_digest_uses_english_strings_and_reasons(db, session, cfg, smtp) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session)
    email_row(session, cfg, world, locale="en")

    outbox.dispatch(db, cfg)

    [message] = smtp.messages
    assert message["Subject"] == "luodi · 2 achievements for you this week"
    text, html = parts(message)
    assert "Closely matches your demand for warehouse picking" in text
    assert "与贵单位需求" not in text and "Unsubscribe from e-mail digests" in html
    assert '<html lang="en">' in html


def test_announcements_only_digest_has_its_own_subject(db, session, cfg, smtp) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session)
    announcement = {"title": "2026 年第四季度高校成果清单",
                    "url": "https://luodi.example.cn/catalogues/3", "items": 40}
    email_row(session, cfg, world, kind="announcements", announcements=[announcement])

    outbox.dispatch(db, cfg)

    [message] = smtp.messages
    assert message["Subject"] == "落地 · 新发布的成果清单"
    text, _html = parts(message)
    assert "2026 年第四季度高校成果清单（40 项成果）" in text
    assert "基于深度学习" not in text


def test_html_escapes_every_user_supplied_value(db, session, cfg, smtp) -> None:  # type: ignore[no-untyped-def]
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    world = make_world(session, titles=[(evil, "A & B <b>bold</b>", "理由<i>", "why<i>")])
    row = email_row(session, cfg, world, announcements=[
        {"title": "<svg onload=alert(2)>", "url": "javascript:alert(3)", "items": 1}])
    payload = dict(row.payload)
    payload["name"] = '"><script>alert(4)</script>'
    row.payload = payload
    session.commit()

    outbox.dispatch(db, cfg)

    _text, html = parts(smtp.messages[0])
    assert "<script" not in html and "<img" not in html and "<svg" not in html
    assert "<b>bold" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "A &amp; B &lt;b&gt;bold&lt;/b&gt;" in html
    assert "javascript:" not in html  # a non-http(s) link is dropped, its label kept as text


def test_unsubscribe_token_round_trip_and_tampering(settings) -> None:  # type: ignore[no-untyped-def]
    token = make_token(settings, 42)
    assert read_token(settings, token) == 42
    assert make_token(settings, 42) == token and make_token(settings, 43) != token
    user_part, mac = token.split(".")
    forged = [f"43.{mac}", f"{user_part}.{mac[:-1]}A" if mac[-1] != "A" else f"{user_part}.{mac[:-1]}B",
              f"{user_part}.", mac, "", "42", "x.y", f"-1.{mac}", f"{user_part}.{mac}.extra"]
    for bad in forged:
        with pytest.raises(ValidationFailed):
            read_token(settings, bad)
    other = settings.model_copy(update={"secret_key": type(settings.secret_key)("z" * 40)})
    with pytest.raises(ValidationFailed):
        read_token(other, token)


def test_one_click_unsubscribe_suppresses_queued_digests(db, session, cfg, smtp) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session)
    row = email_row(session, cfg, world)
    token = make_token(cfg, world.user.id)

    assert unsubscribe(session, cfg, token, client_addr="203.0.113.9").id == world.user.id
    unsubscribe(session, cfg, token)  # a second click changes nothing

    pref = session.scalar(select(PushPreference).where(PushPreference.user_id == world.user.id))
    assert pref is not None and pref.email is False and pref.unsubscribed_at is not None
    lines = session.scalars(select(AuditEvent).where(AuditEvent.action == "push.unsubscribe")).all()
    assert [(e.actor_id, e.object_id, e.client_addr) for e in lines] == [
        (world.user.id, str(world.user.id), "203.0.113.9")]

    report = outbox.dispatch(db, cfg)

    assert (report.suppressed, report.sent) == (1, 0) and smtp.messages == []
    done = _status(session, row)
    assert done.status == "suppressed" and "unsubscribed" in done.last_error
    assert outbox.pending_count(session) == 0


def test_email_turned_off_in_preferences_is_suppressed_at_send_time(db, session, cfg, smtp) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session)
    row = email_row(session, cfg, world)
    session.add(PushPreference(user_id=world.user.id, email=False))
    session.commit()

    outbox.dispatch(db, cfg)

    assert smtp.messages == [] and _status(session, row).status == "suppressed"


def test_unsubscribe_of_a_deleted_account_is_not_found(session, settings) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound):
        unsubscribe(session, settings, make_token(settings, 987654))


def test_row_stuck_in_sending_is_resent_with_the_same_message_id(db, session, cfg, smtp) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session)
    row = email_row(session, cfg, world)
    t0 = utcnow()
    outbox.dispatch(db, cfg, now=t0)
    # The worker "died" after the server took the message but before it was marked sent.
    stuck = _status(session, row)
    stuck.status, stuck.sent_at = "sending", None
    stuck.claimed_until = t0 + dt.timedelta(seconds=cfg.outbox_claim_seconds)
    session.commit()

    assert outbox.dispatch(db, cfg, now=t0 + dt.timedelta(seconds=60)).handled == 0  # still held
    report = outbox.dispatch(db, cfg, now=t0 + dt.timedelta(seconds=cfg.outbox_claim_seconds + 1))

    assert report.sent == 1
    first, second = smtp.messages
    assert first["Message-ID"] == second["Message-ID"] == f"<luodi-outbox-{row.id}@luodi.example.cn>"
    assert _status(session, row).attempts == 2


def test_smtp_server_down_is_retried_later(db, session, settings) -> None:  # type: ignore[no-untyped-def]
    from tests.push.delivery_fixtures import free_port

    cfg = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port()})
    world = make_world(session)
    row = email_row(session, cfg, world)
    t0 = utcnow()

    report = outbox.dispatch(db, cfg, now=t0)

    done = _status(session, row)
    assert report.failed == 1 and done.status == "failed" and "SMTP" in done.last_error
    assert done.next_attempt_at > t0
