"""One error shape: JSON ``{"ok": false, "code", "error", "status"}`` under /api.

Everywhere else the same errors become an error page.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from luodi.errors import DomainError, NotAuthenticated
from luodi.web.i18n import translate
from luodi.web.labels import N_

log = logging.getLogger("luodi.web")

HTTP_CODES = {
    400: "bad_request", 401: "not_authenticated", 403: "permission_denied", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid_request",
    429: "rate_limited", 500: "internal_error",
}


def error_body(code: str, message: str, status: int) -> dict[str, object]:
    """The JSON error shape, pinned by tests/api/test_error_shape.py."""
    return {"ok": False, "code": code, "error": message, "status": status}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def respond(request: Request, code: str, message: str, status: int) -> Response:
    """Render an error for an API client or a person, whichever asked."""
    if _wants_json(request):
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(error_body(code, message, status), status_code=status, headers=headers)
    if status == 401 and request.method == "GET":
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    from luodi.web.templating import render

    ctx = getattr(request.state, "ctx", None)
    locale = ctx.locale if ctx else request.app.state.settings.default_locale
    # error_page: the request's session is closed by now; template helpers that query (the nav
    # badges) must not reopen it, or its connection is never returned to the pool.
    return render(request, "error.html", status_code=status, code=code,
                  message=translate(locale, message), status=status, error_page=True)


def _summarise(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return "; ".join(parts) or "Invalid request."


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        return respond(request, exc.code, exc.message, exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        message = exc.detail if isinstance(exc.detail, str) else "Error"
        if exc.status_code == 404 and message == "Not Found":
            message = N_("No such page or resource.")
        return respond(request, code, message, exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return respond(request, "invalid_request", _summarise(exc), 422)

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def _out_of_range(request: Request, exc: Exception) -> Response:
        # A value the database cannot hold (an id beyond its integer range, e.g. 2**31 on a
        # PostgreSQL INTEGER or 2**63 on SQLite) is the client's mistake, not a server error.
        log.info("value out of range on %s %s: %s", request.method, request.url.path, exc)
        return respond(request, "invalid_request",
                       N_("A value in the request is out of range."), 422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return respond(request, "internal_error", N_("Internal server error."), 500)


__all__ = ["NotAuthenticated", "error_body", "install", "respond"]
