"""The web layer: JSON API under /api/v1 and server-rendered pages. Thin: it calls services."""

from luodi.web.app import create_app

__all__ = ["create_app"]
