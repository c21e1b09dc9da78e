"""Request-scoped dependencies: the database session, the actor, CSRF and the locale.

Views get a :class:`Ctx` and pass ``ctx.session`` and ``ctx.actor`` to services; they never decide
permissions themselves.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from luodi.auth.actor import Actor
from luodi.auth.login import anonymous, resolve_session
from luodi.auth.models import LoginSession, User
from luodi.auth.service import actor_for
from luodi.auth.tokens import resolve_token
from luodi.config import Settings
from luodi.errors import DomainError, NotAuthenticated

SESSION_COOKIE = "luodi_session"
CSRF_COOKIE = "luodi_csrf"
LOCALE_COOKIE = "luodi_locale"
LOCALES = ("zh_CN", "en")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CsrfFailed(DomainError):
    """A form or cookie-authenticated API call without a valid CSRF token."""

    code = "csrf_failed"
    status = 403


@dataclass(frozen=True)
class Viewer:
    """Plain values about the logged-in user for templates.

    Error pages render after the request's session has been rolled back and closed, when ORM
    objects can no longer load attributes; templates therefore read this snapshot.
    """

    id: int
    display_name: str
    email: str
    role: str
    org_name: str | None
    totp_enabled: bool

    @classmethod
    def of(cls, user: User) -> Viewer:
        org = user.organisation
        return cls(user.id, user.display_name, user.email, user.role,
                   org.name if org else None, user.totp_enabled)


@dataclass
class Ctx:
    """Everything a view needs: settings, a DB session, who is acting, and how to speak to them."""

    request: Request
    settings: Settings
    session: Session
    actor: Actor
    user: User | None = None
    login_session: LoginSession | None = None
    locale: str = "zh_CN"
    viewer: Viewer | None = None
    csrf_token: str = ""  # the token forms must echo back (session's, or the pre-login cookie's)
    extra: dict[str, Any] = field(default_factory=dict)


def client_addr(request: Request, settings: Settings) -> str | None:
    """The client address, believing X-Forwarded-For only from configured proxies."""
    peer = request.client.host if request.client else None
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and peer in settings.trusted_proxies:
        return forwarded.split(",")[-1].strip()
    return peer


def get_session(request: Request) -> Iterator[Session]:
    """A database session for one request; rolled back if the view fails before committing."""
    session = request.app.state.db.sessions()
    try:
        yield session
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value else None


def pick_locale(request: Request, settings: Settings, user: User | None) -> str:
    """Cookie choice first, then the user's saved choice, then the site default."""
    for candidate in (request.cookies.get(LOCALE_COOKIE), user.locale if user else None):
        if candidate in LOCALES:
            return candidate
    return settings.default_locale


def get_ctx(request: Request, session: Annotated[Session, Depends(get_session)]) -> Ctx:
    """Resolve the actor from a bearer token (API) or the session cookie (pages and API)."""
    settings: Settings = request.app.state.settings
    addr = client_addr(request, settings)
    request.state.csrf_cookie = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    bearer = _bearer(request)
    user, login_session, via = None, None, "web"
    if bearer is not None:
        user = resolve_token(session, bearer)
        if user is None:
            raise NotAuthenticated("The API token is invalid, expired or revoked.",
                                   code="bad_token")
        via = "api"
    else:
        resolved = resolve_session(session, settings, request.cookies.get(SESSION_COOKIE))
        if resolved:
            login_session, user = resolved
    actor = actor_for(user, client_addr=addr, via=via) if user else anonymous(addr)
    ctx = Ctx(request=request, settings=settings, session=session, actor=actor, user=user,
              login_session=login_session, locale=pick_locale(request, settings, user),
              viewer=Viewer.of(user) if user else None,
              csrf_token=login_session.csrf_token if login_session else request.state.csrf_cookie)
    request.state.ctx = ctx
    if request.method in UNSAFE_METHODS and bearer is None:
        _check_csrf_header(request, ctx)
    return ctx


def _check_csrf_header(request: Request, ctx: Ctx) -> None:
    """Cookie-authenticated API writes must carry X-CSRF-Token (forms are checked on parse)."""
    if not request.url.path.startswith("/api/"):
        return
    if ctx.login_session is None:
        return  # no ambient credentials to abuse: the endpoint itself will demand a login
    sent = request.headers.get("x-csrf-token", "")
    if not hmac.compare_digest(sent, ctx.login_session.csrf_token):
        raise CsrfFailed("Missing or wrong X-CSRF-Token header.")


def check_form_csrf(ctx: Ctx, sent: str | None) -> None:
    """Compare a form's csrf_token field with the session's (or the pre-login cookie's)."""
    expected = ctx.csrf_token
    if ctx.login_session is None and CSRF_COOKIE not in ctx.request.cookies:
        raise CsrfFailed("Your form expired. Please reload the page and try again.")
    if not sent or not hmac.compare_digest(sent, expected):
        raise CsrfFailed("Your form expired. Please reload the page and try again.")


def require_user(ctx: Annotated[Ctx, Depends(get_ctx)]) -> Ctx:
    """For views that make no sense anonymously (the service still authorises the action)."""
    if ctx.user is None:
        raise NotAuthenticated("Please log in first.")
    return ctx


CtxDep = Annotated[Ctx, Depends(get_ctx)]
UserCtx = Annotated[Ctx, Depends(require_user)]


def set_session_cookie(response: Any, settings: Settings, raw: str) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure on HTTPS; expires with the browser."""
    response.set_cookie(SESSION_COOKIE, raw, httponly=True, samesite="lax",
                        secure=settings.secure_cookies, path="/")


def clear_session_cookie(response: Any) -> None:
    """Forget the session cookie in the browser (the server-side session is revoked separately)."""
    response.delete_cookie(SESSION_COOKIE, path="/")
