"""The Jinja2 environment for pages: autoescaped, with ``_()`` bound to the request's locale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from luodi import __version__
from luodi.web.i18n import ntranslate, translate

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


@pass_context
def _gettext(context: Any, message: str, **params: object) -> str:
    return translate(context.get("locale", "zh_CN"), message, **params)


@pass_context
def _ngettext(context: Any, singular: str, plural: str, n: int, **params: object) -> str:
    return ntranslate(context.get("locale", "zh_CN"), singular, plural, n, **params)


TEMPLATES.env.globals.update(_=_gettext, gettext=_gettext, ngettext=_ngettext,
                             version=__version__)
TEMPLATES.env.policies["ext.i18n.trimmed"] = True


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page with the request context (actor, locale, CSRF token) filled in."""
    ctx = getattr(request.state, "ctx", None)
    base = {
        "locale": ctx.locale if ctx else request.app.state.settings.default_locale,
        "user": ctx.viewer if ctx else None,
        "actor": ctx.actor if ctx else None,
        "csrf_token": ctx.csrf_token if ctx else "",
        "settings": request.app.state.settings,
    }
    base.update(context)
    response = TEMPLATES.TemplateResponse(request, name, base, status_code=status_code)
    _set_csrf_cookie(request, response)
    return response


def _set_csrf_cookie(request: Request, response: HTMLResponse) -> None:
    from luodi.web.deps import CSRF_COOKIE

    value = getattr(request.state, "csrf_cookie", None)
    if value and request.cookies.get(CSRF_COOKIE) != value:
        response.set_cookie(CSRF_COOKIE, value, httponly=True, samesite="lax",
                            secure=request.app.state.settings.secure_cookies, path="/")
