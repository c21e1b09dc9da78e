"""Pages: log in (with optional TOTP), log out, switch language."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from luodi.auth.login import (
    AccountLocked,
    Credentials,
    TotpRequired,
    authenticate,
    end_session,
    start_session,
)
from luodi.errors import NotAuthenticated, RateLimited
from luodi.web.deps import (
    LOCALE_COOKIE,
    LOCALES,
    CtxDep,
    clear_session_cookie,
    set_session_cookie,
)
from luodi.web.i18n import translate
from luodi.web.pages.forms import FormCtx, UserFormCtx, field, redirect, safe_next
from luodi.web.templating import render

router = APIRouter()


@router.get("/login")
def login_form(ctx: CtxDep, next: str = "/") -> Response:
    if ctx.user is not None:
        return redirect(safe_next(next))
    return render(ctx.request, "login.html", next=safe_next(next), email="", ask_totp=False)


@router.post("/login")
def login(ctx: FormCtx) -> Response:
    email, target = field(ctx, "email"), safe_next(field(ctx, "next"))
    creds = Credentials(email, field(ctx, "password"), field(ctx, "totp_code") or None)
    try:
        user = authenticate(ctx.session, ctx.settings, creds, client_addr=ctx.actor.client_addr)
    except TotpRequired as exc:
        return _again(ctx, email, target, exc.message, ask_totp=True, status=200)
    except (NotAuthenticated, AccountLocked, RateLimited) as exc:
        return _again(ctx, email, target, exc.message, ask_totp=bool(creds.totp_code),
                      status=exc.status)
    raw, _record = start_session(ctx.session, user, client_addr=ctx.actor.client_addr,
                                 user_agent=ctx.request.headers.get("user-agent"))
    response = redirect(target)
    set_session_cookie(response, ctx.settings, raw)
    return response


def _again(ctx, email: str, target: str, message: str, *, ask_totp: bool,  # type: ignore[no-untyped-def]
           status: int) -> Response:
    return render(ctx.request, "login.html", status_code=status, next=target, email=email,
                  ask_totp=ask_totp, error=translate(ctx.locale, message))


@router.post("/logout")
def logout(ctx: UserFormCtx) -> Response:
    if ctx.login_session is not None:
        end_session(ctx.session, ctx.login_session, ctx.actor)
    response = redirect("/login")
    clear_session_cookie(response)
    return response


@router.get("/lang/{code}")
def switch_language(code: str, request: Request, next: str = "/") -> Response:
    """Remember the chosen language in a cookie (a preference, not a privileged change)."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in LOCALES:
        response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax",
                            path="/", secure=request.app.state.settings.secure_cookies)
    return response
