"""Docking cases (对接案例): opening one, moving it through the workflow, consent, NDA, brokers.

Every service here takes the actor, reads the case through :func:`get_case_for` (outsiders get
NotFound, never a hint the case exists), asks :mod:`luodi.docking.workflow` whether the step is
allowed, writes one :class:`CaseEvent` per change and an audit line in the same transaction,
and commits. A refusal rolls the transaction back (:func:`atomic`), so it leaves nothing
behind and no row lock outlives it. What an actor may *see* of a case lives in
:mod:`luodi.docking.disclosure`; dossier files in :mod:`luodi.docking.files`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session, selectinload

from luodi import audit
from luodi.auth.actor import Actor, system_actor
from luodi.auth.models import User
from luodi.auth.policy import authorize, is_staff
from luodi.auth.service import normalise_email
from luodi.db import utcnow
from luodi.docking import workflow
from luodi.docking.access import get_case_for, roles_in
from luodi.docking.models import Case, CaseEvent
from luodi.docking.trail import record_event
from luodi.errors import NotFound, PermissionDenied, ValidationFailed
from luodi.inventory.models import Achievement, Demand
from luodi.push.ledger import Push

__all__ = ["OPENABLE", "add_note", "assign_broker", "atomic", "consent_contacts",
           "default_contact", "list_cases", "may_consent", "may_record_nda", "open_case",
           "record_nda", "transition"]

# Record statuses a case may be opened on: what the public sees and may still be docked.
OPENABLE = frozenset({"published", "in_docking"})
# Who seeks what: enterprises dock achievements, institutions offer to solve demands.
SEEKER_ORG_KIND = {"achievements": "enterprise", "demands": "institution"}
MODELS: dict[str, type[Achievement] | type[Demand]] = {"achievements": Achievement,
                                                       "demands": Demand}
MAX_NOTE = 2000
MAX_PER_PAGE = 100
# Eager loads for lists: each case's record and the record's party, in a fixed number of queries.
LIST_LOADS = (selectinload(Case.achievement).selectinload(Achievement.institution),
              selectinload(Case.demand).selectinload(Demand.enterprise))


@contextmanager
def atomic(session: Session) -> Iterator[None]:
    """One service call's transaction: rolled back if the call fails before it commits.

    A refused request then writes nothing, queued denial lines are flushed (see
    :func:`luodi.audit.record_now`), and PostgreSQL's ``FOR UPDATE`` lock on the case is
    released at once instead of when the caller happens to close its session.
    """
    try:
        yield
    except Exception:
        session.rollback()
        raise


def _clean_note(note: str | None, *, required: bool = False, field: str = "note") -> str | None:
    text = (note or "").strip() or None
    if text is None and required:
        raise ValidationFailed("请填写内容 / Please write something.", data={"field": field})
    if text is not None and len(text) > MAX_NOTE:
        raise ValidationFailed(f"最多 {MAX_NOTE} 字 / At most {MAX_NOTE} characters.",
                               data={"field": field})
    return text


def _denied(session: Session, actor: Actor, action: str, case: Case, message: str) -> None:
    """Refuse a part that may not act, leaving a denial line like :func:`authorize` does."""
    audit.record_now(session, actor, action, obj=("cases", case.id), outcome="denied")
    raise PermissionDenied(message)


# --- opening ------------------------------------------------------------------------------

def _public_record(session: Session, kind: str, record_id: int) -> Achievement | Demand:
    model = MODELS.get(kind)
    if model is None:
        raise ValidationFailed(f"kind 只能是 achievements 或 demands / kind must be "
                               f"'achievements' or 'demands', not '{kind}'.",
                               data={"field": "kind"})
    record: Achievement | Demand | None = session.get(model, record_id)  # type: ignore[assignment]
    if record is None or record.status not in OPENABLE:
        raise NotFound("没有这条可对接的记录 / No such record open for docking.")
    return record


def _check_seeker(session: Session, actor: Actor, kind: str,
                  record: Achievement | Demand) -> None:
    if record.owner_org_id is not None and record.owner_org_id == actor.org_id:
        raise ValidationFailed("不能对本单位发布的记录发起对接 / You cannot dock a record of "
                               "your own organisation.", data={"field": "record_id"})
    if actor.org_kind != SEEKER_ORG_KIND[kind]:
        audit.record_now(session, actor, "cases.open", obj=(kind, record.id), outcome="denied")
        raise PermissionDenied("成果由企业对接，需求由机构对接 / Enterprises dock achievements; "
                               "institutions dock demands.")


def _check_push(session: Session, actor: Actor, kind: str, record_id: int,
                push_id: int | None) -> None:
    """A push named as the origin must be this seeker's push of this achievement."""
    if push_id is None:
        return
    push = session.get(Push, push_id)
    if (push is None or kind != "achievements" or push.achievement_id != record_id
            or push.organisation_id != actor.org_id):
        raise ValidationFailed("push_id 不是本单位对该成果的推送 / push_id is not your "
                               "organisation's push of this achievement.",
                               data={"field": "push_id"})


def _open_case_of(session: Session, kind: str, record_id: int, org_id: int | None) -> Case | None:
    column = Case.achievement_id if kind == "achievements" else Case.demand_id
    return session.scalar(select(Case).where(
        column == record_id, Case.seeker_org_id == org_id,
        Case.state.in_(workflow.OPEN_STATES)).order_by(Case.id).limit(1))


def open_case(session: Session, actor: Actor, *, kind: str, record_id: int,
              push_id: int | None = None, note: str | None = None,
              commit: bool = True) -> Case:
    """Show interest in a record (意向): open a case between the actor's organisation and the owner.

    ``kind`` "achievements": an enterprise is interested in an institution's achievement;
    "demands": an institution offers to solve an enterprise's demand. The record must be public
    (published or in docking; else NotFound) and not the actor's own (ValidationFailed). If
    the seeker already has an open case on the record, that case is returned and nothing is
    written. A record not linked to an account has no owner organisation: the case opens all
    the same and operators act for the owner. ``commit=False`` leaves the commit to a caller
    that opens the case inside its own transaction (the inbox's "interested" feedback).
    """
    authorize(session, actor, "cases.open")
    record = _public_record(session, kind, record_id)
    _check_seeker(session, actor, kind, record)
    _check_push(session, actor, kind, record.id, push_id)
    text = _clean_note(note)
    # Lock the record so two concurrent "interested" clicks cannot open two cases (PostgreSQL).
    session.get(MODELS[kind], record.id, with_for_update=True)
    existing = _open_case_of(session, kind, record.id, actor.org_id)
    if existing is None:
        existing = _new_case(session, actor, kind, record, push_id, text)
    if commit:
        session.commit()  # also ends the transaction (and the lock) when nothing was written
    return existing


def _new_case(session: Session, actor: Actor, kind: str, record: Achievement | Demand,
              push_id: int | None, note: str | None) -> Case:
    case = Case(kind=kind, seeker_org_id=actor.org_id, owner_org_id=record.owner_org_id,
                push_id=push_id, state="interested", opened_by_id=actor.user_id,
                achievement_id=record.id if kind == "achievements" else None,
                demand_id=record.id if kind == "demands" else None)
    session.add(case)
    session.flush()
    record_event(session, case, actor, "transition", action="open", to_state="interested",
                 note=note, detail={"push_id": push_id} if push_id is not None else None)
    audit.record(session, actor, "cases.open", obj=("cases", case.id),
                 detail={"kind": kind, "record_id": record.id, "push_id": push_id})
    return case


# --- the workflow -------------------------------------------------------------------------

def _step(session: Session, actor: Actor, case: Case, action: str, roles: frozenset[str],
          note: str | None) -> workflow.Transition:
    try:
        return workflow.check(case.state, action, roles, note)
    except PermissionDenied:
        audit.record_now(session, actor, f"cases.{action}", obj=("cases", case.id),
                         outcome="denied")
        raise


def _apply(session: Session, actor: Actor, case: Case, step: workflow.Transition, *,
           note: str | None, detail: dict[str, Any] | None) -> CaseEvent:
    source = case.state
    case.state = step.target
    if step.target == "closed":
        case.closed_reason = note
    event = record_event(session, case, actor, "transition", action=step.action,
                         from_state=source, to_state=step.target, note=note, detail=detail)
    audit.record(session, actor, "cases.transition", obj=("cases", case.id),
                 detail={"action": step.action, "from": source, "to": step.target})
    return event


def transition(session: Session, actor: Actor, case_id: int, action: str, *,
               note: str | None = None, detail: dict[str, Any] | None = None) -> Case:
    """Take ``action`` on a case (accept, meet, negotiate, agree, close) if the table allows it.

    Refusals: :class:`~luodi.docking.workflow.IllegalTransition` (409) when the state does not
    allow the action or a close has no reason; PermissionDenied (403, audited) when the actor's
    part may not take it. ``detail`` goes into the trail (a meeting's id, for instance).
    """
    with atomic(session):
        case = get_case_for(session, actor, case_id, for_update=True)
        text = _clean_note(note)
        step = _step(session, actor, case, action, roles_in(actor, case), text)
        _apply(session, actor, case, step, note=text, detail=detail)
        session.commit()
    return case


# --- consent to exchange contacts ---------------------------------------------------------

def _side(roles: frozenset[str]) -> str | None:
    if workflow.SEEKER in roles:
        return workflow.SEEKER
    if workflow.OWNER in roles:
        return workflow.OWNER
    return None


def _consent_open(case: Case) -> bool:
    return case.state in workflow.OPEN_STATES and \
        workflow.RANK[case.state] >= workflow.RANK["accepted"]


def may_consent(case: Case, roles: frozenset[str]) -> bool:
    """Whether a party may (still) consent: the case is accepted and its side has not yet."""
    side = _side(roles)
    return side is not None and _consent_open(case) and \
        getattr(case, f"{side}_consent_at") is None


def _clean_contact(name: str, email: str, phone: str | None) -> dict[str, str | None]:
    clean_name = (name or "").strip()
    if not clean_name or len(clean_name) > 100:
        raise ValidationFailed("请填写联系人姓名（最多100字）/ Give a contact name (at most 100 "
                               "characters).", data={"field": "name"})
    try:
        clean_email = normalise_email(email or "")
    except ValidationFailed:
        raise ValidationFailed("请填写有效的电子邮箱 / Please give a valid e-mail address.",
                               data={"field": "email"}) from None
    clean_phone = (phone or "").strip() or None
    if clean_phone is not None and len(clean_phone) > 40:
        raise ValidationFailed("电话最多40字 / A phone number has at most 40 characters.",
                               data={"field": "phone"})
    return {"name": clean_name, "email": clean_email, "phone": clean_phone}


def consent_contacts(session: Session, actor: Actor, case_id: int, *, name: str, email: str,
                     phone: str | None = None) -> Case:
    """A party consents to share a contact (同意交换联系方式); the second consent reveals both.

    Only the seeker or the owner speaks for itself (PIPL: nobody consents for another), and
    only once the case is accepted. Giving it again replaces the contact shared. The contact
    itself never enters the trail or the audit log, which other people read. When both sides
    have consented in state ``accepted``, the system takes the ``reveal`` step as its own event.
    """
    with atomic(session):
        case = get_case_for(session, actor, case_id, for_update=True)
        side = _side(roles_in(actor, case))
        if side is None:
            _denied(session, actor, "cases.consent", case,
                    "只有对接双方可以同意交换联系方式 / Only the two parties consent to share "
                    "contacts.")
        if not _consent_open(case):
            raise workflow.IllegalTransition(
                f"案件处于「{case.state}」状态，不能交换联系方式 / A case in state "
                f"'{case.state}' cannot exchange contacts.", data={"state": case.state})
        setattr(case, f"{side}_contact", _clean_contact(name, email, phone))
        setattr(case, f"{side}_consent_at", utcnow())
        record_event(session, case, actor, "consent", action="consent", detail={"side": side})
        audit.record(session, actor, "cases.consent", obj=("cases", case.id),
                     detail={"side": side})
        if case.state == "accepted" and case.seeker_consent_at and case.owner_consent_at:
            system = system_actor(via=actor.via).with_addr(actor.client_addr)
            step = workflow.check(case.state, "reveal", frozenset({workflow.SYSTEM}))
            _apply(session, system, case, step, note=None, detail={"after": side})
        session.commit()
    return case


def default_contact(session: Session, actor: Actor, case: Case) -> dict[str, str | None]:
    """What the consent form proposes to the actor's side (pages prefill it).

    The side's contact shared before; else, for the owner, the record's contact fields (it
    owns them); for the seeker, the acting user's name and e-mail. Anyone else gets blanks:
    this must never hand the record's contact tier to someone who is not its owner.
    """
    side = _side(roles_in(actor, case))
    blank: dict[str, str | None] = {"name": None, "email": None, "phone": None}
    if side is None:
        return blank
    shared = getattr(case, f"{side}_contact")
    if shared:
        return {**blank, **shared}
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    mine = {"name": user.display_name, "email": user.email, "phone": None} if user else blank
    record = case.record
    if side == workflow.OWNER and record is not None:
        return {"name": record.contact_name or mine["name"],
                "email": record.contact_email or mine["email"], "phone": record.contact_phone}
    return mine


# --- NDA, broker, notes -------------------------------------------------------------------

def may_record_nda(case: Case, roles: frozenset[str]) -> bool:
    """Whether ``roles`` may record an NDA now: owner, broker or staff, contacts revealed."""
    return bool(roles & {workflow.OWNER, workflow.BROKER, workflow.STAFF}) and \
        case.state != "closed" and \
        workflow.RANK[case.state] >= workflow.RANK["contacts_revealed"]


def record_nda(session: Session, actor: Actor, case_id: int, *,
               note: str | None = None) -> Case:
    """Record that an NDA (保密协议) is signed, which opens the dossier files.

    The owner records it, or its broker or an operator on its behalf, once contacts are
    revealed; recording it again changes nothing.
    """
    with atomic(session):
        case = get_case_for(session, actor, case_id, for_update=True)
        roles = roles_in(actor, case)
        if not roles & {workflow.OWNER, workflow.BROKER, workflow.STAFF}:
            _denied(session, actor, "cases.nda", case, "保密协议由发布方、技术经理人或平台记录 / "
                    "The owner, the broker or an operator records the NDA.")
        if not may_record_nda(case, roles):
            raise workflow.IllegalTransition(
                f"案件处于「{case.state}」状态，交换联系方式后才能记录保密协议 / A case in state "
                f"'{case.state}' cannot record an NDA; contacts must be revealed first.",
                data={"state": case.state})
        if case.nda_at is None:
            case.nda_at = utcnow()
            record_event(session, case, actor, "nda", action="nda", note=_clean_note(note))
            audit.record(session, actor, "cases.nda", obj=("cases", case.id))
        session.commit()
    return case


def _broker_user(session: Session, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if user is None or not user.is_active or user.role != "broker":
        raise ValidationFailed("请选择一位在职的技术经理人 / Choose an active broker.",
                               data={"field": "user_id"})
    return user


def assign_broker(session: Session, actor: Actor, case_id: int,
                  broker_user_id: int | None) -> Case:
    """Assign a broker (技术经理人) or none (operators only); the broker then reads it."""
    with atomic(session):
        case = get_case_for(session, actor, case_id, for_update=True)
        authorize(session, actor, "cases.assign_broker", case)
        _broker_user(session, broker_user_id)
        old = case.broker_id
        if old != broker_user_id:
            case.broker_id = broker_user_id
            record_event(session, case, actor, "broker", action="assign_broker",
                         detail={"old": old, "new": broker_user_id})
            audit.record(session, actor, "cases.assign_broker", obj=("cases", case.id),
                         detail={"old": old, "new": broker_user_id})
        session.commit()
    return case


def add_note(session: Session, actor: Actor, case_id: int, note: str, *,
             internal: bool = False) -> CaseEvent:
    """Add a note to the trail; ``internal`` notes (broker and staff only) hide from parties."""
    with atomic(session):
        case = get_case_for(session, actor, case_id)
        text = _clean_note(note, required=True)
        if internal:
            authorize(session, actor, "cases.internal_notes", case)
        event = record_event(session, case, actor, "note", note=text, internal=internal)
        session.commit()
    return event


# --- lists --------------------------------------------------------------------------------

def _scope(actor: Actor) -> Any:
    """Which cases a non-staff actor sees: its organisation's, and those it brokers."""
    conditions = []
    if actor.org_id is not None:
        conditions += [Case.seeker_org_id == actor.org_id, Case.owner_org_id == actor.org_id]
    if actor.role == "broker" and actor.user_id is not None:
        conditions.append(Case.broker_id == actor.user_id)
    return or_(*conditions) if conditions else false()


def list_cases(session: Session, actor: Actor, *, state: str | None = None, mine: bool = True,
               page: int = 1, per_page: int = 50) -> tuple[list[Case], int]:
    """A page of the cases the actor may read, most recently active first, and their total.

    Parties see their organisation's cases (as seeker or owner), brokers the cases assigned to
    them, and nobody else anything. Staff oversee every case: ``mine`` narrows nothing for them
    (operators are not a side of a case) and is accepted so one page serves everyone.
    Records and their parties are loaded eagerly, so a page costs the same few queries.
    """
    authorize(session, actor, "cases.list")
    stmt = select(Case)
    if not is_staff(actor):
        stmt = stmt.where(_scope(actor))
    if state is not None:
        if state not in workflow.STATES:
            raise ValidationFailed(f"未知的状态「{state}」/ Unknown state '{state}'.",
                                   data={"field": "state", "allowed": list(workflow.STATES)})
        stmt = stmt.where(Case.state == state)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page, per_page = max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)
    items = session.scalars(stmt.options(*LIST_LOADS)
                            .order_by(Case.last_event_at.desc(), Case.id.desc())
                            .offset((page - 1) * per_page).limit(per_page))
    return list(items), total
