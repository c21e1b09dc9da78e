"""API: docking cases (对接) — open one, read it with its tiers applied, move it, share contacts.

Handlers only shape what :mod:`luodi.docking.cases`, :mod:`~luodi.docking.disclosure` and
:mod:`~luodi.docking.files` return; the services authorise, audit and commit. Writes answer
with a :class:`CaseOut` summary (public title, state, flags), never the disclosed view, so a
write does not count as a view in the audit log: ``GET /cases/{id}`` is the one view. Request
bodies refuse unknown fields (``extra="forbid"``): nobody sets a state, an owner or a
broker by slipping it into a body.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, File, Query, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from luodi.docking import cases, disclosure, files, workflow
from luodi.docking.models import Case, CaseEvent, DossierFile
from luodi.web.deps import CtxDep, UserCtx

router = APIRouter(tags=["docking"])


# --- shapes -------------------------------------------------------------------------------

class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenIn(_In):
    kind: Literal["achievements", "demands"] = Field(
        description="achievements: an enterprise's interest; demands: an institution's offer")
    record_id: int
    push_id: int | None = Field(None, description="The push that led here, if any")
    note: str | None = Field(None, max_length=cases.MAX_NOTE)


class TransitionIn(_In):
    action: str = Field(description="accept | meet | negotiate | agree | close")
    note: str | None = Field(None, max_length=cases.MAX_NOTE,
                             description="Required with close: the reason")


class ConsentIn(_In):
    name: str = Field(max_length=100)
    email: str = Field(max_length=254)
    phone: str | None = Field(None, max_length=40)


class NdaIn(_In):
    note: str | None = Field(None, max_length=cases.MAX_NOTE)


class BrokerIn(_In):
    user_id: int | None = Field(description="A broker's user id; null: no broker")


class NoteIn(_In):
    note: str = Field(max_length=cases.MAX_NOTE)
    internal: bool = Field(False, description="Broker and staff only; hidden from the parties")


class ConsentFlags(BaseModel):
    seeker: bool
    owner: bool


class CaseOut(BaseModel):
    """A case in a list, or after a write: nothing beyond the public title and the flags."""

    id: int
    kind: str
    record_id: int
    record_title: str
    state: str = Field(description=" | ".join(workflow.STATES))
    closed_reason: str | None
    seeker_name: str | None
    owner_name: str | None
    broker_id: int | None
    consent: ConsentFlags
    nda: bool
    opened_at: dt.datetime
    last_event_at: dt.datetime
    url: str


class CaseListOut(BaseModel):
    items: list[CaseOut]
    total: int
    page: int
    per_page: int


class ContactOut(BaseModel):
    name: str | None = None
    email: str | None = None
    phone: str | None = None


class ContactsOut(BaseModel):
    seeker: ContactOut | None
    owner: ContactOut | None
    record: ContactOut | None = Field(description="The record's own contact fields")


class EventOut(BaseModel):
    id: int
    at: dt.datetime
    by: str = Field(description="The actor's part: seeker, owner, broker, staff or system")
    kind: str
    action: str | None
    from_state: str | None
    to_state: str | None
    note: str | None
    detail: dict[str, Any] | None
    internal: bool


class FileOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    at: dt.datetime
    url: str


class CaseViewOut(CaseOut):
    """A case as the caller may see it: the disclosure tiers are applied by the service."""

    roles: list[str] = Field(description="The caller's parts: seeker, owner, broker, staff")
    record: dict[str, Any] = Field(description="The public teaser; 'description' once the "
                                   "detail tier is open (detail_visible)")
    contacts: ContactsOut | None = Field(description="Null until both parties consented")
    broker: str | None
    events: list[EventOut]
    files: list[FileOut] = Field(description="Empty until an NDA is recorded")
    actions: list[str]


# --- shaping ------------------------------------------------------------------------------

def _summary(case: Case, names: tuple[str | None, str | None]) -> dict[str, Any]:
    record: Any = case.record
    return {"id": case.id, "kind": case.kind, "record_id": record.id,
            "record_title": record.title, "state": case.state,
            "closed_reason": case.closed_reason, "seeker_name": names[0], "owner_name": names[1],
            "broker_id": case.broker_id, "nda": case.nda_at is not None,
            "consent": ConsentFlags(seeker=case.seeker_consent_at is not None,
                                    owner=case.owner_consent_at is not None),
            "opened_at": case.opened_at, "last_event_at": case.last_event_at,
            "url": f"/cases/{case.id}"}


def case_out(ctx: Any, case: Case) -> CaseOut:
    """The summary of one case (the names follow the same disclosure rule as lists)."""
    names = disclosure.party_names(ctx.session, ctx.actor, [case])[case.id]
    return CaseOut(**_summary(case, names))


def _event_out(event: CaseEvent, by: str) -> EventOut:
    return EventOut(id=event.id, at=event.at, by=by, kind=event.kind, action=event.action,
                    from_state=event.from_state, to_state=event.to_state, note=event.note,
                    detail=event.detail, internal=event.internal)


def _file_out(row: DossierFile) -> FileOut:
    return FileOut(id=row.id, filename=row.filename, content_type=row.content_type,
                   size=row.size, sha256=row.sha256, at=row.at,
                   url=f"/api/v1/cases/{row.case_id}/files/{row.id}")


def _contacts_out(contacts: dict[str, dict[str, Any] | None] | None) -> ContactsOut | None:
    if contacts is None:
        return None
    return ContactsOut(**{side: ContactOut(**value) if value else None
                          for side, value in contacts.items()})


def view_out(view: disclosure.CaseView) -> CaseViewOut:
    """The disclosed view as JSON (the pages may reuse it)."""
    return CaseViewOut(
        **_summary(view.case, (view.seeker_name, view.owner_name)),
        roles=sorted(view.roles), record=view.record, contacts=_contacts_out(view.contacts),
        broker=view.broker, events=[_event_out(e, view.event_sides.get(e.id, "system"))
                                    for e in view.events],
        files=[_file_out(f) for f in view.files], actions=view.actions)


# --- routes -------------------------------------------------------------------------------

@router.post("/cases", response_model=CaseOut, status_code=201,
             summary="Show interest: open a docking case (idempotent while one is open)")
def open_case(body: OpenIn, ctx: UserCtx) -> CaseOut:
    case = cases.open_case(ctx.session, ctx.actor, kind=body.kind, record_id=body.record_id,
                           push_id=body.push_id, note=body.note)
    return case_out(ctx, case)


@router.get("/cases", response_model=CaseListOut, summary="The cases I may read")
def list_cases(ctx: CtxDep, state: str | None = Query(None, description=" | ".join(
                   workflow.STATES)),
               mine: bool = True, page: int = Query(1, ge=1, le=100000),
               per_page: int = Query(50, ge=1, le=cases.MAX_PER_PAGE)) -> CaseListOut:
    items, total = cases.list_cases(ctx.session, ctx.actor, state=state, mine=mine, page=page,
                                    per_page=per_page)
    names = disclosure.party_names(ctx.session, ctx.actor, items)
    return CaseListOut(items=[CaseOut(**_summary(c, names[c.id])) for c in items], total=total,
                       page=page, per_page=per_page)


@router.get("/cases/{case_id}", response_model=CaseViewOut,
            summary="One case, as much as you may see (each opened tier is audited)")
def get_case(case_id: int, ctx: CtxDep) -> CaseViewOut:
    return view_out(disclosure.case_view(ctx.session, ctx.actor, case_id))


@router.post("/cases/{case_id}/transitions", response_model=CaseOut,
             summary="Move the case: accept, meet, negotiate, agree, close (with a reason)")
def take_transition(case_id: int, body: TransitionIn, ctx: UserCtx) -> CaseOut:
    return case_out(ctx, cases.transition(ctx.session, ctx.actor, case_id, body.action,
                                          note=body.note))


@router.post("/cases/{case_id}/consent", response_model=CaseOut,
             summary="Consent to share your contact; both consents reveal both contacts")
def consent(case_id: int, body: ConsentIn, ctx: UserCtx) -> CaseOut:
    return case_out(ctx, cases.consent_contacts(ctx.session, ctx.actor, case_id,
                                                name=body.name, email=body.email,
                                                phone=body.phone))


@router.post("/cases/{case_id}/nda", response_model=CaseOut,
             summary="Record that an NDA is signed (opens the dossier files)")
def record_nda(case_id: int, body: NdaIn, ctx: UserCtx) -> CaseOut:
    return case_out(ctx, cases.record_nda(ctx.session, ctx.actor, case_id, note=body.note))


@router.put("/cases/{case_id}/broker", response_model=CaseOut,
            summary="Assign a broker, or none (operators)")
def assign_broker(case_id: int, body: BrokerIn, ctx: UserCtx) -> CaseOut:
    return case_out(ctx, cases.assign_broker(ctx.session, ctx.actor, case_id, body.user_id))


@router.post("/cases/{case_id}/notes", response_model=EventOut, status_code=201,
             summary="Add a note to the trail (internal: broker and staff only)")
def add_note(case_id: int, body: NoteIn, ctx: UserCtx) -> EventOut:
    event = cases.add_note(ctx.session, ctx.actor, case_id, body.note, internal=body.internal)
    by = disclosure.event_side(ctx.session, event.case, event)
    return _event_out(event, by)


@router.post("/cases/{case_id}/files", response_model=FileOut, status_code=201,
             summary="Add a file to the dossier (readable after the NDA)")
def upload_file(case_id: int, ctx: UserCtx, file: UploadFile = File(...)) -> FileOut:
    # Read one byte past the limit: the service refuses what is too large without our
    # holding an arbitrarily large upload in memory.
    data = file.file.read(ctx.settings.dossier_max_mb * 2**20 + 1)
    row = files.upload_file(ctx.session, ctx.actor, ctx.settings, case_id,
                            filename=file.filename or "", data=data,
                            content_type=file.content_type or files.FALLBACK_TYPE)
    return _file_out(row)


@router.get("/cases/{case_id}/files/{file_id}", response_class=Response,
            summary="Download a dossier file (after the NDA; every read is audited)")
def download_file(case_id: int, file_id: int, ctx: CtxDep) -> Response:
    row, data = files.read_file(ctx.session, ctx.actor, ctx.settings, case_id, file_id)
    return Response(content=data, media_type=files.served_type(row.content_type), headers={
        "Content-Disposition": files.content_disposition(row.filename),
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})
