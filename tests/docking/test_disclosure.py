"""Tiered disclosure of a case: teaser → detail after accept → contacts after both consents →
files after an NDA; outsiders see nothing, and who saw what is audited."""

from __future__ import annotations

import pytest

from luodi.auth.actor import ANONYMOUS
from luodi.docking import cases, disclosure, files
from luodi.docking.disclosure import ANONYMISED
from luodi.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from tests.docking import factories as df
from tests.docking.factories import actor_of
from tests.docking.factories import audit_lines as _audit


def _seen(view: disclosure.CaseView) -> str:
    """Everything a view would put on a page, as one string to look for canaries in."""
    return repr((view.record, view.seeker_name, view.owner_name, view.contacts,
                 [(e.kind, e.action, e.note, e.detail)
                  for e in view.events], [(f.filename, f.size) for f in view.files],
                 view.actions, view.broker))


def _absent(view: disclosure.CaseView, canaries: tuple[str, ...] = df.CANARIES) -> None:
    text = _seen(view)
    for canary in canaries:
        assert canary not in text, canary


def test_seeker_sees_the_teaser_only_before_accept(session, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "interested")
    view = disclosure.case_view(session, actor_of(world.buyer), case.id)
    _absent(view)
    assert view.record["title"] == world.achievement.title
    assert view.record["summary"] == "高离子电导率固态电解质。"
    assert "description" not in view.record and view.record["detail_visible"] is False
    assert not any(k.startswith("contact_") for k in view.record)
    assert view.contacts is None and view.files == []
    assert view.owner_name == world.tto.record.name and view.seeker_name == world.buyer.org.name
    assert view.actions == ["close"]
    assert _audit(session, "cases.view_detail") == []


def test_detail_after_accept_audited_once_per_view(session, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "accepted")
    seeker = actor_of(world.buyer)
    view = disclosure.case_view(session, seeker, case.id)
    assert view.record["description"] == df.DETAIL_CANARY and view.record["detail_visible"]
    _absent(view, df.CONTACT_CANARIES)  # contacts wait for both consents
    assert view.contacts is None and "consent" in view.actions
    disclosure.case_view(session, seeker, case.id)
    lines = _audit(session, "cases.view_detail")
    assert [(line.actor_id, line.object_id) for line in lines] == [
        (world.buyer.user.id, str(case.id))] * 2
    assert _audit(session, "achievements.view_confidential") == []


def test_owner_and_staff_see_detail_always_staff_audited(session, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "interested")
    owner = disclosure.case_view(session, actor_of(world.tto), case.id)
    assert owner.record["description"] == df.DETAIL_CANARY
    assert owner.actions == ["accept", "close"]
    assert _audit(session, "cases.view_detail") == []  # one's own record
    staff = disclosure.case_view(session, actor_of(world.operator), case.id)
    assert staff.record["description"] == df.DETAIL_CANARY and staff.contacts is None
    _absent(staff, df.CONTACT_CANARIES)
    assert [line.actor_id for line in _audit(session, "cases.view_detail")] == [
        world.operator.id]
    assert _audit(session, "achievements.view_confidential") == []  # exactly one line


def test_contacts_after_both_consents_each_view_audited(session, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "accepted", broker=True)
    cases.consent_contacts(session, actor_of(world.buyer), case.id, name="王工",
                           email=df.SEEKER_EMAIL)
    for who in (world.buyer, world.tto, world.broker, world.operator):
        view = disclosure.case_view(session, actor_of(who), case.id)
        assert view.contacts is None
        _absent(view, df.CONTACT_CANARIES)
    df._step(session, world, case, "contacts_revealed")  # (the seeker consents again: same)
    readers = (world.buyer, world.tto, world.broker, world.operator)
    for who in readers:
        view = disclosure.case_view(session, actor_of(who), case.id)
        assert view.contacts["seeker"]["email"] == df.SEEKER_EMAIL
        assert view.contacts["owner"]["email"] == df.OWNER_EMAIL
        assert view.contacts["record"] == {"name": df.CONTACT_NAME, "email": df.CONTACT_EMAIL,
                                           "phone": df.CONTACT_PHONE}
        assert not any(k.startswith("contact_") for k in view.record)
    assert [line.actor_id for line in _audit(session, "cases.view_contacts")] == [
        (who.user if hasattr(who, "user") else who).id for who in readers]


@pytest.mark.parametrize("state", ["interested", "contacts_revealed", "agreed", "closed"])
def test_outsiders_get_not_found(session, settings, world, state) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, state, close_from="contacts_revealed")
    stranger_broker = df.broker_user(session)
    for who in (df.enterprise_party(session, settings), df.institution_party(session, settings),
                stranger_broker, df.viewer_user(session), world.broker):
        with pytest.raises(NotFound):
            disclosure.case_view(session, actor_of(who), case.id)
    with pytest.raises(NotAuthenticated):
        disclosure.case_view(session, ANONYMOUS, case.id)
    assert _audit(session, "cases.view_contacts") == []


def test_broker_sees_what_a_helper_needs(session, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "interested", broker=True)
    cases.add_note(session, actor_of(world.broker), case.id, "内部评估：有戏", internal=True)
    broker = disclosure.case_view(session, actor_of(world.broker), case.id)
    assert "description" not in broker.record  # a broker's detail waits for accept too
    assert [e.note for e in broker.events if e.internal] == ["内部评估：有戏"]
    assert broker.broker == world.broker.display_name
    for who in (world.buyer, world.tto):
        party = disclosure.case_view(session, actor_of(who), case.id)
        assert not any(e.internal for e in party.events)
        assert "内部评估" not in _seen(party)
    cases.transition(session, actor_of(world.tto), case.id, "accept")
    assert disclosure.case_view(session, actor_of(world.broker), case.id).record[
        "description"] == df.DETAIL_CANARY


def test_trail_names_parts_not_people(session, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "contacts_revealed", broker=True)
    view = disclosure.case_view(session, actor_of(world.tto), case.id)
    sides = [view.event_sides[e.id] for e in view.events]
    assert sides == ["seeker", "staff", "owner", "seeker", "owner", "system"]


def test_closed_case_keeps_what_was_revealed(session, world) -> None:  # type: ignore[no-untyped-def]
    revealed = df.open_and_advance(session, world, "closed", close_from="contacts_revealed")
    view = disclosure.case_view(session, actor_of(world.buyer), revealed.id)
    assert view.contacts["owner"]["email"] == df.OWNER_EMAIL
    assert view.record["description"] == df.DETAIL_CANARY and view.actions == []
    assert [e.action for e in view.events][-1] == "close"


def test_closed_before_consent_reveals_nothing_more(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    early = df.open_and_advance(session, world, "closed", close_from="interested")
    _absent(disclosure.case_view(session, actor_of(world.buyer), early.id))
    world2 = df.docking_world(session, settings)
    accepted = df.open_and_advance(session, world2, "closed", close_from="accepted")
    view = disclosure.case_view(session, actor_of(world2.buyer), accepted.id)
    assert view.record["description"] == df.DETAIL_CANARY  # accepted before it closed
    assert view.contacts is None
    _absent(view, df.CONTACT_CANARIES)


def test_confidential_demand_hides_its_enterprise_until_accepted(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    demand = df.published_demand(session, settings, world.buyer, confidential=True)
    case = cases.open_case(session, actor_of(world.tto), kind="demands", record_id=demand.id)
    view = disclosure.case_view(session, actor_of(world.tto), case.id)
    assert view.owner_name == ANONYMISED and view.record["enterprise_name"] == ANONYMISED
    assert world.buyer.record.name not in _seen(view)
    _absent(view)
    names = disclosure.party_names(session, actor_of(world.tto), [case])
    assert names[case.id][1] == ANONYMISED
    cases.transition(session, actor_of(world.buyer), case.id, "accept")
    view = disclosure.case_view(session, actor_of(world.tto), case.id)
    assert view.owner_name == world.buyer.record.name
    assert view.record["description"] == df.DEMAND_CANARY


# --- dossier files ------------------------------------------------------------------------

def test_files_upload_before_nda_read_after(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "contacts_revealed", broker=True)
    owner = actor_of(world.tto)
    row = files.upload_file(session, owner, settings, case.id, filename="../../工艺 说明.pdf",
                            content_type="application/pdf", data=b"%PDF-1.4 secret")
    assert row.filename == "工艺 说明.pdf" and row.size == 15 and len(row.sha256) == 64
    stored = settings.data_dir / "dossiers" / row.stored_as
    assert stored.read_bytes() == b"%PDF-1.4 secret" and "工艺" not in row.stored_as
    assert case.events[-1].detail == {"file_id": row.id, "size": 15}  # no name in the trail
    assert disclosure.case_view(session, actor_of(world.buyer), case.id).files == []
    with pytest.raises(PermissionDenied):
        files.read_file(session, actor_of(world.buyer), settings, case.id, row.id)
    assert len(_audit(session, "cases.file_view", outcome="denied")) == 1
    assert "nda" in disclosure.case_view(session, owner, case.id).actions
    cases.record_nda(session, owner, case.id)
    for who in (world.buyer, world.tto, world.broker, world.operator):
        view = disclosure.case_view(session, actor_of(who), case.id)
        assert [f.id for f in view.files] == [row.id] and "nda" not in view.actions
        got, data = files.read_file(session, actor_of(who), settings, case.id, row.id)
        assert (got.id, data) == (row.id, b"%PDF-1.4 secret")
    reads = _audit(session, "cases.file_view")
    assert len(reads) == 4 and {r.object_id for r in reads} == {str(row.id)}


def test_file_refusals(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "contacts_revealed", nda=True)
    seeker = actor_of(world.buyer)
    big = b"x" * (settings.dossier_max_mb * 2**20 + 1)
    with pytest.raises(ValidationFailed) as err:
        files.upload_file(session, seeker, settings, case.id, filename="big.bin",
                          content_type="application/octet-stream", data=big)
    assert err.value.status == 413
    for name, data in (("", b"x"), ("..", b"x"), ("empty.txt", b"")):
        with pytest.raises(ValidationFailed):
            files.upload_file(session, seeker, settings, case.id, filename=name,
                              content_type="text/plain", data=data)
    row = files.upload_file(session, seeker, settings, case.id, filename="a.txt",
                            content_type="text/plain", data=b"hello")
    for who in (df.enterprise_party(session, settings), df.broker_user(session)):
        with pytest.raises(NotFound):
            files.read_file(session, actor_of(who), settings, case.id, row.id)
        with pytest.raises(NotFound):
            files.upload_file(session, actor_of(who), settings, case.id, filename="x.txt",
                              content_type="text/plain", data=b"x")
    other = df.open_and_advance(session, df.docking_world(session, settings),
                                "contacts_revealed", nda=True)
    with pytest.raises(NotFound):  # a file of another case
        files.read_file(session, actor_of(world.operator), settings, other.id, row.id)
    (settings.data_dir / "dossiers" / row.stored_as).write_bytes(b"tampered")
    with pytest.raises(files.FileDamaged):
        files.read_file(session, seeker, settings, case.id, row.id)
    cases.transition(session, seeker, case.id, "close", note="结束")
    with pytest.raises(Conflict):
        files.upload_file(session, seeker, settings, case.id, filename="late.txt",
                          content_type="text/plain", data=b"x")
    assert sorted(p.name for p in (settings.data_dir / "dossiers").iterdir()) == [row.stored_as]


def test_served_types_and_disposition() -> None:
    assert files.served_type("application/pdf") == "application/pdf"
    assert files.served_type("TEXT/PLAIN; charset=utf-8") == "text/plain"
    for risky in ("text/html", "image/svg+xml", "application/javascript", "", None):
        assert files.served_type(risky) == "application/octet-stream"
    header = files.content_disposition('工艺"说明.pdf')
    assert header.startswith('attachment; filename="') and "\n" not in header
    assert "filename*=UTF-8''%E5%B7%A5" in header
