"""Logging in and out: throttling, lockout, TOTP, and server-side sessions with two timeouts."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import pyotp
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from luodi import audit
from luodi.audit import AuditEvent
from luodi.auth.actor import ANONYMOUS, Actor
from luodi.auth.models import LoginSession, User
from luodi.auth.passwords import hash_password, needs_rehash, verify_password
from luodi.auth.service import actor_for
from luodi.config import Settings
from luodi.db import utcnow
from luodi.errors import DomainError, NotAuthenticated, RateLimited

# Seconds between updates of a session's last_seen_at: spares a write on every request.
_TOUCH_INTERVAL = dt.timedelta(seconds=60)


class AccountLocked(DomainError):
    """Too many failed logins in a row; the account is locked for a while."""

    code = "account_locked"
    status = 423


class TotpRequired(DomainError):
    """Password accepted; the account also needs its second factor."""

    code = "totp_required"
    status = 401


def token_hash(raw: str) -> str:
    """SHA-256 of a random token: what the database keeps instead of the token itself."""
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class Credentials:
    """What a login form or API call submits."""

    email: str
    password: str
    totp_code: str | None = None


def authenticate(
    session: Session, settings: Settings, creds: Credentials, *, client_addr: str | None
) -> User:
    """Check credentials, enforcing the per-address rate limit, lockout and TOTP.

    Failures are audited in their own transaction and raise; success is audited and committed.
    """
    who = Actor(email=creds.email.strip().lower()[:254], client_addr=client_addr)
    _check_rate(session, settings, who)
    user = session.scalar(select(User).where(func.lower(User.email) == who.email))
    if user is None or not user.is_active:
        verify_password(None, creds.password)  # same work as a real check: no timing oracle
        _fail(session, who, "unknown_or_inactive")
    assert user is not None
    now = utcnow()
    if user.locked_until and user.locked_until > now:
        _fail(session, who, "locked", exc=AccountLocked(
            "This account is locked after repeated failed logins. Try again later or ask an "
            "operator to unlock it.", data={"locked_until": user.locked_until.isoformat()}))
    if not verify_password(user.password_hash, creds.password):
        _count_failure(session, settings, user)
        _fail(session, who, "bad_password")
    if user.totp_enabled:
        _check_totp(session, settings, user, who, creds.totp_code)
    _succeed(session, user, creds.password, who)
    return user


def _check_rate(session: Session, settings: Settings, who: Actor) -> None:
    if not who.client_addr:
        return
    since = utcnow() - dt.timedelta(minutes=settings.login_rate_window_minutes)
    failures = session.scalar(
        select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "login", AuditEvent.outcome == "failure",
            AuditEvent.client_addr == who.client_addr, AuditEvent.at >= since,
        )
    ) or 0
    if failures >= settings.login_rate_per_ip:
        audit.record_now(session, who, "login", outcome="denied", detail={"reason": "rate_limited"})
        raise RateLimited("Too many failed logins from this address. Please wait and try again.")


def _count_failure(session: Session, settings: Settings, user: User) -> None:
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins >= settings.login_max_failures:
        user.locked_until = utcnow() + dt.timedelta(minutes=settings.login_lockout_minutes)
    session.commit()


def _fail(session: Session, who: Actor, reason: str, exc: DomainError | None = None) -> None:
    session.rollback()
    audit.record_now(session, who, "login", outcome="failure", detail={"reason": reason})
    raise exc or NotAuthenticated("Wrong e-mail or password.", code="bad_credentials")


def _check_totp(
    session: Session, settings: Settings, user: User, who: Actor, code: str | None
) -> None:
    if not code:
        raise TotpRequired("Enter the 6-digit code from your authenticator app.")
    totp = pyotp.TOTP(user.totp_secret or "")
    now = utcnow()
    step = int(now.timestamp()) // totp.interval
    for offset in (0, -1, 1):  # one step of clock drift either way
        candidate = step + offset
        if totp.at(candidate * totp.interval) == code.strip() and candidate > (
            user.totp_last_step or -1
        ):
            user.totp_last_step = candidate
            return
    _count_failure(session, settings, user)
    _fail(session, who, "bad_totp", exc=NotAuthenticated(
        "The authenticator code is wrong or already used.", code="bad_totp"))


def _succeed(session: Session, user: User, password: str, who: Actor) -> None:
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record(session, actor_for(user, client_addr=who.client_addr), "login",
                 obj=("users", user.id))
    session.commit()


def start_session(
    session: Session, user: User, *, client_addr: str | None, user_agent: str | None
) -> tuple[str, LoginSession]:
    """Open a browser session; returns the raw cookie value (never stored) and the record."""
    raw = secrets.token_urlsafe(32)
    record = LoginSession(
        token_hash=token_hash(raw), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
        client_addr=client_addr, user_agent=(user_agent or "")[:300],
    )
    session.add(record)
    session.commit()
    return raw, record


def resolve_session(
    session: Session, settings: Settings, raw: str | None
) -> tuple[LoginSession, User] | None:
    """The live session and user for a cookie value, or None when missing, revoked or expired."""
    if not raw:
        return None
    record = session.scalar(select(LoginSession).where(LoginSession.token_hash == token_hash(raw)))
    if record is None or record.revoked_at is not None:
        return None
    now = utcnow()
    idle = dt.timedelta(minutes=settings.session_idle_minutes)
    absolute = dt.timedelta(hours=settings.session_absolute_hours)
    user = record.user
    if now - record.last_seen_at > idle or now - record.created_at > absolute or not user.is_active:
        record.revoked_at = now
        session.commit()
        return None
    if now - record.last_seen_at > _TOUCH_INTERVAL:
        record.last_seen_at = now
        session.commit()
    return record, user


def end_session(session: Session, record: LoginSession, actor: Actor) -> None:
    """Log out: revoke the session server-side so a copied cookie stops working too."""
    record.revoked_at = utcnow()
    audit.record(session, actor, "logout", obj=("users", record.user_id))
    session.commit()


def anonymous(client_addr: str | None) -> Actor:
    """The actor for a visitor who is not logged in."""
    return ANONYMOUS.with_addr(client_addr)
