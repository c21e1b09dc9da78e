"""Pages: the home page — the four stages of the chain and what the visitor can do next."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from luodi.web.deps import CtxDep
from luodi.web.templating import render

router = APIRouter()


@router.get("/")
def home(ctx: CtxDep) -> Response:
    return render(ctx.request, "home.html")
