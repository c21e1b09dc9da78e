"""Pages: catalogues (清单) — the list, a catalogue's working set and workflow, versions, diffs."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import APIRouter, Query
from fastapi.responses import Response

from luodi.errors import DomainError, ValidationFailed
from luodi.inventory import catalogues as svc
from luodi.web.deps import Ctx, CtxDep
from luodi.web.i18n import translate
from luodi.web.labels import N_
from luodi.web.pages.forms import UserFormCtx, field, redirect
from luodi.web.templating import render

router = APIRouter(prefix="/catalogues")

_IDS = re.compile(r"[\s,，;；、]+")

# Codes shown to people, marked for extraction; templates translate them with _(labels[code]).
LABELS = {
    "draft": N_("Draft"), "in_review": N_("In review"), "published": N_("Published"),
    "achievements": N_("Achievements"), "demands": N_("Demands"),
    "in_docking": N_("In docking"), "transferred": N_("Transferred"),
    "withdrawn": N_("Withdrawn"), "expired": N_("Expired"), "missing": N_("Deleted"),
    "created": N_("Catalogue created"), "renamed": N_("Renamed"),
    "described": N_("Description changed"), "reopened": N_("Reopened as draft"),
    "item_added": N_("Items added"),
    "item_removed": N_("Item removed"), "reordered": N_("Reordered"),
    "item_noted": N_("Remark changed"), "submitted": N_("Submitted for review"),
    "rejected": N_("Sent back to draft"),
    "title": N_("Title"), "summary": N_("Summary"), "field_code": N_("Field"),
    "trl": N_("Maturity"), "region_code": N_("Region"), "unit": N_("Organisation"),
    "status": N_("Status"), "note": N_("Remark"),
}


def _list_page(ctx: Ctx, *, status: int = 200, **extra: object) -> Response:
    return render(ctx.request, "catalogues/list.html", status_code=status, labels=LABELS,
                  catalogues=svc.list_catalogues(ctx.session, ctx.actor),
                  may_manage=svc.may_manage(ctx.actor), **extra)


def _detail_page(ctx: Ctx, catalogue_id: int, *, status: int = 200, q: str = "",
                 **extra: object) -> Response:
    view = svc.catalogue_view(ctx.session, ctx.actor, catalogue_id)
    candidates = (svc.find_candidates(ctx.session, ctx.actor, catalogue_id, q)
                  if q and view.may_manage else [])
    return render(ctx.request, "catalogues/detail.html", status_code=status, labels=LABELS,
                  view=view, cat=view.catalogue, versions=view.catalogue.versions, q=q,
                  candidates=candidates, **extra)


def _error(ctx: Ctx, exc: DomainError) -> str:
    return translate(ctx.locale, exc.message)


@router.get("")
def catalogues(ctx: CtxDep) -> Response:
    return _list_page(ctx)


@router.post("")
def create_catalogue(ctx: UserFormCtx) -> Response:
    try:
        cat = svc.create_catalogue(ctx.session, ctx.actor, name=field(ctx, "name"),
                                   kind=field(ctx, "kind"),
                                   description=field(ctx, "description") or None)
    except DomainError as exc:
        ctx.session.rollback()
        return _list_page(ctx, status=exc.status, error=_error(ctx, exc))
    return redirect(f"/catalogues/{cat.id}")


@router.get("/{catalogue_id}")
def catalogue(catalogue_id: int, ctx: CtxDep, q: str = Query("", max_length=200)) -> Response:
    return _detail_page(ctx, catalogue_id, q=q.strip())


def _parse_ids(text: str) -> list[int]:
    """'12, 13 14、15' → [12, 13, 14, 15]; '#12' is accepted as people copy ids that way."""
    parts = [p.lstrip("#") for p in _IDS.split(text) if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise ValidationFailed("Enter record ids separated by commas or spaces.")
    return [int(p) for p in parts]


def _attempt(ctx: Ctx, catalogue_id: int, call: Callable[[], object]) -> Response:
    """Run one workflow step; a refusal re-renders the page with the reason (PRG on success)."""
    try:
        call()
    except DomainError as exc:
        if exc.code in ("permission_denied", "not_authenticated"):
            raise  # the error page, not a form to retry (four-eyes refusals stay on the page)
        ctx.session.rollback()
        return _detail_page(ctx, catalogue_id, status=exc.status, error=_error(ctx, exc))
    return redirect(f"/catalogues/{catalogue_id}")


@router.post("/{catalogue_id}/edit")
def edit(catalogue_id: int, ctx: UserFormCtx) -> Response:
    return _attempt(ctx, catalogue_id, lambda: svc.update_catalogue(
        ctx.session, ctx.actor, catalogue_id, name=field(ctx, "name"),
        description=field(ctx, "description")))


@router.post("/{catalogue_id}/items")
def add_items(catalogue_id: int, ctx: UserFormCtx) -> Response:
    return _attempt(ctx, catalogue_id, lambda: svc.add_items(
        ctx.session, ctx.actor, catalogue_id, _parse_ids(field(ctx, "record_ids")),
        kind=field(ctx, "kind") or None))


@router.post("/{catalogue_id}/items/{record_id}/remove")
def remove_item(catalogue_id: int, record_id: int, ctx: UserFormCtx) -> Response:
    return _attempt(ctx, catalogue_id, lambda: svc.remove_item(
        ctx.session, ctx.actor, catalogue_id, record_id))


@router.post("/{catalogue_id}/items/{record_id}/move")
def move_item(catalogue_id: int, record_id: int, ctx: UserFormCtx) -> Response:
    position = field(ctx, "position")
    return _attempt(ctx, catalogue_id, lambda: svc.move_item(
        ctx.session, ctx.actor, catalogue_id, record_id,
        int(position) if position.isdigit() else 1))


@router.post("/{catalogue_id}/items/{record_id}/note")
def note_item(catalogue_id: int, record_id: int, ctx: UserFormCtx) -> Response:
    return _attempt(ctx, catalogue_id, lambda: svc.set_note(
        ctx.session, ctx.actor, catalogue_id, record_id, field(ctx, "note")))


@router.post("/{catalogue_id}/submit")
def submit(catalogue_id: int, ctx: UserFormCtx) -> Response:
    return _attempt(ctx, catalogue_id, lambda: svc.submit_for_review(
        ctx.session, ctx.actor, catalogue_id))


@router.post("/{catalogue_id}/publish")
def publish(catalogue_id: int, ctx: UserFormCtx) -> Response:
    return _attempt(ctx, catalogue_id, lambda: svc.approve_and_publish(
        ctx.session, ctx.actor, catalogue_id))


@router.post("/{catalogue_id}/reject")
def reject(catalogue_id: int, ctx: UserFormCtx) -> Response:
    return _attempt(ctx, catalogue_id, lambda: svc.reject(
        ctx.session, ctx.actor, catalogue_id, field(ctx, "note")))


@router.get("/{catalogue_id}/versions/{number}")
def version(catalogue_id: int, number: int, ctx: CtxDep) -> Response:
    cat = svc.get_catalogue(ctx.session, ctx.actor, catalogue_id)
    ver = svc.get_version(ctx.session, ctx.actor, catalogue_id, number)
    return render(ctx.request, "catalogues/version.html", labels=LABELS, cat=cat, version=ver,
                  items=ver.snapshot)


@router.get("/{catalogue_id}/diff")
def diff(catalogue_id: int, ctx: CtxDep, from_: str = Query("", alias="from"),
         to: str = "") -> Response:
    """``to`` empty or 'draft': the working draft (staff); ``from`` empty: the sensible base."""
    cat = svc.get_catalogue(ctx.session, ctx.actor, catalogue_id)
    base = int(from_) if from_.isdigit() else None
    if to.isdigit():
        result = svc.diff_versions(ctx.session, ctx.actor, catalogue_id,
                                   int(to) - 1 if base is None else base, int(to))
    else:
        result = svc.diff_working(ctx.session, ctx.actor, catalogue_id, base)
    return render(ctx.request, "catalogues/diff.html", labels=LABELS, cat=cat, diff=result,
                  versions=cat.versions, show_draft=svc.may_read_draft(ctx.actor))
