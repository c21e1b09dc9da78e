"""Server-rendered pages (Jinja2). Thin handlers: parse the form, call a service, render."""

from fastapi import APIRouter

from luodi.web.pages import (
    account,
    admin,
    auth,
    cases,
    catalogues,
    dashboard,
    deals,
    duplicates,
    events,
    home,
    imports,
    matches,
    push,
    records,
    reminders,
)

router = APIRouter(include_in_schema=False)
router.include_router(auth.router)
router.include_router(home.router)
router.include_router(account.router)
router.include_router(admin.router)
router.include_router(catalogues.router)
router.include_router(duplicates.router)
router.include_router(reminders.router)
router.include_router(events.router)
router.include_router(cases.router)
router.include_router(deals.router)
router.include_router(matches.router)
router.include_router(push.router)
router.include_router(records.router)
router.include_router(imports.router)
router.include_router(dashboard.router)
