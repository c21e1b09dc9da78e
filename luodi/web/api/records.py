"""API: the five inventory record kinds, one set of routes each, plus vocabularies.

Routes are generated per kind so /openapi.json shows each kind's own request schema.
"""

# No `from __future__ import annotations`: FastAPI must see each kind's real schema class.
from typing import Any

from fastapi import APIRouter, Body, Query, Response

from luodi.inventory import codes, duplicates, records, search
from luodi.inventory.kinds import KINDS, Kind
from luodi.inventory.taxonomy import active_taxonomy
from luodi.inventory.views import record_view
from luodi.web.deps import CtxDep, UserCtx

router = APIRouter()


def _query(q: str, field: str, stage: str, region: str, status: str, trl_min: int | None,
           trl_max: int | None, institution_id: int | None, enterprise_id: int | None,
           page: int, per_page: int) -> search.RecordQuery:
    return search.RecordQuery(q=q, field=field, stage=stage, region=region, status=status,
                              trl_min=trl_min, trl_max=trl_max, institution_id=institution_id,
                              enterprise_id=enterprise_id, page=page, per_page=per_page)


def _routes(kind: Kind) -> None:
    name = kind.name
    schema: Any = kind.schema

    @router.get(f"/{name}", tags=[name], summary=f"List {name} ({kind.label_zh})",
                name=f"list_{name}")
    def list_(ctx: CtxDep, q: str = Query("", max_length=200), field: str = "",
              stage: str = Query("", pattern="^(|early|middle|mature)$"),
              region: str = Query("", pattern=r"^\d{0,6}$"), status: str = "",
              trl_min: int | None = Query(None, ge=1, le=9),
              trl_max: int | None = Query(None, ge=1, le=9),
              institution_id: int | None = None, enterprise_id: int | None = None,
              page: int = Query(1, ge=1, le=100000),
              per_page: int = Query(20, ge=1, le=200)) -> dict[str, Any]:
        query = _query(q, field, stage, region, status, trl_min, trl_max, institution_id,
                       enterprise_id, page, per_page)
        result = search.list_records(ctx.session, ctx.actor, name, query)
        items = [record_view(ctx.session, ctx.actor, name, r, audit_view=False)
                 for r in result.items]
        return {"ok": True, "total": result.total, "page": result.page,
                "per_page": result.per_page, "pages": result.pages, "items": items}

    @router.post(f"/{name}", tags=[name], status_code=201, summary=f"Create a record in {name}",
                 name=f"create_{name}")
    def create(body: schema, ctx: UserCtx) -> dict[str, Any]:  # type: ignore[valid-type]
        data = body.model_dump(exclude_unset=True)
        obj = records.create_record(ctx.session, ctx.actor, name, data, settings=ctx.settings)
        return record_view(ctx.session, ctx.actor, name, obj)

    @router.get(f"/{name}/{{record_id}}", tags=[name], summary=f"One record of {name}",
                name=f"get_{name}")
    def get(record_id: int, ctx: CtxDep) -> dict[str, Any]:
        obj = records.get_record(ctx.session, ctx.actor, name, record_id)
        return record_view(ctx.session, ctx.actor, name, obj)

    @router.patch(f"/{name}/{{record_id}}", tags=[name], summary=f"Update a record of {name}",
                  name=f"update_{name}")
    def update(record_id: int, ctx: UserCtx,
               patch: dict[str, Any] = Body(..., description="Fields to change")) -> dict[str, Any]:
        obj = records.update_record(ctx.session, ctx.actor, name, record_id, patch,
                                    settings=ctx.settings)
        return record_view(ctx.session, ctx.actor, name, obj)

    @router.delete(f"/{name}/{{record_id}}", tags=[name], status_code=204,
                   summary=f"Delete a record of {name} (operators)", name=f"delete_{name}")
    def delete(record_id: int, ctx: UserCtx) -> Response:
        records.delete_record(ctx.session, ctx.actor, name, record_id)
        return Response(status_code=204)


for _kind in KINDS.values():
    _routes(_kind)


@router.get("/vocabularies/fields", tags=["vocabularies"], summary="Industry-field taxonomy")
def fields() -> list[dict[str, Any]]:
    return [{"code": f.code, "name_zh": f.name_zh, "name_en": f.name_en, "priority": f.priority}
            for f in active_taxonomy()]


@router.get("/vocabularies/regions", tags=["vocabularies"],
            summary="GB/T 2260 region codes (search by name or code prefix)")
def regions(q: str = Query(..., min_length=1, max_length=40)) -> list[dict[str, Any]]:
    return [{"code": r.code, "name": r.name, "level": r.level,
             "path": " ".join(codes.region_chain(r.code))} for r in codes.search_regions(q)]


@router.get("/vocabularies/trl", tags=["vocabularies"], summary="TRL 1–9 (GB/T 22900-2022)")
def trl_levels() -> list[dict[str, Any]]:
    return [{"trl": t.number, "zh": t.zh, "en": t.en, "stage": t.stage.value}
            for t in codes.TRL_LEVELS]


@router.get("/duplicates", tags=["inventory"], summary="Open near-duplicate flags (operators)")
def open_duplicates(ctx: UserCtx, kind: str | None = None) -> list[dict[str, Any]]:
    return [{"id": f.id, "kind": f.kind, "record_id": f.record_id, "other_id": f.other_id,
             "similarity": f.similarity, "status": f.status}
            for f in duplicates.open_flags(ctx.session, ctx.actor, kind)]


@router.post("/duplicates/{flag_id}", tags=["inventory"], summary="Resolve a duplicate flag")
def resolve_duplicate(flag_id: int, ctx: UserCtx,
                      verdict: str = Body(..., embed=True, pattern="^(distinct|duplicate)$"),
                      ) -> dict[str, Any]:
    flag = duplicates.resolve_flag(ctx.session, ctx.actor, flag_id, verdict)
    return {"id": flag.id, "status": flag.status}
