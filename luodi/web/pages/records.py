"""Pages: list, view, create and edit inventory records (成果, 需求, 企业, 机构, 专家)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import select

from luodi.auth.policy import can, is_staff
from luodi.errors import DomainError
from luodi.inventory import codes, records, search
from luodi.inventory.kinds import KINDS, kind_of
from luodi.inventory.models import Enterprise, Institution
from luodi.inventory.taxonomy import active_taxonomy
from luodi.inventory.views import record_view
from luodi.web.deps import Ctx, CtxDep, UserCtx
from luodi.web.i18n import translate
from luodi.web.pages.forms import UserFormCtx, redirect
from luodi.web.pages.matches import match_sections
from luodi.web.pages.record_forms import FORMS, form_to_data, form_values
from luodi.web.templating import render

router = APIRouter()


def _owner_choices(ctx: Ctx, kind: str) -> list[tuple[int, str]]:
    if not is_staff(ctx.actor):
        return []
    model: Any = {"achievements": Institution, "demands": Enterprise}.get(kind)
    if model is None:
        return []
    return [(r.id, r.name) for r in ctx.session.execute(select(model.id, model.name)
                                                         .order_by(model.name))]


def _may_create(ctx: Ctx, kind: str) -> bool:
    """Whether to offer "Add": asks the policy about a record owned by the actor's organisation."""
    return can(ctx.actor, f"{kind}.create", SimpleNamespace(owner_org_id=ctx.actor.org_id))


def _form(ctx: Ctx, kind: str, record_id: int | None, values: dict[str, Any], *,
          error: str | None = None, status: int = 200) -> Response:
    return render(ctx.request, "records/form.html", status_code=status, kind=kind_of(kind),
                  form=FORMS[kind], values=values, record_id=record_id, error=error,
                  owner_choices=_owner_choices(ctx, kind), staff=is_staff(ctx.actor))


def _routes(kind: str) -> None:
    """Pages for one kind; explicit paths so /{kind} never shadows other pages."""

    @router.get(f"/{kind}")
    def list_page(ctx: CtxDep, q: str = Query("", max_length=200), field: str = "",
                  stage: str = "", region: str = "", status: str = "",
                  page: int = Query(1, ge=1, le=100000)) -> Response:
        spec = kind_of(kind)
        stage = stage if stage in search.STAGE_TRL else ""
        query = search.RecordQuery(q=q, field=field, stage=stage, status=status,
                                   region=region if region.isdigit() else "",
                                   page=page, per_page=20)
        result = search.list_records(ctx.session, ctx.actor, kind, query)
        items = [record_view(ctx.session, ctx.actor, kind, r, audit_view=False)
                 for r in result.items]
        return render(ctx.request, "records/list.html", kind=spec, result=result, items=items,
                      query=query, fields=active_taxonomy(),
                      may_create=ctx.user is not None and _may_create(ctx, kind))

    @router.get(f"/{kind}/new")
    def new_page(ctx: UserCtx) -> Response:
        return _form(ctx, kind, None, {})

    @router.post(f"/{kind}/new")
    def create(ctx: UserFormCtx) -> Response:
        data = form_to_data(kind, ctx.extra["form"], creating=True)
        try:
            obj = records.create_record(ctx.session, ctx.actor, kind, data, settings=ctx.settings)
        except DomainError as exc:
            ctx.session.rollback()
            return _form(ctx, kind, None, dict(ctx.extra["form"]), status=exc.status,
                         error=translate(ctx.locale, exc.message))
        return redirect(f"/{kind}/{obj.id}")

    @router.get(f"/{kind}/{{record_id}}")
    def detail(record_id: int, ctx: CtxDep) -> Response:
        obj = records.get_record(ctx.session, ctx.actor, kind, record_id)
        view = record_view(ctx.session, ctx.actor, kind, obj)
        return render(ctx.request, "records/detail.html", kind=kind_of(kind), r=view, obj=obj,
                      may_edit=can(ctx.actor, f"{kind}.update", obj),
                      trl_levels=codes.TRL_LEVELS, match_sections=match_sections(ctx, kind, obj))

    @router.get(f"/{kind}/{{record_id}}/edit")
    def edit_page(record_id: int, ctx: UserCtx) -> Response:
        obj = records.get_for_edit(ctx.session, ctx.actor, kind, record_id)
        view = record_view(ctx.session, ctx.actor, kind, obj, audit_view=False)
        return _form(ctx, kind, record_id, form_values(kind, view))

    @router.post(f"/{kind}/{{record_id}}/edit")
    def update(record_id: int, ctx: UserFormCtx) -> Response:
        data = form_to_data(kind, ctx.extra["form"], creating=False)
        try:
            records.update_record(ctx.session, ctx.actor, kind, record_id, data,
                                  settings=ctx.settings)
        except DomainError as exc:
            if exc.status in (401, 403, 404):
                raise
            ctx.session.rollback()
            return _form(ctx, kind, record_id, dict(ctx.extra["form"]), status=exc.status,
                         error=translate(ctx.locale, exc.message))
        return redirect(f"/{kind}/{record_id}")


for _kind in KINDS:
    _routes(_kind)
