"""Docking case services: opening, the workflow table, consent, NDA, brokers, notes, lists."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from luodi.auth.actor import ANONYMOUS
from luodi.docking import cases, workflow
from luodi.docking.models import Case, CaseEvent
from luodi.docking.workflow import IllegalTransition
from luodi.errors import NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from luodi.inventory.models import Achievement
from luodi.push import inbox
from tests.docking import factories as df
from tests.docking.factories import actor_of
from tests.docking.factories import audit_lines as _audit
from tests.factories import make_user
from tests.inventory import factories as inv
from tests.push import ledger_factories as lf

ACTIONS = ("accept", "reveal", "meet", "negotiate", "agree", "close")






def _trail(session, case_id: int) -> list[tuple]:  # type: ignore[no-untyped-def]
    """Every column of every event, to prove earlier lines are never changed."""
    session.expire_all()
    rows = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                           .order_by(CaseEvent.id))
    return [(e.id, e.at, e.actor_id, e.kind, e.action, e.from_state, e.to_state, e.note,
             e.detail, e.internal) for e in rows]


# --- opening ------------------------------------------------------------------------------

def test_open_case_writes_state_event_and_audit(session, world) -> None:  # type: ignore[no-untyped-def]
    case = cases.open_case(session, actor_of(world.buyer), kind="achievements",
                           record_id=world.achievement.id, note="  想了解中试数据  ")
    assert (case.state, case.seeker_org_id, case.owner_org_id) == (
        "interested", world.buyer.org.id, world.tto.org.id)
    assert case.achievement_id == world.achievement.id and case.demand_id is None
    (event,) = case.events
    assert (event.kind, event.action, event.from_state, event.to_state, event.note) == (
        "transition", "open", None, "interested", "想了解中试数据")
    assert event.actor_id == world.buyer.user.id
    assert [a.object_id for a in _audit(session, "cases.open")] == [str(case.id)]


def test_open_is_idempotent_while_a_case_is_open(session, world) -> None:  # type: ignore[no-untyped-def]
    buyer = actor_of(world.buyer)
    first = cases.open_case(session, buyer, kind="achievements", record_id=world.achievement.id)
    again = cases.open_case(session, buyer, kind="achievements", record_id=world.achievement.id)
    assert again.id == first.id
    assert session.scalar(select(func.count(Case.id))) == 1
    assert session.scalar(select(func.count(CaseEvent.id))) == 1
    assert len(_audit(session, "cases.open")) == 1
    cases.transition(session, buyer, first.id, "close", note="暂不需要")
    reopened = cases.open_case(session, buyer, kind="achievements",
                               record_id=world.achievement.id)
    assert reopened.id != first.id  # a closed case does not block a new interest


def test_open_refusals(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    buyer = actor_of(world.buyer)
    draft = df.published_achievement(session, settings, world.tto, status="draft")
    with pytest.raises(NotFound):
        cases.open_case(session, buyer, kind="achievements", record_id=draft.id)
    with pytest.raises(NotFound):
        cases.open_case(session, buyer, kind="achievements", record_id=999_999)
    with pytest.raises(ValidationFailed):
        cases.open_case(session, buyer, kind="experts", record_id=world.achievement.id)
    with pytest.raises(ValidationFailed):  # one's own organisation's record
        cases.open_case(session, actor_of(world.tto), kind="achievements",
                        record_id=world.achievement.id)
    other_tto = df.institution_party(session, settings)
    with pytest.raises(PermissionDenied):  # institutions do not dock achievements
        cases.open_case(session, actor_of(other_tto), kind="achievements",
                        record_id=world.achievement.id)
    for who in (world.operator, world.broker, df.viewer_user(session)):
        with pytest.raises(PermissionDenied):
            cases.open_case(session, actor_of(who), kind="achievements",
                            record_id=world.achievement.id)
    with pytest.raises(NotAuthenticated):
        cases.open_case(session, ANONYMOUS, kind="achievements", record_id=world.achievement.id)
    assert session.scalar(select(func.count(Case.id))) == 0


def test_open_checks_the_push_it_names(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    other = df.enterprise_party(session, settings)
    theirs = lf.push(session, lf.cycle(session), other.record, world.achievement)
    with pytest.raises(ValidationFailed) as err:
        cases.open_case(session, actor_of(world.buyer), kind="achievements",
                        record_id=world.achievement.id, push_id=theirs.id)
    assert err.value.data["field"] == "push_id"


def test_a_record_without_an_account_opens_for_staff_to_handle(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    unlinked = inv.institution(session, settings, name="未注册的研究所")
    ach = lf.achievement(session, settings, unlinked)
    case = cases.open_case(session, actor_of(world.buyer), kind="achievements",
                           record_id=ach.id)
    assert case.owner_org_id is None
    cases.transition(session, actor_of(world.operator), case.id, "accept")
    assert case.state == "accepted"


def test_institutions_offer_to_solve_demands(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    demand = df.published_demand(session, settings, world.buyer)
    case = cases.open_case(session, actor_of(world.tto), kind="demands", record_id=demand.id)
    assert (case.kind, case.demand_id, case.seeker_org_id, case.owner_org_id) == (
        "demands", demand.id, world.tto.org.id, world.buyer.org.id)
    cases.transition(session, actor_of(world.buyer), case.id, "accept")  # the owner accepts
    with pytest.raises(ValidationFailed):  # its own demand
        cases.open_case(session, actor_of(world.buyer), kind="demands", record_id=demand.id)
    with pytest.raises(PermissionDenied):  # enterprises do not offer to solve demands
        cases.open_case(session, actor_of(df.enterprise_party(session, settings)),
                        kind="demands", record_id=demand.id)


# --- the workflow -------------------------------------------------------------------------

def test_happy_path_leaves_one_event_per_step(session, world) -> None:  # type: ignore[no-untyped-def]
    seeker, owner = actor_of(world.buyer), actor_of(world.tto)
    case = cases.open_case(session, seeker, kind="achievements", record_id=world.achievement.id)
    trail = _trail(session, case.id)
    steps = [
        (lambda: cases.transition(session, owner, case.id, "accept"), ["accept"]),
        (lambda: cases.consent_contacts(session, seeker, case.id, name="王工",
                                        email=df.SEEKER_EMAIL), ["consent"]),
        (lambda: cases.consent_contacts(session, owner, case.id, name="李老师",
                                        email=df.OWNER_EMAIL), ["consent", "reveal"]),
        (lambda: cases.transition(session, seeker, case.id, "meet",
                                  note="线下会谈", detail={"meeting_id": 7}), ["meet"]),
        (lambda: cases.transition(session, owner, case.id, "meet"), ["meet"]),
        (lambda: cases.transition(session, owner, case.id, "negotiate"), ["negotiate"]),
        (lambda: cases.transition(session, seeker, case.id, "agree"), ["agree"]),
    ]
    for run, added in steps:
        run()
        now = _trail(session, case.id)
        assert now[:len(trail)] == trail  # append-only: earlier lines untouched
        assert [line[4] for line in now[len(trail):]] == added
        trail = now
    session.refresh(case)
    assert case.state == "agreed"
    states = [(line[5], line[6]) for line in trail if line[3] == "transition"]
    assert states == [(None, "interested"), ("interested", "accepted"),
                      ("accepted", "contacts_revealed"), ("contacts_revealed", "meeting"),
                      ("meeting", "meeting"), ("meeting", "negotiating"),
                      ("negotiating", "agreed")]
    meet = next(line for line in trail if line[4] == "meet")
    assert meet[7] == "线下会谈" and meet[8] == {"meeting_id": 7}
    reveal = next(line for line in trail if line[4] == "reveal")
    assert reveal[2] is None  # taken by the system, not by the person who consented last
    assert len(_audit(session, "cases.transition")) == 6  # opening is "cases.open"


@pytest.mark.parametrize("state", workflow.STATES)
def test_every_illegal_transition_is_refused_and_writes_nothing(session, world, state) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, state)
    staff = actor_of(world.operator)  # staff may take every human step: only the state refuses
    legal = {t.action for t in workflow.TRANSITIONS if t.source == state}
    before, audits = _trail(session, case.id), len(_audit(session, "cases.transition"))
    for action in (*ACTIONS, "teleport"):
        if action in legal:
            continue
        with pytest.raises(IllegalTransition) as err:
            cases.transition(session, staff, case.id, action, note="原因")
        assert (err.value.status, err.value.code) == (409, "illegal_transition")
        assert " / " in err.value.message and state in err.value.message
    session.refresh(case)
    assert case.state == state and _trail(session, case.id) == before
    assert len(_audit(session, "cases.transition")) == audits


def test_roles_are_refused_where_the_table_says(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "interested", broker=True)
    for who in (world.buyer, world.broker):
        with pytest.raises(PermissionDenied):
            cases.transition(session, actor_of(who), case.id, "accept")
    assert len(_audit(session, "cases.accept", outcome="denied")) == 2
    for who in (df.enterprise_party(session, settings), df.broker_user(session),
                df.viewer_user(session)):
        with pytest.raises(NotFound):
            cases.transition(session, actor_of(who), case.id, "accept")
    with pytest.raises(NotAuthenticated):
        cases.transition(session, ANONYMOUS, case.id, "accept")
    cases.transition(session, actor_of(world.tto), case.id, "accept")
    for who in (world.buyer, world.tto, world.broker, world.operator):
        with pytest.raises(PermissionDenied):  # nobody reveals by hand
            cases.transition(session, actor_of(who), case.id, "reveal")
    session.refresh(case)
    assert case.state == "accepted"


def test_close_needs_a_reason_and_keeps_it(session, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "accepted")
    for note in (None, "", "   "):
        with pytest.raises(IllegalTransition):
            cases.transition(session, actor_of(world.tto), case.id, "close", note=note)
    cases.transition(session, actor_of(world.tto), case.id, "close", note="  技术路线不符  ")
    session.refresh(case)
    assert (case.state, case.closed_reason) == ("closed", "技术路线不符")
    assert case.events[-1].note == "技术路线不符"


# --- consent, NDA -------------------------------------------------------------------------

def test_consent_rules_and_reveal(session, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "interested")
    seeker, owner = actor_of(world.buyer), actor_of(world.tto)
    with pytest.raises(IllegalTransition):  # not accepted yet
        cases.consent_contacts(session, seeker, case.id, name="王工", email=df.SEEKER_EMAIL)
    cases.transition(session, owner, case.id, "accept")
    with pytest.raises(PermissionDenied):  # nobody consents for a party
        cases.consent_contacts(session, actor_of(world.operator), case.id, name="x",
                               email=df.SEEKER_EMAIL)
    for name, email, field in (("", df.SEEKER_EMAIL, "name"), ("王工", "not-an-email", "email"),
                               ("王工", "a@b", "email")):
        with pytest.raises(ValidationFailed) as err:
            cases.consent_contacts(session, seeker, case.id, name=name, email=email)
        assert err.value.data["field"] == field
    cases.consent_contacts(session, seeker, case.id, name=" 王工 ", email=" Seeker@Example.CN ")
    session.refresh(case)
    assert case.state == "accepted" and case.seeker_consent_at and not case.owner_consent_at
    assert case.seeker_contact == {"name": "王工", "email": "seeker@example.cn", "phone": None}
    assert cases.may_consent(case, frozenset({workflow.OWNER}))
    assert not cases.may_consent(case, frozenset({workflow.SEEKER}))
    cases.consent_contacts(session, owner, case.id, name="李老师", email=df.OWNER_EMAIL)
    session.refresh(case)
    assert case.state == "contacts_revealed"
    consent_lines = [e for e in case.events if e.kind == "consent"]
    assert [e.detail for e in consent_lines] == [{"side": "seeker"}, {"side": "owner"}]
    for line in _audit(session, "cases.consent"):  # the contact stays out of the log
        assert df.OWNER_EMAIL not in str(line.detail) and "seeker@" not in str(line.detail)


def test_default_contact_prefills_only_ones_own(session, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "accepted", broker=True)
    owner = cases.default_contact(session, actor_of(world.tto), case)
    assert owner == {"name": df.CONTACT_NAME, "email": df.CONTACT_EMAIL,
                     "phone": df.CONTACT_PHONE}
    seeker = cases.default_contact(session, actor_of(world.buyer), case)
    assert seeker["email"] == world.buyer.user.email and df.CONTACT_EMAIL not in str(seeker)
    for who in (world.broker, world.operator):
        assert cases.default_contact(session, actor_of(who), case) == {
            "name": None, "email": None, "phone": None}
    cases.consent_contacts(session, actor_of(world.buyer), case.id, name="王工",
                           email=df.SEEKER_EMAIL)
    assert cases.default_contact(session, actor_of(world.buyer), case)["email"] == \
        df.SEEKER_EMAIL


def test_nda_rules(session, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "accepted", broker=True)
    with pytest.raises(IllegalTransition):
        cases.record_nda(session, actor_of(world.tto), case.id)
    df._step(session, world, case, "contacts_revealed")
    with pytest.raises(PermissionDenied):
        cases.record_nda(session, actor_of(world.buyer), case.id)
    cases.record_nda(session, actor_of(world.broker), case.id, note="双方已盖章")
    first = case.nda_at
    assert first is not None
    cases.record_nda(session, actor_of(world.tto), case.id)  # again: nothing changes
    session.refresh(case)
    assert case.nda_at == first
    assert [e.note for e in case.events if e.kind == "nda"] == ["双方已盖章"]
    assert len(_audit(session, "cases.nda")) == 1


# --- brokers and notes --------------------------------------------------------------------

def test_assign_broker(session, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "interested")
    staff, broker = actor_of(world.operator), actor_of(world.broker)
    with pytest.raises(NotFound):  # not assigned yet: the broker cannot even see it
        cases.add_note(session, broker, case.id, "你好")
    with pytest.raises(PermissionDenied):
        cases.assign_broker(session, actor_of(world.tto), case.id, world.broker.id)
    not_a_broker = make_user(session, "operator")
    retired = df.broker_user(session)
    retired.is_active = False
    session.commit()
    for user_id in (not_a_broker.id, retired.id, 999_999):
        with pytest.raises(ValidationFailed):
            cases.assign_broker(session, staff, case.id, user_id)
    cases.assign_broker(session, staff, case.id, world.broker.id)
    cases.assign_broker(session, staff, case.id, world.broker.id)  # same again: no line
    cases.add_note(session, broker, case.id, "已联系双方", internal=True)
    cases.assign_broker(session, staff, case.id, None)
    with pytest.raises(NotFound):
        cases.add_note(session, broker, case.id, "还在吗")
    session.refresh(case)
    assert [e.detail for e in case.events if e.kind == "broker"] == [
        {"old": None, "new": world.broker.id}, {"old": world.broker.id, "new": None}]
    assert len(_audit(session, "cases.assign_broker")) == 2


def test_notes_and_internal_notes(session, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "interested", broker=True)
    note = cases.add_note(session, actor_of(world.buyer), case.id, "  请提供样品  ")
    assert (note.kind, note.note, note.internal) == ("note", "请提供样品", False)
    for who in (world.buyer, world.tto):
        with pytest.raises(PermissionDenied):
            cases.add_note(session, actor_of(who), case.id, "内部", internal=True)
    for who in (world.broker, world.operator):
        assert cases.add_note(session, actor_of(who), case.id, "内部", internal=True).internal
    with pytest.raises(ValidationFailed):
        cases.add_note(session, actor_of(world.tto), case.id, "   ")
    with pytest.raises(ValidationFailed):
        cases.add_note(session, actor_of(world.tto), case.id, "长" * (cases.MAX_NOTE + 1))


# --- lists --------------------------------------------------------------------------------

def test_list_cases_scopes(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    mine = df.open_and_advance(session, world, "accepted", broker=True)
    other_buyer = df.enterprise_party(session, settings)
    theirs = cases.open_case(session, actor_of(other_buyer), kind="achievements",
                             record_id=world.achievement.id)
    elsewhere = df.docking_world(session, settings)
    unrelated = df.open_and_advance(session, elsewhere, "interested")

    def ids(who, **kw):  # type: ignore[no-untyped-def]
        items, total = cases.list_cases(session, actor_of(who), **kw)
        assert total == len(items)
        return {c.id for c in items}

    assert ids(world.buyer) == {mine.id}
    assert ids(world.tto) == {mine.id, theirs.id}
    assert ids(other_buyer) == {theirs.id}
    assert ids(world.broker) == {mine.id}
    assert ids(elsewhere.broker) == set()  # brokers see only what they are assigned
    assert ids(df.viewer_user(session)) == set()
    assert ids(world.operator, mine=False) == {mine.id, theirs.id, unrelated.id}
    assert ids(world.operator) == {mine.id, theirs.id, unrelated.id}
    assert ids(world.tto, state="accepted") == {mine.id}
    with pytest.raises(ValidationFailed):
        cases.list_cases(session, actor_of(world.tto), state="bogus")
    with pytest.raises(NotAuthenticated):
        cases.list_cases(session, ANONYMOUS)
    page, total = cases.list_cases(session, actor_of(world.operator), page=2, per_page=2)
    assert total == 3 and len(page) == 1


# --- the inbox hook -----------------------------------------------------------------------

def test_interest_in_a_push_opens_the_case(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    pushed = lf.push(session, lf.cycle(session), world.buyer.record, world.achievement)
    buyer = actor_of(world.buyer)
    inbox.give_feedback(session, buyer, pushed.id, feedback="interested")
    (case,) = session.scalars(select(Case)).all()
    assert (case.state, case.push_id, case.seeker_org_id) == (
        "interested", pushed.id, world.buyer.org.id)
    assert case.events[0].detail == {"push_id": pushed.id}
    inbox.give_feedback(session, buyer, pushed.id, feedback="relevant")
    inbox.give_feedback(session, buyer, pushed.id, feedback="interested")
    assert session.scalar(select(func.count(Case.id))) == 1  # the open case is reused
    assert len(_audit(session, "push.interest")) == 2


def test_interest_in_a_withdrawn_achievement_keeps_the_feedback(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    pushed = lf.push(session, lf.cycle(session), world.buyer.record, world.achievement)
    session.get(Achievement, world.achievement.id).status = "withdrawn"
    session.commit()
    inbox.give_feedback(session, actor_of(world.buyer), pushed.id, feedback="interested")
    session.expire_all()
    assert pushed.feedback == "interested"
    assert session.scalar(select(func.count(Case.id))) == 0
    assert len(_audit(session, "push.interest")) == 1
