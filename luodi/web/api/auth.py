"""API: log in and out with a session cookie, who am I, and personal API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Response

from luodi.auth import tokens
from luodi.auth.login import Credentials, authenticate, end_session, start_session
from luodi.web.api.schemas import LoginIn, MeOut, OrgOut, TokenCreated, TokenIn, TokenOut, UserOut
from luodi.web.deps import CtxDep, UserCtx, clear_session_cookie, set_session_cookie

router = APIRouter(tags=["auth"])


@router.post("/auth/login", response_model=MeOut, summary="Log in and receive a session cookie")
def login(body: LoginIn, ctx: CtxDep, response: Response) -> MeOut:
    user = authenticate(ctx.session, ctx.settings,
                        Credentials(body.email, body.password, body.totp_code),
                        client_addr=ctx.actor.client_addr)
    raw, record = start_session(ctx.session, user, client_addr=ctx.actor.client_addr,
                                user_agent=ctx.request.headers.get("user-agent"))
    set_session_cookie(response, ctx.settings, raw)
    return _me(user, record.csrf_token)


@router.post("/auth/logout", status_code=204, summary="End the current session")
def logout(ctx: UserCtx, response: Response) -> Response:
    if ctx.login_session is not None:
        end_session(ctx.session, ctx.login_session, ctx.actor)
    response.status_code = 204
    clear_session_cookie(response)
    return response


@router.get("/me", response_model=MeOut, summary="The current user and organisation")
def me(ctx: UserCtx) -> MeOut:
    assert ctx.user is not None
    return _me(ctx.user, ctx.login_session.csrf_token if ctx.login_session else None)


def _me(user, csrf: str | None) -> MeOut:  # type: ignore[no-untyped-def]
    org = OrgOut.model_validate(user.organisation) if user.organisation else None
    return MeOut(user=UserOut.model_validate(user), organisation=org, csrf_token=csrf)


@router.get("/tokens", response_model=list[TokenOut], summary="My API tokens")
def list_tokens(ctx: UserCtx) -> list[TokenOut]:
    return [TokenOut.model_validate(t) for t in tokens.list_tokens(ctx.session, ctx.actor)]


@router.post("/tokens", response_model=TokenCreated, status_code=201,
             summary="Create a personal API token (the secret is shown once)")
def create_token(body: TokenIn, ctx: UserCtx) -> TokenCreated:
    raw, token = tokens.create_token(ctx.session, ctx.actor, name=body.name, days=body.days)
    return TokenCreated(token=raw, **TokenOut.model_validate(token).model_dump())


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke one of my tokens")
def revoke_token(token_id: int, ctx: UserCtx) -> Response:
    tokens.revoke_token(ctx.session, ctx.actor, token_id)
    return Response(status_code=204)
