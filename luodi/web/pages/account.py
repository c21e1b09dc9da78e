"""Pages: my account — profile, personal API tokens, and the TOTP second factor."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from luodi.auth import tokens, totp
from luodi.errors import DomainError
from luodi.web.deps import UserCtx
from luodi.web.i18n import translate
from luodi.web.pages.forms import UserFormCtx, field, redirect
from luodi.web.templating import render

router = APIRouter(prefix="/account")


def _page(ctx, *, status: int = 200, **extra) -> Response:  # type: ignore[no-untyped-def]
    return render(ctx.request, "account.html", status_code=status,
                  tokens=tokens.list_tokens(ctx.session, ctx.actor), **extra)


@router.get("")
def account(ctx: UserCtx) -> Response:
    return _page(ctx)


@router.post("/tokens")
def create_token(ctx: UserFormCtx) -> Response:
    days = field(ctx, "days", "90")
    try:
        raw, _token = tokens.create_token(ctx.session, ctx.actor, name=field(ctx, "name"),
                                          days=int(days) if days.isdigit() else 90)
    except DomainError as exc:
        return _page(ctx, status=exc.status, error=translate(ctx.locale, exc.message))
    return _page(ctx, new_token=raw)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(token_id: int, ctx: UserFormCtx) -> Response:
    tokens.revoke_token(ctx.session, ctx.actor, token_id)
    return redirect("/account")


@router.post("/totp/begin")
def totp_begin(ctx: UserFormCtx) -> Response:
    assert ctx.user is not None
    uri = totp.begin_enrolment(ctx.session, ctx.actor, ctx.user)
    return _page(ctx, totp_uri=uri, totp_secret=ctx.user.totp_secret, totp_qr=totp.qr_svg(uri))


@router.post("/totp/confirm")
def totp_confirm(ctx: UserFormCtx) -> Response:
    assert ctx.user is not None
    try:
        totp.confirm_enrolment(ctx.session, ctx.actor, ctx.user, field(ctx, "code"))
    except DomainError as exc:
        uri = totp.provisioning_uri(ctx.user)
        return _page(ctx, status=exc.status, error=translate(ctx.locale, exc.message),
                     totp_uri=uri, totp_secret=ctx.user.totp_secret, totp_qr=totp.qr_svg(uri))
    return redirect("/account")


@router.post("/totp/disable")
def totp_disable(ctx: UserFormCtx) -> Response:
    assert ctx.user is not None
    try:
        totp.disable(ctx.session, ctx.actor, ctx.user, field(ctx, "password"))
    except DomainError as exc:
        return _page(ctx, status=exc.status, error=translate(ctx.locale, exc.message))
    return redirect("/account")
