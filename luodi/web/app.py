"""``create_app(settings)``: assembles the API, the pages, static files and error handling."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from luodi import __version__
from luodi.config import Settings
from luodi.db import Database
from luodi.inventory.taxonomy import use_taxonomy
from luodi.web import errors
from luodi.web.api import router as api_router
from luodi.web.pages import router as pages_router

STATIC = Path(__file__).parent / "static"

# Everything is served by the app itself: no CDN, no inline script.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def create_app(settings: Settings, db: Database | None = None) -> FastAPI:
    """Build the web application for ``settings`` (and an existing ``db``, e.g. in tests)."""
    app = FastAPI(
        title="luodi 落地 API",
        version=__version__,
        description="Technology-transfer platform: 清单 → 推送 → 对接 → 落地. "
        "Authenticate with `Authorization: Bearer <personal token>`.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    use_taxonomy(settings.taxonomy_file)
    app.state.db = db or Database.from_url(settings.resolved_database_url)
    errors.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(api_router)
    app.include_router(pages_router)

    @app.get("/healthz", tags=["meta"], summary="Liveness and database check")
    def healthz() -> dict[str, object]:
        with app.state.db.engine.connect() as conn:
            conn.execute(text("select 1"))
        return {"ok": True, "version": __version__, "database": app.state.db.engine.dialect.name}

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith("/api/docs"):
            response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    return app
