"""Catalogue services (清单): curate, review, publish and compare named lists of records.

A catalogue's working set is edited as a draft, submitted for review and published by a second
person (four-eyes). Publishing freezes a :class:`CatalogueVersion` whose snapshot holds each item's
public fields as they were; later edits to the records never touch it. Editing a published catalogue
reopens a draft working set while the published versions stay readable. Every change writes a
:class:`CatalogueEvent` and an audit line in the same transaction, then commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from luodi import audit
from luodi.auth.actor import ANONYMOUS, Actor
from luodi.auth.models import User
from luodi.auth.policy import authorize, can, is_admin
from luodi.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from luodi.inventory import codes
from luodi.inventory.catalogue_models import (
    Catalogue,
    CatalogueEvent,
    CatalogueItem,
    CatalogueVersion,
)
from luodi.inventory.kinds import kind_of
from luodi.inventory.models import Achievement, Demand
from luodi.inventory.search import RecordQuery, list_records
from luodi.inventory.views import record_view

KINDS = ("achievements", "demands")
# Only records the public can already see, and that are still on offer, go into a list.
LISTABLE = frozenset({"published", "in_docking"})
# Snapshot fields compared by a diff; display helpers (field_name, region_name…) follow them.
DIFF_FIELDS = ("title", "summary", "field_code", "trl", "region_code", "unit", "status", "note")
SNAPSHOT_FIELDS = (*DIFF_FIELDS, "field_name", "stage_name", "region_name")
_OWNER_LOAD = {"achievements": Achievement.institution, "demands": Demand.enterprise}


@dataclass(frozen=True)
class ItemChange:
    """One record on both sides of a diff whose public fields differ: field → (old, new)."""

    record_id: int
    title: str | None
    changes: dict[str, tuple[Any, Any]]


@dataclass(frozen=True)
class Diff:
    """Differences between two snapshots; ``to_version`` None means the working draft."""

    from_version: int  # 0 = the empty list before the first publication
    to_version: int | None
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[ItemChange]
    renamed: tuple[str, str] | None
    reordered: bool

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.renamed or self.reordered)


@dataclass(frozen=True)
class CatalogueView:
    """A catalogue as one actor may see it: the working set for staff, else the published list."""

    catalogue: Catalogue
    items: list[dict[str, Any]]
    working: bool  # True: live working set; False: the latest published snapshot
    may_manage: bool
    events: list[CatalogueEvent]
    actor_names: dict[int, str]  # display names of the users in ``events``


def _load(session: Session, catalogue_id: int, *, for_update: bool = False) -> Catalogue:
    # FOR UPDATE serialises concurrent workflow steps on PostgreSQL (SQLite locks the file anyway).
    cat = session.get(Catalogue, catalogue_id, with_for_update=for_update or None)
    if cat is None:
        raise NotFound("No such catalogue.")
    return cat


def get_catalogue(session: Session, actor: Actor, catalogue_id: int) -> Catalogue:
    """A catalogue the actor may see; a never-published one is NotFound for non-staff."""
    cat = _load(session, catalogue_id)
    if cat.published_version is None and not can(actor, "catalogue.read_draft", cat):
        raise NotFound("No such catalogue.")  # do not confirm an unpublished list exists
    return cat


def _managed(session: Session, actor: Actor, catalogue_id: int, *,
             for_update: bool = True) -> Catalogue:
    cat = _load(session, catalogue_id, for_update=for_update)
    authorize(session, actor, "catalogue.manage", cat)
    return cat


def may_manage(actor: Actor) -> bool:
    """Whether ``actor`` curates catalogues (pages use it to offer the forms)."""
    return can(actor, "catalogue.manage")


def may_read_draft(actor: Actor) -> bool:
    """Whether ``actor`` sees working sets and unpublished catalogues."""
    return can(actor, "catalogue.read_draft")


def list_catalogues(session: Session, actor: Actor, *, kind: str | None = None) -> list[Catalogue]:
    """Published catalogues for everyone (anonymous included); drafts too for staff."""
    stmt = select(Catalogue).order_by(Catalogue.updated_at.desc(), Catalogue.id.desc())
    if not can(actor, "catalogue.read_draft"):
        stmt = stmt.where(Catalogue.published_version.is_not(None))
    if kind:
        stmt = stmt.where(Catalogue.kind == kind)
    return list(session.scalars(stmt))


def catalogue_view(session: Session, actor: Actor, catalogue_id: int) -> CatalogueView:
    """What the detail page and API show: staff get the working set and the event trail."""
    cat = get_catalogue(session, actor, catalogue_id)
    if can(actor, "catalogue.read_draft", cat):
        events = list(session.scalars(select(CatalogueEvent).where(
            CatalogueEvent.catalogue_id == cat.id).order_by(CatalogueEvent.id.desc())))
        ids = {e.actor_id for e in events if e.actor_id is not None}
        names = {uid: name for uid, name in session.execute(
            select(User.id, User.display_name).where(User.id.in_(ids)))}
        return CatalogueView(cat, live_snapshot(session, cat), True,
                             can(actor, "catalogue.manage", cat), events, names)
    latest = _version(session, cat, cat.published_version or 0)
    return CatalogueView(cat, list(latest.snapshot), False, False, [], {})


def _log(session: Session, actor: Actor, cat: Catalogue, action: str,
         note: str | None = None, detail: dict[str, Any] | None = None) -> None:
    session.add(CatalogueEvent(catalogue_id=cat.id, action=action, actor_id=actor.user_id,
                               note=note))
    audit.record(session, actor, f"catalogue.{action}", obj=("catalogues", cat.id), detail=detail)


def _clean_name(session: Session, name: str, *, other_than: int | None = None) -> str:
    name = (name or "").strip()
    if not 2 <= len(name) <= 200:
        raise ValidationFailed("The name must be 2–200 characters.", data={"field": "name"})
    clash = session.scalar(select(Catalogue.id).where(Catalogue.name == name))
    if clash is not None and clash != other_than:
        raise Conflict(f"已有同名清单「{name}」/ A catalogue named “{name}” already exists.")
    return name


def create_catalogue(session: Session, actor: Actor, *, name: str, kind: str,
                     description: str | None = None) -> Catalogue:
    """Start a draft catalogue of ``kind`` (achievements | demands)."""
    authorize(session, actor, "catalogue.manage")
    if kind not in KINDS:
        raise ValidationFailed("Kind must be achievements or demands.", data={"field": "kind"})
    cat = Catalogue(name=_clean_name(session, name), kind=kind,
                    description=(description or "").strip() or None, status="draft",
                    created_by_id=actor.user_id)
    session.add(cat)
    session.flush()
    _log(session, actor, cat, "created", note=cat.name)
    session.commit()
    return cat


def _open_for_edit(session: Session, actor: Actor, cat: Catalogue) -> None:
    """Edits happen on a draft: a published catalogue reopens, one in review refuses."""
    if cat.status == "in_review":
        raise Conflict("The catalogue is in review; reject it back to draft before editing.")
    if cat.status == "published":
        cat.status = "draft"
        _log(session, actor, cat, "reopened", note=f"v{cat.published_version} stays published")


def update_catalogue(session: Session, actor: Actor, catalogue_id: int, *,
                     name: str | None = None, description: str | None = None) -> Catalogue:
    """Rename and/or describe a catalogue; a no-op leaves a published catalogue published."""
    cat = _managed(session, actor, catalogue_id)
    new_name = _clean_name(session, name, other_than=cat.id) if name is not None else cat.name
    new_desc = ((description or "").strip() or None) if description is not None else cat.description
    if new_name == cat.name and new_desc == cat.description:
        return cat
    _open_for_edit(session, actor, cat)
    if new_name != cat.name:
        _log(session, actor, cat, "renamed", note=f"{cat.name} → {new_name}")
        cat.name = new_name
    if new_desc != cat.description:
        cat.description = new_desc
        _log(session, actor, cat, "described")
    session.commit()
    return cat


def _refusals(session: Session, kind_name: str, ids: list[int]) -> list[dict[str, Any]]:
    """Why each of ``ids`` may not be listed (empty when all may)."""
    model: Any = kind_of(kind_name).model
    found = {r.id: r for r in session.scalars(select(model).where(model.id.in_(ids)))}
    refused = []
    for rid in ids:
        rec = found.get(rid)
        if rec is None:
            refused.append({"id": rid, "reason": "not_found",
                            "message": f"#{rid} 不存在 / no such record in {kind_name}"})
        elif rec.status not in LISTABLE:
            refused.append({"id": rid, "reason": f"status_{rec.status}", "message": (
                f"#{rid}「{rec.title}」为 {rec.status}，只有已发布或对接中的记录可列入清单 / is "
                f"{rec.status}; only published or in-docking records can be listed")})
    return refused


def add_items(session: Session, actor: Actor, catalogue_id: int, record_ids: Iterable[int], *,
              kind: str | None = None) -> tuple[list[int], list[int]]:
    """Append records to the working set; returns (added, already listed) — re-adding is a no-op.

    All-or-nothing: if any id cannot be listed, nothing is added and the refusal names each one.
    ``kind`` states what the caller believes the ids are, so a demand is never read as an
    achievement that happens to share its id.
    """
    cat = _managed(session, actor, catalogue_id)
    if kind is not None and kind != cat.kind:
        raise ValidationFailed(f"「{cat.name}」只收录 {cat.kind}，不能加入 {kind} / This catalogue "
                               f"lists {cat.kind}; {kind} cannot be added.",
                               data={"field": "kind"})
    ids = list(dict.fromkeys(int(i) for i in record_ids))
    if not ids:
        raise ValidationFailed("Give at least one record id.")
    present = {item.record_id for item in cat.items}
    new = [i for i in ids if i not in present]
    refused = _refusals(session, cat.kind, new) if new else []
    if refused:
        message = "; ".join(r["message"] for r in refused)  # dynamic: not a catalogue msgid
        raise ValidationFailed(message, data={"refused": refused})
    if new:
        _open_for_edit(session, actor, cat)
        last = max((item.position for item in cat.items), default=0)
        for offset, rid in enumerate(new, 1):
            cat.items.append(CatalogueItem(record_id=rid, position=last + offset))
        _log(session, actor, cat, "item_added", note=" ".join(f"#{i}" for i in new),
             detail={"record_ids": new})
        session.commit()
    return new, [i for i in ids if i in present]


def _item(cat: Catalogue, record_id: int) -> CatalogueItem:
    for item in cat.items:
        if item.record_id == record_id:
            return item
    raise NotFound(f"#{record_id} 不在清单中 / #{record_id} is not in this catalogue.")


def remove_item(session: Session, actor: Actor, catalogue_id: int, record_id: int) -> None:
    """Take a record out of the working set."""
    cat = _managed(session, actor, catalogue_id)
    item = _item(cat, record_id)
    _open_for_edit(session, actor, cat)
    cat.items.remove(item)
    for position, rest in enumerate(cat.items, 1):  # keep 序号 contiguous
        rest.position = position
    _log(session, actor, cat, "item_removed", note=f"#{record_id}",
         detail={"record_id": record_id})
    session.commit()


def reorder_items(session: Session, actor: Actor, catalogue_id: int,
                  record_ids: list[int]) -> None:
    """Set the working set's order; ``record_ids`` must name every listed record once."""
    cat = _managed(session, actor, catalogue_id)
    _apply_order(session, actor, cat, [int(i) for i in record_ids])


def move_item(session: Session, actor: Actor, catalogue_id: int, record_id: int,
              position: int) -> None:
    """Move one record to ``position`` (1-based, clamped), shifting the others."""
    cat = _managed(session, actor, catalogue_id)
    order = [item.record_id for item in cat.items]
    order.remove(_item(cat, record_id).record_id)
    order.insert(max(0, min(position - 1, len(order))), record_id)
    _apply_order(session, actor, cat, order)


def _apply_order(session: Session, actor: Actor, cat: Catalogue, order: list[int]) -> None:
    current = [item.record_id for item in cat.items]
    if sorted(order) != sorted(current):
        raise ValidationFailed("The new order must name every item exactly once.",
                               data={"expected": current})
    if order == current:
        return
    _open_for_edit(session, actor, cat)
    by_id = {item.record_id: item for item in cat.items}
    for position, rid in enumerate(order, 1):
        by_id[rid].position = position
    _log(session, actor, cat, "reordered", detail={"order": order})
    session.commit()


def set_note(session: Session, actor: Actor, catalogue_id: int, record_id: int,
             note: str | None) -> None:
    """Set an item's public remark (备注), printed in the published list."""
    cat = _managed(session, actor, catalogue_id)
    item = _item(cat, record_id)
    note = (note or "").strip() or None
    if note and len(note) > 300:
        raise ValidationFailed("A remark is at most 300 characters.")
    if note == item.note:
        return
    _open_for_edit(session, actor, cat)
    item.note = note
    _log(session, actor, cat, "item_noted", note=f"#{record_id}: {note or '—'}")
    session.commit()


def _check_listable(snapshot: list[dict[str, Any]]) -> None:
    stale = [e for e in snapshot if e["status"] not in LISTABLE]
    if stale:
        names = "; ".join(f"#{e['id']}「{e['title'] or '?'}」({e['status']})" for e in stale)
        message = f"以下记录已不可列入，请先移除 / Remove records no longer listable: {names}"
        raise Conflict(message, data={"record_ids": [e["id"] for e in stale]})


def submit_for_review(session: Session, actor: Actor, catalogue_id: int) -> Catalogue:
    """Draft → in review. A published catalogue may be resubmitted when its records changed."""
    cat = _managed(session, actor, catalogue_id)
    if cat.status == "in_review":
        raise Conflict("The catalogue is already in review.")
    if not cat.items:
        raise Conflict("An empty catalogue cannot be submitted.")
    live = live_snapshot(session, cat)
    _check_listable(live)
    if cat.published_version is not None:
        last = _version(session, cat, cat.published_version)
        if _compare(last.snapshot, live, last.number, None, (last.name, cat.name)).empty:
            raise Conflict(f"与第 {last.number} 版相比没有变化 / Nothing changed since "
                           f"version {last.number}.")
    cat.status = "in_review"
    cat.submitted_by_id = actor.user_id
    _log(session, actor, cat, "submitted", note=f"{len(live)} items")
    session.commit()
    return cat


def approve_and_publish(session: Session, actor: Actor, catalogue_id: int) -> CatalogueVersion:
    """In review → published: freeze the working set as version n+1 (four-eyes)."""
    cat = _managed(session, actor, catalogue_id)
    if cat.status != "in_review":
        raise Conflict("Only a catalogue in review can be published; submit it first.")
    exempt = is_admin(actor)
    if not exempt and cat.submitted_by_id is not None and cat.submitted_by_id == actor.user_id:
        # Denials are recorded in their own transaction, like the policy's.
        audit.record_now(session, actor, "catalogue.publish", obj=("catalogues", cat.id),
                         outcome="denied", detail={"reason": "four_eyes"})
        raise PermissionDenied("The approver must be someone other than the submitter.",
                               code="four_eyes")
    snapshot = live_snapshot(session, cat)
    _check_listable(snapshot)  # a record may have been withdrawn while the list sat in review
    number = (session.scalar(select(func.max(CatalogueVersion.number))
                             .where(CatalogueVersion.catalogue_id == cat.id)) or 0) + 1
    # published_by = who prepared and submitted it; approved_by = the second pair of eyes.
    version = CatalogueVersion(catalogue_id=cat.id, number=number, name=cat.name,
                               snapshot=snapshot, published_by_id=cat.submitted_by_id,
                               approved_by_id=actor.user_id)
    session.add(version)
    cat.status, cat.published_version, cat.submitted_by_id = "published", number, None
    _log(session, actor, cat, "published", note=f"v{number}, {len(snapshot)} items",
         detail={"version": number})
    session.commit()
    return version


def reject(session: Session, actor: Actor, catalogue_id: int, note: str) -> Catalogue:
    """In review → draft with the reviewer's reason (the submitter may also withdraw this way)."""
    cat = _managed(session, actor, catalogue_id)
    if cat.status != "in_review":
        raise Conflict("Only a catalogue in review can be rejected.")
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("Say why the catalogue is sent back.", data={"field": "note"})
    cat.status, cat.submitted_by_id = "draft", None
    _log(session, actor, cat, "rejected", note=note[:2000])
    session.commit()
    return cat


def _entry(kind_name: str, item: CatalogueItem, obj: Any) -> dict[str, Any]:
    """An item's public fields, as an anonymous visitor sees them (confidential demands hidden)."""
    base = {"id": item.record_id, "note": item.note}
    if obj is None:  # the record was deleted: keep the row visible so staff can remove it
        return {**dict.fromkeys(SNAPSHOT_FIELDS), **base, "status": "missing"}
    view = record_view(None, ANONYMOUS, kind_name, obj)
    trl = view.get("trl") if kind_name == "achievements" else view.get("trl_wanted")
    # Confidential demands come back with the enterprise anonymised: the public tier is frozen.
    unit = view.get("institution_name" if kind_name == "achievements" else "enterprise_name")
    return {**base, "title": view["title"], "summary": view.get("summary"),
            "field_code": view.get("field_code"), "field_name": view.get("field_name"),
            "trl": trl, "stage_name": codes.trl_stage(trl).zh if trl else None,
            "region_code": view.get("region_code"), "region_name": view.get("region_name"),
            "unit": unit, "status": view["status"]}


def live_snapshot(session: Session, cat: Catalogue) -> list[dict[str, Any]]:
    """The working set as it would be frozen if published now (two queries, no N+1)."""
    model: Any = kind_of(cat.kind).model
    ids = [item.record_id for item in cat.items]
    rows: Iterable[Any] = session.scalars(select(model).where(model.id.in_(ids))
                           .options(selectinload(_OWNER_LOAD[cat.kind]))) if ids else []
    found = {r.id: r for r in rows}
    return [_entry(cat.kind, item, found.get(item.record_id)) for item in cat.items]


def _version(session: Session, cat: Catalogue, number: int) -> CatalogueVersion:
    version = session.scalar(select(CatalogueVersion).where(
        CatalogueVersion.catalogue_id == cat.id, CatalogueVersion.number == number))
    if version is None:
        raise NotFound(f"第 {number} 版不存在 / No version {number} of this catalogue.")
    return version


def list_versions(session: Session, actor: Actor, catalogue_id: int) -> list[CatalogueVersion]:
    """Published versions, oldest first."""
    return list(get_catalogue(session, actor, catalogue_id).versions)


def get_version(session: Session, actor: Actor, catalogue_id: int,
                number: int) -> CatalogueVersion:
    """One frozen publication; public once published."""
    return _version(session, get_catalogue(session, actor, catalogue_id), number)


def _compare(old: list[dict[str, Any]], new: list[dict[str, Any]], a: int, b: int | None,
             names: tuple[str, str]) -> Diff:
    old_by, new_by = {e["id"]: e for e in old}, {e["id"]: e for e in new}
    changed = []
    for rid, entry in new_by.items():
        if rid in old_by:
            delta = {f: (old_by[rid].get(f), entry.get(f)) for f in DIFF_FIELDS
                     if old_by[rid].get(f) != entry.get(f)}
            if delta:
                changed.append(ItemChange(rid, entry.get("title"), delta))
    common_old = [e["id"] for e in old if e["id"] in new_by]
    common_new = [e["id"] for e in new if e["id"] in old_by]
    return Diff(a, b, added=[e for e in new if e["id"] not in old_by],
                removed=[e for e in old if e["id"] not in new_by], changed=changed,
                renamed=names if names[0] != names[1] else None,
                reordered=common_old != common_new)


def diff_versions(session: Session, actor: Actor, catalogue_id: int, a: int, b: int) -> Diff:
    """What changed from version ``a`` to version ``b`` (``a`` = 0: the empty list)."""
    cat = get_catalogue(session, actor, catalogue_id)
    old = _version(session, cat, a) if a else None
    new = _version(session, cat, b)
    return _compare(old.snapshot if old else [], new.snapshot, a, b,
                    (old.name if old else new.name, new.name))


def diff_working(session: Session, actor: Actor, catalogue_id: int,
                 base: int | None = None) -> Diff:
    """What publishing now would change against version ``base`` (default: the last published)."""
    cat = get_catalogue(session, actor, catalogue_id)
    authorize(session, actor, "catalogue.read_draft", cat)
    base = (cat.published_version or 0) if base is None else base
    old = _version(session, cat, base) if base else None
    return _compare(old.snapshot if old else [], live_snapshot(session, cat), base, None,
                    (old.name if old else cat.name, cat.name))


def find_candidates(session: Session, actor: Actor, catalogue_id: int, q: str,
                    *, limit: int = 20) -> list[dict[str, Any]]:
    """Records of the catalogue's kind matching ``q``, marked listable / already listed."""
    cat = _managed(session, actor, catalogue_id, for_update=False)
    page = list_records(session, actor, cat.kind, RecordQuery(q=q, per_page=limit))
    present = {item.record_id for item in cat.items}
    return [{"id": r.id, "title": r.title, "status": r.status, "listed": r.id in present,
             "listable": r.status in LISTABLE} for r in page.items]
