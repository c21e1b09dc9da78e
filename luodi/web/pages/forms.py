"""Form handling shared by pages: CSRF-checked form data and safe redirects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from luodi.errors import DomainError
from luodi.web.deps import Ctx, check_form_csrf, get_ctx, require_user
from luodi.web.i18n import translate


async def _form(ctx: Ctx) -> FormData:
    form = await ctx.request.form()
    check_form_csrf(ctx, str(form.get("csrf_token") or ""))
    return form


async def form_ctx(ctx: Annotated[Ctx, Depends(get_ctx)]) -> Ctx:
    """A context whose ``extra['form']`` holds the submitted, CSRF-checked form."""
    ctx.extra["form"] = await _form(ctx)
    return ctx


async def user_form_ctx(ctx: Annotated[Ctx, Depends(require_user)]) -> Ctx:
    """Like :func:`form_ctx`, for logged-in users only."""
    ctx.extra["form"] = await _form(ctx)
    return ctx


FormCtx = Annotated[Ctx, Depends(form_ctx)]
UserFormCtx = Annotated[Ctx, Depends(user_form_ctx)]


def field(ctx: Ctx, name: str, default: str = "") -> str:
    """A submitted form field as stripped text."""
    value = ctx.extra["form"].get(name, default)
    return str(value).strip() if value is not None else default


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: refuses ``//evil.example`` and absolute URLs (open redirects)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def redirect(url: str) -> RedirectResponse:
    """POST-redirect-GET."""
    return RedirectResponse(url, status_code=303)


def act_or_rerender(ctx: Ctx, call: Callable[[], object], *, anchor: str, done: str,
                    page: Callable[..., Response]) -> Response:
    """Run one service call for a form; on success redirect to ``done#anchor``, on a refusal
    the user can correct re-render ``page`` with the message and the values as sent.

    401 and 404 stay error pages: an outsider learns nothing from a re-rendered form.
    """
    try:
        call()
    except DomainError as exc:
        if exc.status in (401, 404):
            raise
        ctx.session.rollback()
        posted: dict[str, Any] = {k: v for k, v in ctx.extra["form"].items()
                                  if k != "csrf_token" and isinstance(v, str)}
        return page(status=exc.status, posted=posted, error_at=anchor,
                    error=translate(ctx.locale, exc.message))
    return redirect(f"{done}#{anchor}")
