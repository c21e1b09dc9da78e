"""Form handling shared by pages: CSRF-checked form data and safe redirects."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from luodi.web.deps import Ctx, check_form_csrf, get_ctx, require_user


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
