"""Tiered disclosure of a docking case (分级披露): what each part of a case may see, and when.

=============  ===============================  ========================================  =======
tier           what                             who, and from when                        audit
=============  ===============================  ========================================  =======
teaser         the record's public fields, as   everyone who may read the case: the two   —
               an anonymous visitor sees them   parties, the case's broker, staff
detail         the confidential tier            owner and staff always; the seeker and    (1)
               (``description``; a confiden-    the case's broker once the case was
               tial demand's enterprise name)   accepted
contacts       both sides' shared contacts and  parties, broker, staff — only after BOTH  (2)
               the record's ``contact_*``       consented (contacts_revealed or later)
dossier files  the case's files                 parties, broker, staff once an NDA is     (3)
                                                recorded (:mod:`luodi.docking.files`)
internal       broker and staff notes           the broker and staff, never the parties   —
notes
=============  ===============================  ========================================  =======

(1) ``cases.view_detail`` for every view by someone other than the owner, once per page view;
(2) ``cases.view_contacts`` for every view; (3) ``cases.file_view`` for every file read.

Anyone else — anonymous, another organisation, a broker not assigned, a government viewer —
gets NotFound for the case (:func:`~luodi.docking.access.get_case_for`). A closed case keeps its
trail; its detail and contacts stay visible only if the case had reached ``accepted`` /
``contacts_revealed`` before it was closed (the trail says so). The record's ``contact_*``
fields never appear in :attr:`CaseView.record`, only under :attr:`CaseView.contacts`. The trail
names who acted by their part in the case (:attr:`CaseView.event_sides`), never by e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from luodi import audit
from luodi.auth.actor import ANONYMOUS, Actor
from luodi.auth.models import Organisation, User
from luodi.auth.policy import STAFF as STAFF_ROLES
from luodi.docking import workflow
from luodi.docking.access import get_case_for, roles_in
from luodi.docking.cases import may_consent, may_record_nda
from luodi.docking.models import Case, CaseEvent, DossierFile
from luodi.inventory.kinds import CONTACT, DETAIL, kind_of
from luodi.inventory.views import plain, record_view

__all__ = ["ANONYMISED", "CaseView", "case_view", "contacts_visible", "detail_visible",
           "event_side", "party_names"]

ANONYMISED = "某企业（需求方信息保密）/ Confidential enterprise"
SIDES = (workflow.SEEKER, workflow.OWNER)


@dataclass
class CaseView:
    """A case as one actor may see it (see the module's table)."""

    case: Case
    roles: frozenset[str]
    record: dict[str, Any]  # the teaser, plus the detail tier when open ("detail_visible")
    seeker_name: str | None
    owner_name: str | None
    contacts: dict[str, dict[str, Any] | None] | None  # seeker/owner/record → contact, or None
    events: list[CaseEvent]  # internal notes only for broker and staff
    files: list[DossierFile]  # empty until an NDA is recorded
    actions: list[str]  # workflow actions, plus "consent" and "nda" when they apply
    broker: str | None  # the broker's display name
    event_sides: dict[int, str] = field(default_factory=dict)  # event id → part of its actor


def _reached(case: Case, state: str) -> bool:
    """Whether the case is, or was before closing, at ``state`` or later in the funnel."""
    if case.state != "closed":
        return workflow.RANK[case.state] >= workflow.RANK[state]
    return any(e.kind == "transition" and e.to_state not in (None, "closed")
               and workflow.RANK[e.to_state] >= workflow.RANK[state] for e in case.events)


def detail_visible(case: Case, roles: frozenset[str]) -> bool:
    """The detail tier: owner and staff always; seeker and broker once accepted."""
    if roles & {workflow.OWNER, workflow.STAFF}:
        return True
    return bool(roles & {workflow.SEEKER, workflow.BROKER}) and _reached(case, "accepted")


def contacts_visible(case: Case, roles: frozenset[str]) -> bool:
    """The contact tier: for anyone reading the case, once both sides consented."""
    return bool(roles) and case.seeker_consent_at is not None and \
        case.owner_consent_at is not None and _reached(case, "contacts_revealed")


def _record(case: Case, detail: bool) -> dict[str, Any]:
    """The teaser as an anonymous visitor sees it (never audited), plus the detail tier."""
    record: Any = case.record  # an Achievement or a Demand, as case.kind says
    data = record_view(None, ANONYMOUS, case.kind, record, audit_view=False)
    data.pop("confidential_visible", None)  # speaks of the record page, not of this case
    if detail:
        for name, tier in kind_of(case.kind).tiers.items():
            if tier == DETAIL:
                data[name] = plain(getattr(record, name))
        if case.kind == "demands" and record.enterprise is not None:
            data["enterprise_name"], data["enterprise_id"] = (record.enterprise.name,
                                                              record.enterprise.id)
    data["detail_visible"] = detail
    return data


def _contacts(case: Case) -> dict[str, dict[str, Any] | None]:
    record: Any = case.record
    listed = {name.removeprefix("contact_"): getattr(record, name)
              for name, tier in kind_of(case.kind).tiers.items() if tier == CONTACT}
    return {workflow.SEEKER: case.seeker_contact, workflow.OWNER: case.owner_contact,
            "record": listed if any(listed.values()) else None}


def _owner_name(case: Case, org_names: dict[int, str], detail: bool) -> str | None:
    record: Any = case.record
    if case.kind == "demands":
        if record.confidential and not detail:
            return ANONYMISED  # the teaser hides the enterprise: so does the case
        party = record.enterprise
    else:
        party = record.institution
    if party is not None:
        return str(party.name)
    return org_names.get(case.owner_org_id) if case.owner_org_id is not None else None


def _org_names(session: Session, org_ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in org_ids if i is not None}
    if not ids:
        return {}
    return {row.id: row.name for row in session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids)))}


def party_names(session: Session, actor: Actor,
                cases: list[Case]) -> dict[int, tuple[str | None, str | None]]:
    """Case id → (seeker name, owner name) for a list, in one query.

    A confidential demand's enterprise is named only to its owner and staff, or once the case
    is accepted and still open; a list does not read trails, so it errs on the side of hiding.
    """
    org_ids: set[int | None] = {c.seeker_org_id for c in cases}
    names = _org_names(session, org_ids | {c.owner_org_id for c in cases})
    out = {}
    for case in cases:
        roles = roles_in(actor, case)
        shown = bool(roles & {workflow.OWNER, workflow.STAFF}) or (
            case.state != "closed" and detail_visible(case, roles))
        out[case.id] = (names.get(case.seeker_org_id), _owner_name(case, names, shown))
    return out


def _part_of(case: Case, actor_id: int | None, user: Any) -> str:
    if actor_id is None:
        return "system"
    if user is None:
        return "former_user"  # the account was deleted since
    if user.organisation_id is not None and user.organisation_id == case.seeker_org_id:
        return workflow.SEEKER
    if user.organisation_id is not None and user.organisation_id == case.owner_org_id:
        return workflow.OWNER
    if user.role == "broker":
        return workflow.BROKER
    return workflow.STAFF if user.role in STAFF_ROLES else "other"


def _sides(session: Session, case: Case, events: list[CaseEvent]) -> dict[int, str]:
    """Event id → the part its actor played: seeker, owner, broker, staff or system."""
    ids = {e.actor_id for e in events if e.actor_id is not None}
    users = {row.id: row for row in session.execute(
        select(User.id, User.organisation_id, User.role).where(User.id.in_(ids)))} if ids else {}
    return {e.id: _part_of(case, e.actor_id, users.get(e.actor_id or 0)) for e in events}


def event_side(session: Session, case: Case, event: CaseEvent) -> str:
    """The part the actor of one event played (for a note just added)."""
    return _sides(session, case, [event])[event.id]


def _actions(case: Case, roles: frozenset[str]) -> list[str]:
    actions = workflow.actions_from(case.state, roles)
    if may_consent(case, roles):
        actions.append("consent")
    if case.nda_at is None and may_record_nda(case, roles):
        actions.append("nda")
    return actions


def _audit_views(session: Session, actor: Actor, case: Case, roles: frozenset[str], *,
                 detail: bool, contacts: bool) -> None:
    """One line per tier opened to someone other than the record's owner, per page view."""
    wrote = False
    if detail and workflow.OWNER not in roles:
        audit.record(session, actor, "cases.view_detail", obj=("cases", case.id),
                     detail={"kind": case.kind, "record_id": case.achievement_id or case.demand_id})
        wrote = True
    if contacts:
        audit.record(session, actor, "cases.view_contacts", obj=("cases", case.id))
        wrote = True
    if wrote:
        session.commit()


def case_view(session: Session, actor: Actor, case_id: int) -> CaseView:
    """The case as ``actor`` may see it, with its tiers applied; each opened tier is audited.

    Call it once per page or API view: every call writes its audit lines.
    """
    case = get_case_for(session, actor, case_id)
    roles = roles_in(actor, case)
    detail, contacts = detail_visible(case, roles), contacts_visible(case, roles)
    helper = bool(roles & workflow.HELPERS)
    events = [e for e in case.events if helper or not e.internal]
    names = _org_names(session, {case.seeker_org_id, case.owner_org_id})
    broker = session.get(User, case.broker_id) if case.broker_id is not None else None
    files = list(session.scalars(select(DossierFile).where(DossierFile.case_id == case.id)
                                 .order_by(DossierFile.id))) if case.nda_at else []
    view = CaseView(case=case, roles=roles, record=_record(case, detail),
                    seeker_name=names.get(case.seeker_org_id),
                    owner_name=_owner_name(case, names, detail),
                    contacts=_contacts(case) if contacts else None, events=events, files=files,
                    actions=_actions(case, roles), broker=broker.display_name if broker else None,
                    event_sides=_sides(session, case, events))
    _audit_views(session, actor, case, roles, detail=detail, contacts=contacts)
    return view
