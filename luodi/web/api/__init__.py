"""The JSON API under /api/v1. Each module is a router of thin handlers over services.

Unknown paths under /api/ get the JSON error shape from ``web/errors.py`` (404), not a page.
"""

from fastapi import APIRouter

from luodi.web.api import (
    accounts,
    auth,
    case_meetings,
    cases,
    catalogues,
    deals,
    events,
    matches,
    push,
    records,
)

router = APIRouter(prefix="/api/v1")
router.include_router(auth.router)
router.include_router(accounts.router)
router.include_router(catalogues.router)
router.include_router(matches.router)  # before records: more specific paths first
router.include_router(push.router)
router.include_router(case_meetings.router)
router.include_router(events.router)
router.include_router(cases.router)
router.include_router(deals.router)
router.include_router(records.router)

