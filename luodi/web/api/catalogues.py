"""API: catalogues (清单) — curate a working set, review, publish, read frozen versions, diff."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from luodi.inventory import catalogues as svc
from luodi.web.deps import CtxDep, UserCtx

router = APIRouter(prefix="/catalogues", tags=["catalogues"])


class CatalogueIn(BaseModel):
    name: str = Field(min_length=2, max_length=200)
    kind: Literal["achievements", "demands"]
    description: str | None = Field(None, max_length=5000)


class CataloguePatch(BaseModel):
    name: str | None = Field(None, min_length=2, max_length=200)
    description: str | None = Field(None, max_length=5000)


class CatalogueOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: str
    description: str | None
    status: str = Field(description="draft | in_review | published")
    published_version: int | None = Field(description="The version the public sees, if any.")
    updated_at: dt.datetime


class ItemOut(BaseModel):
    """An item's public fields (frozen in a version, live in the working set)."""

    id: int
    title: str | None
    summary: str | None = None
    field_code: str | None = None
    field_name: str | None = None
    trl: int | None = None
    stage_name: str | None = None
    region_code: str | None = None
    region_name: str | None = None
    unit: str | None = Field(None, description="Institution or (possibly anonymised) enterprise.")
    status: str
    note: str | None = None


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    action: str
    actor_id: int | None
    note: str | None
    at: dt.datetime


class CatalogueDetailOut(CatalogueOut):
    items: list[ItemOut]
    items_are: Literal["working", "published"] = Field(
        description="'working': the live draft set (staff); 'published': the latest version.")
    events: list[EventOut]


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    number: int
    name: str
    published_at: dt.datetime
    published_by_id: int | None = Field(description="Who prepared and submitted it.")
    approved_by_id: int | None = Field(description="Who approved it (the second pair of eyes).")


class VersionDetailOut(VersionOut):
    items: list[ItemOut]


class ItemsIn(BaseModel):
    record_ids: list[int] = Field(min_length=1, max_length=500)
    kind: Literal["achievements", "demands"] | None = Field(
        None, description="The kind of the ids; refused if it is not the catalogue's kind.")


class ItemsAdded(BaseModel):
    added: list[int]
    already: list[int]


class ItemPatch(BaseModel):
    note: str | None = Field(None, max_length=300)
    position: int | None = Field(None, ge=1)


class OrderIn(BaseModel):
    record_ids: list[int]


class RejectIn(BaseModel):
    note: str = Field(min_length=1, max_length=2000)


class FieldChange(BaseModel):
    old: Any
    new: Any


class ChangeOut(BaseModel):
    id: int
    title: str | None
    changes: dict[str, FieldChange]


class DiffOut(BaseModel):
    from_version: int = Field(description="0 is the empty list before the first publication.")
    to_version: int | None = Field(description="None is the current working draft.")
    added: list[ItemOut]
    removed: list[ItemOut]
    changed: list[ChangeOut]
    renamed: FieldChange | None
    reordered: bool


def _detail(ctx: Any, catalogue_id: int) -> CatalogueDetailOut:
    view = svc.catalogue_view(ctx.session, ctx.actor, catalogue_id)
    base = CatalogueOut.model_validate(view.catalogue).model_dump()
    return CatalogueDetailOut(**base, items=[ItemOut(**i) for i in view.items],
                              items_are="working" if view.working else "published",
                              events=[EventOut.model_validate(e) for e in view.events])


def _diff_out(diff: svc.Diff) -> DiffOut:
    return DiffOut(
        from_version=diff.from_version, to_version=diff.to_version,
        added=[ItemOut(**i) for i in diff.added], removed=[ItemOut(**i) for i in diff.removed],
        changed=[ChangeOut(id=c.record_id, title=c.title, changes={
            k: FieldChange(old=o, new=n) for k, (o, n) in c.changes.items()})
            for c in diff.changed],
        renamed=FieldChange(old=diff.renamed[0], new=diff.renamed[1]) if diff.renamed else None,
        reordered=diff.reordered)


@router.get("", response_model=list[CatalogueOut],
            summary="Catalogues (published ones; drafts too for staff)")
def list_catalogues(ctx: CtxDep,
                    kind: Literal["achievements", "demands"] | None = None) -> list[CatalogueOut]:
    return [CatalogueOut.model_validate(c)
            for c in svc.list_catalogues(ctx.session, ctx.actor, kind=kind)]


@router.post("", response_model=CatalogueOut, status_code=201, summary="Start a draft catalogue")
def create_catalogue(body: CatalogueIn, ctx: UserCtx) -> CatalogueOut:
    cat = svc.create_catalogue(ctx.session, ctx.actor, name=body.name, kind=body.kind,
                               description=body.description)
    return CatalogueOut.model_validate(cat)


@router.get("/{catalogue_id}", response_model=CatalogueDetailOut, summary="One catalogue")
def get_catalogue(catalogue_id: int, ctx: CtxDep) -> CatalogueDetailOut:
    return _detail(ctx, catalogue_id)


@router.patch("/{catalogue_id}", response_model=CatalogueOut, summary="Rename or describe")
def update_catalogue(catalogue_id: int, body: CataloguePatch, ctx: UserCtx) -> CatalogueOut:
    cat = svc.update_catalogue(ctx.session, ctx.actor, catalogue_id, name=body.name,
                               description=body.description)
    return CatalogueOut.model_validate(cat)


@router.post("/{catalogue_id}/items", response_model=ItemsAdded,
             summary="Add published records to the working set (idempotent)")
def add_items(catalogue_id: int, body: ItemsIn, ctx: UserCtx) -> ItemsAdded:
    added, already = svc.add_items(ctx.session, ctx.actor, catalogue_id, body.record_ids,
                                   kind=body.kind)
    return ItemsAdded(added=added, already=already)


@router.put("/{catalogue_id}/items/order", status_code=204, summary="Reorder the working set")
def reorder_items(catalogue_id: int, body: OrderIn, ctx: UserCtx) -> Response:
    svc.reorder_items(ctx.session, ctx.actor, catalogue_id, body.record_ids)
    return Response(status_code=204)


@router.patch("/{catalogue_id}/items/{record_id}", status_code=204,
              summary="Set an item's public remark and/or move it")
def update_item(catalogue_id: int, record_id: int, body: ItemPatch, ctx: UserCtx) -> Response:
    if "note" in body.model_fields_set:
        svc.set_note(ctx.session, ctx.actor, catalogue_id, record_id, body.note)
    if body.position is not None:
        svc.move_item(ctx.session, ctx.actor, catalogue_id, record_id, body.position)
    return Response(status_code=204)


@router.delete("/{catalogue_id}/items/{record_id}", status_code=204,
               summary="Remove a record from the working set")
def remove_item(catalogue_id: int, record_id: int, ctx: UserCtx) -> Response:
    svc.remove_item(ctx.session, ctx.actor, catalogue_id, record_id)
    return Response(status_code=204)


@router.post("/{catalogue_id}/submit", response_model=CatalogueOut, summary="Submit for review")
def submit(catalogue_id: int, ctx: UserCtx) -> CatalogueOut:
    return CatalogueOut.model_validate(svc.submit_for_review(ctx.session, ctx.actor, catalogue_id))


@router.post("/{catalogue_id}/publish", response_model=VersionOut, status_code=201,
             summary="Approve and publish a new version (not by the submitter)")
def publish(catalogue_id: int, ctx: UserCtx) -> VersionOut:
    return VersionOut.model_validate(svc.approve_and_publish(ctx.session, ctx.actor, catalogue_id))


@router.post("/{catalogue_id}/reject", response_model=CatalogueOut,
             summary="Send back to draft with a note")
def reject(catalogue_id: int, body: RejectIn, ctx: UserCtx) -> CatalogueOut:
    return CatalogueOut.model_validate(svc.reject(ctx.session, ctx.actor, catalogue_id, body.note))


@router.get("/{catalogue_id}/versions", response_model=list[VersionOut],
            summary="Published versions, oldest first")
def list_versions(catalogue_id: int, ctx: CtxDep) -> list[VersionOut]:
    return [VersionOut.model_validate(v)
            for v in svc.list_versions(ctx.session, ctx.actor, catalogue_id)]


@router.get("/{catalogue_id}/versions/{number}", response_model=VersionDetailOut,
            summary="One frozen version with its items")
def get_version(catalogue_id: int, number: int, ctx: CtxDep) -> VersionDetailOut:
    version = svc.get_version(ctx.session, ctx.actor, catalogue_id, number)
    return VersionDetailOut(**VersionOut.model_validate(version).model_dump(),
                            items=[ItemOut(**i) for i in version.snapshot])


@router.get("/{catalogue_id}/diff", response_model=DiffOut,
            summary="Differences between versions; without 'to', the working draft (staff)")
def diff(catalogue_id: int, ctx: CtxDep,
         from_: int | None = Query(None, alias="from", ge=0,
                                   description="Base version; 0 = empty; default previous/last"),
         to: int | None = Query(None, ge=1, description="Target version; omit for the draft"),
         ) -> DiffOut:
    if to is None:
        return _diff_out(svc.diff_working(ctx.session, ctx.actor, catalogue_id, from_))
    base = to - 1 if from_ is None else from_
    return _diff_out(svc.diff_versions(ctx.session, ctx.actor, catalogue_id, base, to))
