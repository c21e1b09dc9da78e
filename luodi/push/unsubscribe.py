"""One-click unsubscribe (退订) from e-mail digests, by a signed link in every e-mail.

The token is ``<user id>.<HMAC-SHA256("unsubscribe:<user id>")>`` keyed with the site's secret
key, URL-safe base64 without padding. It never expires on purpose: an unsubscribe link must keep
working in an old e-mail (RFC 8058); rotating ``LUODI_SECRET_KEY`` invalidates all of them. It
only ever turns e-mail *off*, so a leaked link can do no more than that.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.models import User
from luodi.config import Settings
from luodi.db import utcnow
from luodi.errors import NotFound, ValidationFailed
from luodi.push.ledger import PushPreference

__all__ = ["make_token", "read_token", "unsubscribe", "unsubscribe_url"]


def _mac(settings: Settings, user_id: int) -> str:
    key = settings.secret_key.get_secret_value().encode()
    digest = hmac.new(key, f"unsubscribe:{user_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_token(settings: Settings, user_id: int) -> str:
    """The unsubscribe token of ``user_id``: the same every time, safe in a URL path."""
    return f"{user_id}.{_mac(settings, user_id)}"


def unsubscribe_url(settings: Settings, user_id: int) -> str:
    """The absolute one-click unsubscribe link (``{base_url}/unsubscribe/{token}``)."""
    return f"{settings.base_url.rstrip('/')}/unsubscribe/{make_token(settings, user_id)}"


def read_token(settings: Settings, token: str) -> int:
    """The user id a token was made for; :class:`ValidationFailed` if malformed or forged."""
    user_part, _, mac = (token or "").strip().partition(".")
    if not user_part.isdigit() or not mac or len(user_part) > 12:
        raise ValidationFailed("This unsubscribe link is not valid.", code="bad_token")
    user_id = int(user_part)
    if not hmac.compare_digest(mac.encode(), _mac(settings, user_id).encode()):
        raise ValidationFailed("This unsubscribe link is not valid.", code="bad_token")
    return user_id


def unsubscribe(
    session: Session, settings: Settings, token: str, *, client_addr: str | None = None
) -> User:
    """Turn off e-mail digests for the token's user (audited ``push.unsubscribe``); idempotent.

    The link is its own authority (whoever holds the e-mail), so no login is needed. Digests
    already queued are suppressed when the dispatcher re-checks consent before sending.
    """
    user_id = read_token(settings, token)
    try:
        return _turn_off_email(session, user_id, client_addr)
    except IntegrityError:
        # Two clicks at once both created the preference row; the loser finds the winner's.
        session.rollback()
        return _turn_off_email(session, user_id, client_addr)


def _turn_off_email(session: Session, user_id: int, client_addr: str | None) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("This account no longer exists.")
    pref = session.scalar(select(PushPreference).where(PushPreference.user_id == user_id))
    if pref is not None and not pref.email and pref.unsubscribed_at is not None:
        return user  # already done: no second audit line
    if pref is None:
        pref = PushPreference(user_id=user_id)
        session.add(pref)
    pref.email = False
    pref.unsubscribed_at = pref.unsubscribed_at or utcnow()
    actor = Actor(user_id=user.id, role=user.role, org_id=user.organisation_id,
                  email=user.email, client_addr=client_addr, via="web")
    audit.record(session, actor, "push.unsubscribe", obj=("users", user.id),
                 detail={"channel": "email"})
    session.commit()
    return user
