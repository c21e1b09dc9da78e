"""Page: review likely near-duplicates (operators); nothing is ever merged automatically."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from luodi.inventory import duplicates
from luodi.inventory.kinds import kind_of
from luodi.web.deps import UserCtx
from luodi.web.pages.forms import UserFormCtx, field, redirect
from luodi.web.templating import render

router = APIRouter()


@router.get("/duplicates")
def review(ctx: UserCtx) -> Response:
    flags = duplicates.open_flags(ctx.session, ctx.actor)
    pairs = []
    for flag in flags[:200]:
        model = kind_of(flag.kind).model
        pairs.append((flag, ctx.session.get(model, flag.record_id),
                      ctx.session.get(model, flag.other_id)))
    return render(ctx.request, "duplicates.html", pairs=pairs, total=len(flags))


@router.post("/duplicates/{flag_id}")
def resolve(flag_id: int, ctx: UserFormCtx) -> Response:
    duplicates.resolve_flag(ctx.session, ctx.actor, flag_id, field(ctx, "verdict"))
    return redirect("/duplicates")
