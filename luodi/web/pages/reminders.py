"""Pages: an owner's freshness reminders, and renewing a record before (or after) it expires."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from luodi.inventory import freshness
from luodi.inventory.kinds import KINDS
from luodi.web.deps import UserCtx
from luodi.web.pages.forms import UserFormCtx, redirect
from luodi.web.templating import render

router = APIRouter()


@router.get("/reminders")
def reminders(ctx: UserCtx) -> Response:
    items = freshness.reminders_for(ctx.session, ctx.actor)
    return render(ctx.request, "reminders.html", reminders=items)


@router.post("/reminders/{reminder_id}/read")
def mark_read(reminder_id: int, ctx: UserFormCtx) -> Response:
    freshness.mark_read(ctx.session, ctx.actor, reminder_id)
    return redirect("/reminders")


def _renew_route(kind: str) -> None:
    @router.post(f"/{kind}/{{record_id}}/renew")
    def renew(record_id: int, ctx: UserFormCtx) -> Response:
        freshness.renew(ctx.session, ctx.actor, kind, record_id, settings=ctx.settings)
        return redirect(f"/{kind}/{record_id}")


for _kind in ("achievements", "demands"):
    assert _kind in KINDS
    _renew_route(_kind)
