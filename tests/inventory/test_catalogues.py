"""Catalogues (清单): the draft → review → publish workflow, frozen versions, diffs, access."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from luodi.audit import AuditEvent
from luodi.auth.actor import ANONYMOUS, system_actor
from luodi.auth.service import actor_for
from luodi.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from luodi.inventory import catalogues as cats
from luodi.inventory.catalogue_models import CatalogueEvent
from luodi.inventory.records import create_record, update_record
from tests.factories import PASSWORD, login, make_user

NAME = "2026年第一批重点成果供给清单"


def _institution(session, settings, name: str = "北京示范大学"):  # type: ignore[no-untyped-def]
    return create_record(session, system_actor(), "institutions",
                         {"name": name, "region_code": "110108"}, settings=settings)


def _achievement(session, settings, inst, title: str, **extra: Any):  # type: ignore[no-untyped-def]
    data = {"title": title, "summary": "高离子电导率的固态电解质，用于动力电池。",
            "description": "配方与工艺参数（保密）", "contact_email": "tto@example.cn",
            "institution_id": inst.id, "field_code": "materials", "trl": 6,
            "region_code": "110108", "status": "published", **extra}
    return create_record(session, system_actor(), "achievements", data, settings=settings)


def _demand(session, settings, **extra: Any):  # type: ignore[no-untyped-def]
    ent = create_record(session, system_actor(), "enterprises",
                        {"name": "天津示范新材料有限公司", "region_code": "120116"},
                        settings=settings)
    data = {"title": "寻求工业机器人视觉抓取技术", "summary": "用于仓储分拣的机械臂视觉定位。",
            "enterprise_id": ent.id, "trl_wanted": 7, "region_code": "120116",
            "status": "published", **extra}
    return create_record(session, system_actor(), "demands", data, settings=settings)


@pytest.fixture
def staff(session):  # type: ignore[no-untyped-def]
    """Two operators (a submitter and a reviewer) and their actors."""
    alice, bob = make_user(session, "operator"), make_user(session, "operator")
    return alice, bob, actor_for(alice), actor_for(bob)


def _published_catalogue(session, settings, staff):  # type: ignore[no-untyped-def]
    _alice, _bob, a, b = staff
    inst = _institution(session, settings)
    one = _achievement(session, settings, inst, "一种锂离子电池固态电解质材料")
    two = _achievement(session, settings, inst, "工业机器人柔性关节减速器", field_code="robotics")
    cat = cats.create_catalogue(session, a, name=NAME, kind="achievements")
    cats.add_items(session, a, cat.id, [one.id, two.id], kind="achievements")
    cats.submit_for_review(session, a, cat.id)
    cats.approve_and_publish(session, b, cat.id)
    return cat, one, two


# --- services ----------------------------------------------------------------------------------


def test_full_workflow_freezes_a_version_and_records_events(session, settings, staff) -> None:
    alice, bob, a, _b = staff
    cat, one, two = _published_catalogue(session, settings, staff)
    assert (cat.status, cat.published_version) == ("published", 1)
    version = cats.get_version(session, ANONYMOUS, cat.id, 1)
    assert [e["id"] for e in version.snapshot] == [one.id, two.id]
    entry = version.snapshot[0]
    assert (entry["unit"], entry["trl"], entry["field_code"]) == ("北京示范大学", 6, "materials")
    assert "description" not in entry and "contact_email" not in entry  # public tier only
    assert (version.published_by_id, version.approved_by_id) == (alice.id, bob.id)
    actions = list(session.scalars(select(CatalogueEvent.action)
                                   .where(CatalogueEvent.catalogue_id == cat.id)
                                   .order_by(CatalogueEvent.id)))
    assert actions == ["created", "item_added", "submitted", "published"]
    audited = set(session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "catalogues")))
    assert {"catalogue.created", "catalogue.submitted", "catalogue.published"} <= audited

    # Editing the published catalogue reopens a draft; version 1 stays what the public sees.
    cats.remove_item(session, a, cat.id, two.id)
    assert (cat.status, cat.published_version) == ("draft", 1)
    public = cats.catalogue_view(session, ANONYMOUS, cat.id)
    assert not public.working and [e["id"] for e in public.items] == [one.id, two.id]
    assert cats.diff_working(session, a, cat.id).removed[0]["id"] == two.id


def test_four_eyes(session, settings, staff) -> None:
    _alice, _bob, a, b = staff
    inst = _institution(session, settings)
    rec = _achievement(session, settings, inst, "一种量子点显示材料")
    cat = cats.create_catalogue(session, a, name="津冀技术需求清单（成果）", kind="achievements")
    cats.add_items(session, a, cat.id, [rec.id])
    cats.submit_for_review(session, a, cat.id)
    with pytest.raises(PermissionDenied) as refused:
        cats.approve_and_publish(session, a, cat.id)
    assert refused.value.code == "four_eyes"
    session.rollback()
    denied = session.scalar(select(AuditEvent).where(AuditEvent.action == "catalogue.publish"))
    assert denied is not None and denied.outcome == "denied"
    # An admin (or the system actor) may publish what they submitted.
    admin = actor_for(make_user(session, "admin"))
    cats.reject(session, b, cat.id, "请补充推荐理由")
    cats.submit_for_review(session, admin, cat.id)
    assert cats.approve_and_publish(session, admin, cat.id).number == 1


def test_freezing_and_republish_diff(session, settings, staff) -> None:
    _alice, _bob, a, b = staff
    cat, one, _two = _published_catalogue(session, settings, staff)
    update_record(session, system_actor(), "achievements", one.id,
                  {"title": "高电导率硫化物固态电解质材料"}, settings=settings)
    assert cats.get_version(session, ANONYMOUS, cat.id, 1).snapshot[0]["title"] == \
        "一种锂离子电池固态电解质材料"  # frozen
    change = cats.diff_working(session, a, cat.id).changed
    assert change[0].changes == {
        "title": ("一种锂离子电池固态电解质材料", "高电导率硫化物固态电解质材料")}
    cats.submit_for_review(session, a, cat.id)  # a record changed: resubmitting is allowed
    cats.approve_and_publish(session, b, cat.id)
    assert cats.get_version(session, ANONYMOUS, cat.id, 2).snapshot[0]["title"] == \
        "高电导率硫化物固态电解质材料"
    diff = cats.diff_versions(session, ANONYMOUS, cat.id, 1, 2)
    assert not diff.added and not diff.removed and len(diff.changed) == 1
    assert diff.changed[0].changes["title"][1] == "高电导率硫化物固态电解质材料"
    with pytest.raises(Conflict, match="Nothing changed"):
        cats.submit_for_review(session, a, cat.id)


def test_add_refuses_drafts_wrong_kind_and_is_idempotent(session, settings, staff) -> None:
    _alice, _bob, a, _b = staff
    inst = _institution(session, settings)
    ok = _achievement(session, settings, inst, "一种量子点显示材料")
    draft = _achievement(session, settings, inst, "未发布的草稿成果", status="draft")
    cat = cats.create_catalogue(session, a, name=NAME, kind="achievements")
    with pytest.raises(ValidationFailed) as refused:
        cats.add_items(session, a, cat.id, [ok.id, draft.id, 99999])
    reasons = {r["id"]: r["reason"] for r in refused.value.data["refused"]}
    assert reasons == {draft.id: "status_draft", 99999: "not_found"}
    assert "未发布的草稿成果" in refused.value.message
    assert cats.catalogue_view(session, a, cat.id).items == []  # all or nothing
    with pytest.raises(ValidationFailed, match="demands cannot be added"):
        cats.add_items(session, a, cat.id, [ok.id], kind="demands")
    assert cats.add_items(session, a, cat.id, [ok.id]) == ([ok.id], [])
    assert cats.add_items(session, a, cat.id, [ok.id]) == ([], [ok.id])


def test_illegal_transitions_conflict(session, settings, staff) -> None:
    _alice, _bob, a, b = staff
    cat = cats.create_catalogue(session, a, name=NAME, kind="achievements")
    with pytest.raises(Conflict, match="empty"):
        cats.submit_for_review(session, a, cat.id)
    with pytest.raises(Conflict, match="in review can be published"):
        cats.approve_and_publish(session, b, cat.id)
    with pytest.raises(Conflict, match="in review can be rejected"):
        cats.reject(session, b, cat.id, "不行")
    with pytest.raises(Conflict, match="already exists"):
        cats.create_catalogue(session, a, name=NAME, kind="demands")


def test_confidential_demand_is_anonymised_and_withdrawn_records_block_publish(
        session, settings, staff) -> None:
    _alice, _bob, a, b = staff
    secret = _demand(session, settings, confidential=True)
    cat = cats.create_catalogue(session, a, name="津冀技术需求清单", kind="demands")
    cats.add_items(session, a, cat.id, [secret.id], kind="demands")
    cats.submit_for_review(session, a, cat.id)
    update_record(session, system_actor(), "demands", secret.id, {"status": "withdrawn"})
    with pytest.raises(Conflict, match="no longer listable"):
        cats.approve_and_publish(session, b, cat.id)
    session.rollback()
    update_record(session, system_actor(), "demands", secret.id, {"status": "published"})
    entry = cats.approve_and_publish(session, b, cat.id).snapshot[0]
    assert "天津示范新材料" not in entry["unit"] and entry["trl"] == 7


def test_drafts_hidden_from_the_public(session, settings, staff) -> None:
    _alice, _bob, a, _b = staff
    cat, _one, _two = _published_catalogue(session, settings, staff)
    draft = cats.create_catalogue(session, a, name="内部草稿清单", kind="demands")
    assert [c.id for c in cats.list_catalogues(session, ANONYMOUS)] == [cat.id]
    assert {c.id for c in cats.list_catalogues(session, a)} == {cat.id, draft.id}
    with pytest.raises(NotFound):
        cats.get_catalogue(session, ANONYMOUS, draft.id)


# --- API -----------------------------------------------------------------------------------------


def test_api_workflow_four_eyes_and_diff(client, session, settings) -> None:
    alice, bob = make_user(session, "operator"), make_user(session, "operator")
    inst = _institution(session, settings)
    rec = _achievement(session, settings, inst, "一种锂离子电池固态电解质材料")
    draft = _achievement(session, settings, inst, "未发布的草稿成果", status="draft")
    h = {"x-csrf-token": login(client, alice.email)}
    cat = client.post("/api/v1/catalogues", headers=h,
                      json={"name": NAME, "kind": "achievements"}).json()
    url = f"/api/v1/catalogues/{cat['id']}"
    bad = client.post(f"{url}/items", headers=h, json={"record_ids": [draft.id]})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_failed"
    added = client.post(f"{url}/items", headers=h,
                        json={"record_ids": [rec.id], "kind": "achievements"})
    assert added.json() == {"added": [rec.id], "already": []}
    assert client.post(f"{url}/submit", headers=h).json()["status"] == "in_review"
    own = client.post(f"{url}/publish", headers=h)
    assert own.status_code == 403 and own.json()["code"] == "four_eyes"
    assert client.delete(f"{url}/items/{rec.id}", headers=h).status_code == 409  # in review

    client.post("/api/v1/auth/logout", headers=h)
    h = {"x-csrf-token": login(client, bob.email)}
    published = client.post(f"{url}/publish", headers=h)
    assert published.status_code == 201 and published.json()["number"] == 1
    update_record(session, system_actor(), "achievements", rec.id, {"trl": 7}, settings=settings)
    client.post(f"{url}/submit", headers=h)
    client.post(f"{url}/reject", headers=h, json={"note": "请再核对成熟度"})
    assert client.get(url).json()["status"] == "draft"

    client.post("/api/v1/auth/logout", headers=h)
    public = client.get(url).json()
    assert public["items_are"] == "published" and public["events"] == []
    assert public["items"][0]["trl"] == 6
    assert client.get(f"{url}/versions/1").json()["items"][0]["title"] == rec.title
    assert client.get(f"{url}/diff", params={"from": 0, "to": 1}).json()["added"][0]["id"] == \
        rec.id
    assert client.get(f"{url}/diff").status_code == 401  # the working draft is staff-only


def test_api_access(client, session, settings) -> None:
    operator = make_user(session, "operator")
    member = make_user(session, "enterprise_member")
    cat = cats.create_catalogue(session, actor_for(operator), name=NAME, kind="achievements")
    assert client.get("/api/v1/catalogues").json() == []
    assert client.get(f"/api/v1/catalogues/{cat.id}").status_code == 404
    assert client.post("/api/v1/catalogues", json={"name": "x清单", "kind": "demands"}
                       ).status_code == 401
    h = {"x-csrf-token": login(client, member.email)}
    assert client.post("/api/v1/catalogues", headers=h,
                       json={"name": "企业自建清单", "kind": "demands"}).status_code == 403
    assert client.post(f"/api/v1/catalogues/{cat.id}/submit", headers=h).status_code == 403
    assert client.get(f"/api/v1/catalogues/{cat.id}").status_code == 404


# --- pages ---------------------------------------------------------------------------------------


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_pages_curate_and_print(client, session, settings) -> None:
    bob = make_user(session, "operator")
    alice = make_user(session, "operator")
    inst = _institution(session, settings)
    rec = _achievement(session, settings, inst, "一种锂离子电池固态电解质材料")
    page = client.get("/login")
    client.post("/login", data={"email": alice.email, "password": PASSWORD,
                                "csrf_token": _csrf(page.text)})
    listing = client.get("/catalogues")
    created = client.post("/catalogues", data={"csrf_token": _csrf(listing.text), "name": NAME,
                                               "kind": "achievements"}, follow_redirects=False)
    assert created.status_code == 303
    detail_url = created.headers["location"]
    token = _csrf(client.get(detail_url).text)
    refused = client.post(f"{detail_url}/items", data={"csrf_token": token, "record_ids": "abc"})
    assert refused.status_code == 422 and 'data-testid="catalogue-error"' in refused.text
    found = client.get(detail_url, params={"q": "固态电解质"})
    assert 'data-testid="candidates"' in found.text and rec.title in found.text
    client.post(f"{detail_url}/items", data={"csrf_token": token, "record_ids": f"#{rec.id}",
                                             "kind": "achievements"})
    client.post(f"{detail_url}/items/{rec.id}/note", data={"csrf_token": token,
                                                           "note": "京津冀重点推介"})
    client.post(f"{detail_url}/submit", data={"csrf_token": token})
    own = client.post(f"{detail_url}/publish", data={"csrf_token": token})
    assert own.status_code == 403 and 'data-testid="catalogue-error"' in own.text  # four-eyes
    cat_id = int(detail_url.rsplit("/", 1)[1])
    cats.approve_and_publish(session, actor_for(bob), cat_id)

    client.post("/logout", data={"csrf_token": token})
    assert NAME in client.get("/catalogues").text
    printable = client.get(f"{detail_url}/versions/1")
    assert printable.status_code == 200 and 'data-testid="printable-list"' in printable.text
    text = printable.text
    assert rec.title in text and "北京示范大学" in text and "TRL 6" in text
    assert "京津冀重点推介" in text and "配方与工艺参数" not in text
    assert client.get(f"{detail_url}/diff", params={"from": 0, "to": 1}).status_code == 200
