"""Personal API tokens for ``/api/v1``: created once (shown once), stored hashed, revocable."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.login import token_hash
from luodi.auth.models import ApiToken, User
from luodi.auth.policy import authorize
from luodi.db import utcnow
from luodi.errors import NotFound, ValidationFailed

PREFIX = "luodi_"


def create_token(
    session: Session, actor: Actor, *, name: str, days: int | None = 90
) -> tuple[str, ApiToken]:
    """Create a token for the actor; the raw value is returned once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationFailed("Give the token a name so you can recognise it later.")
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=actor.user_id, name=name[:100], prefix=raw[: len(PREFIX) + 6],
        token_hash=token_hash(raw),
        expires_at=utcnow() + dt.timedelta(days=days) if days else None,
    )
    authorize(session, actor, "token.manage", token)
    session.add(token)
    session.flush()
    audit.record(session, actor, "token.create", obj=("api_tokens", token.id),
                 detail={"name": name})
    session.commit()
    return raw, token


def list_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    """The actor's own tokens, newest first."""
    stmt = select(ApiToken).where(ApiToken.user_id == actor.user_id).order_by(ApiToken.id.desc())
    return list(session.scalars(stmt))


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    """Revoke one of the actor's tokens."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.user_id:
        raise NotFound("No such token.")
    authorize(session, actor, "token.manage", token)
    token.revoked_at = utcnow()
    audit.record(session, actor, "token.revoke", obj=("api_tokens", token.id))
    session.commit()
    return token


def resolve_token(session: Session, raw: str | None) -> User | None:
    """The active user behind a bearer token, or None if unknown, revoked or expired."""
    if not raw or not raw.startswith(PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(raw)))
    now = utcnow()
    if token is None or token.revoked_at or (token.expires_at and token.expires_at < now):
        return None
    if not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=5):
        token.last_used_at = now
        session.commit()
    return token.user
