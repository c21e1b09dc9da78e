"""Inventory records through the API: ownership, tiers, validation, search, filters, paging."""

from __future__ import annotations

from sqlalchemy import func, select

from luodi.audit import AuditEvent
from luodi.inventory.models import Achievement, DuplicateFlag
from tests.factories import login, make_org, make_user
from tests.inventory import factories as inv


def _member_of(session, settings, client, role="institution_member"):  # type: ignore[no-untyped-def]
    kind = "institution" if role == "institution_member" else "enterprise"
    org = make_org(session, kind)
    user = make_user(session, role, org=org)
    record = (inv.institution(session, settings, f"{org.name}大学", org=org)
              if kind == "institution" else inv.enterprise(session, settings, f"{org.name}公司", org=org))
    return user, record, {"x-csrf-token": login(client, user.email)}


def test_institution_member_posts_for_own_institution(client, session, settings) -> None:
    user, inst, headers = _member_of(session, settings, client)
    response = client.post("/api/v1/achievements", headers=headers, json={
        "title": "一种基于深度学习的医学影像分割方法", "summary": "肺结节CT影像自动分割。",
        "trl": "TRL 4", "transfer_modes": "许可；转让", "region_code": "110108"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["institution_id"] == inst.id and body["trl"] == 4 and body["stage"] == "middle"
    assert body["transfer_modes"] == ["license", "transfer"]
    assert body["field_code"] in {"ai", "health"} and 0 < body["field_confidence"] <= 1
    assert body["expires_on"] and body["review_due_on"]  # freshness dates set on save


def test_cannot_post_for_another_institution(client, session, settings) -> None:
    _user, _inst, headers = _member_of(session, settings, client)
    other = inv.institution(session, settings, "别家研究院")
    response = client.post("/api/v1/achievements", headers=headers,
                           json={"title": "别人的成果", "institution_id": other.id})
    assert response.status_code == 403
    assert session.scalar(select(func.count()).select_from(Achievement)) == 0


def test_non_staff_cannot_set_provenance_fields(client, session, settings) -> None:
    _user, _inst, headers = _member_of(session, settings, client)
    response = client.post("/api/v1/achievements", headers=headers,
                           json={"title": "来源伪造测试", "source": "official-list"})
    assert response.status_code == 403


def test_enterprise_member_cannot_post_achievements(client, session, settings) -> None:
    _user, _ent, headers = _member_of(session, settings, client, "enterprise_member")
    assert client.post("/api/v1/achievements", headers=headers,
                       json={"title": "企业不应发布成果"}).status_code == 403


def test_drafts_are_hidden_from_others(client, session, settings) -> None:
    inst = inv.institution(session, settings)
    draft = inv.achievement(session, settings, inst, status="draft", title="未发布的草稿成果")
    public = inv.achievement(session, settings, inst, title="已发布的公开成果")
    assert client.get(f"/api/v1/achievements/{draft.id}").status_code == 404
    ids = [r["id"] for r in client.get("/api/v1/achievements").json()["items"]]
    assert ids == [public.id]


def test_confidential_tiers(client, session, settings) -> None:
    user, inst, headers = _member_of(session, settings, client)
    record = inv.achievement(session, settings, inst)
    own = client.get(f"/api/v1/achievements/{record.id}").json()
    assert own["description"] and own["contact_email"]
    client.cookies.clear()
    public = client.get(f"/api/v1/achievements/{record.id}").json()
    for hidden in ("description", "contact_email", "contact_name", "contact_phone"):
        assert hidden not in public
    assert public["summary"] and public["confidential_visible"] is False
    other_user, _other, _ = _member_of(session, settings, client)
    assert "description" not in client.get(f"/api/v1/achievements/{record.id}").json()


def test_staff_view_of_confidential_fields_is_audited(client, session, settings) -> None:
    inst = inv.institution(session, settings)
    record = inv.achievement(session, settings, inst)
    operator = make_user(session, "operator")
    login(client, operator.email)
    assert client.get(f"/api/v1/achievements/{record.id}").json()["description"]
    seen = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "achievements.view_confidential")).all()
    assert [(e.actor_id, e.object_id) for e in seen] == [(operator.id, str(record.id))]


def test_confidential_demand_hides_enterprise(client, session, settings) -> None:
    ent = inv.enterprise(session, settings, "保密需求企业有限公司")
    demand = inv.demand(session, settings, ent, confidential=True)
    body = client.get(f"/api/v1/demands/{demand.id}").json()
    assert "保密需求企业" not in str(body) and body["enterprise_id"] is None
    assert "description" not in body


def test_validation_errors_use_the_error_shape(client, session, settings) -> None:
    operator = make_user(session, "operator")
    headers = {"x-csrf-token": login(client, operator.email)}
    response = client.post("/api/v1/enterprises", headers=headers, json={
        "name": "校验测试公司", "credit_code": "91110000802100433X", "region_code": "999999"})
    body = response.json()
    assert response.status_code == 422 and set(body) == {"ok", "code", "error", "status"}
    assert "credit_code" in body["error"] and "region_code" in body["error"]
    assert "校验码" in body["error"]


def test_chinese_search_segments_and_folds_traditional(client, session, settings) -> None:
    inst = inv.institution(session, settings)
    battery = inv.achievement(session, settings, inst)
    inv.achievement(session, settings, inst, title="工业机器人柔性关节减速器",
                    summary="谐波减速器与力矩传感一体化设计。")
    nasa = inv.achievement(session, settings, inst, title="Polyimide Wire Insulation Repair System",
                           summary=None)

    def ids(q: str) -> list[int]:
        return [r["id"] for r in client.get("/api/v1/achievements", params={"q": q}).json()["items"]]

    assert ids("电池") == [battery.id]  # a word inside 锂离子电池
    assert ids("固態電解質") == [battery.id]  # traditional characters
    assert ids("固态电池 减速器") == []  # every token must match
    assert ids("wire insulation") == [nasa.id]
    assert ids("池") == []  # never split into single characters


def test_filters_and_pagination(client, session, settings) -> None:
    inst = inv.institution(session, settings)
    for i in range(5):
        inv.achievement(session, settings, inst, title=f"成熟度测试成果第{i}号", trl=i + 3,
                        region_code="120116" if i % 2 else "110108")
    get = client.get
    assert get("/api/v1/achievements", params={"stage": "mature"}).json()["total"] == 1  # TRL 7
    assert get("/api/v1/achievements", params={"stage": "middle"}).json()["total"] == 3
    assert get("/api/v1/achievements", params={"region": "12"}).json()["total"] == 2
    page = get("/api/v1/achievements", params={"per_page": 2, "page": 3}).json()
    assert page["total"] == 5 and page["pages"] == 3 and len(page["items"]) == 1


def test_update_revalidates_and_reindexes(client, session, settings) -> None:
    user, inst, headers = _member_of(session, settings, client)
    record = inv.achievement(session, settings, inst)
    bad = client.patch(f"/api/v1/achievements/{record.id}", headers=headers, json={"trl": 12})
    assert bad.status_code == 422
    good = client.patch(f"/api/v1/achievements/{record.id}", headers=headers,
                        json={"title": "一种钠离子电池正极材料", "trl": 6})
    assert good.status_code == 200 and good.json()["trl"] == 6
    found = client.get("/api/v1/achievements", params={"q": "钠离子"}).json()["items"]
    assert [r["id"] for r in found] == [record.id]


def test_other_org_cannot_update_and_only_staff_delete(client, session, settings) -> None:
    inst = inv.institution(session, settings)
    record = inv.achievement(session, settings, inst)
    _user, _own, headers = _member_of(session, settings, client)
    assert client.patch(f"/api/v1/achievements/{record.id}", headers=headers,
                        json={"title": "篡改"}).status_code == 403
    assert client.delete(f"/api/v1/achievements/{record.id}", headers=headers).status_code == 403
    operator = make_user(session, "operator")
    client.cookies.clear()
    headers = {"x-csrf-token": login(client, operator.email)}
    assert client.delete(f"/api/v1/achievements/{record.id}", headers=headers).status_code == 204


def test_near_duplicate_is_flagged_not_merged(session, settings) -> None:
    inst = inv.institution(session, settings)
    first = inv.achievement(session, settings, inst)
    second = inv.achievement(session, settings, inst, summary="提供一种高离子电导率的固态电解质，可用于动力电池。")
    flags = session.scalars(select(DuplicateFlag)).all()
    assert [(f.record_id, f.other_id) for f in flags] == [(second.id, first.id)]
    assert session.scalar(select(func.count()).select_from(Achievement)) == 2


def test_vocabularies(client) -> None:
    fields = client.get("/api/v1/vocabularies/fields").json()
    assert {"ai", "quantum", "synbio"} <= {f["code"] for f in fields}
    regions = client.get("/api/v1/vocabularies/regions", params={"q": "海淀"}).json()
    assert regions[0]["code"] == "110108"
    assert len(client.get("/api/v1/vocabularies/trl").json()) == 9


def test_configured_taxonomy_drives_vocabulary_and_validation(settings, db, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from luodi.web import create_app

    path = tmp_path / "fields.toml"
    path.write_text('[fields.low_altitude]\nname_zh = "低空经济"\nname_en = "Low-altitude economy"\n'
                    'keywords_zh = ["低空经济", "无人机物流"]\n\n[fields.quantum]\nenabled = false\n',
                    encoding="utf-8")
    configured = settings.model_copy(update={"taxonomy_file": path})
    try:
        with TestClient(create_app(configured, db)) as client:
            codes = [f["code"] for f in client.get("/api/v1/vocabularies/fields").json()]
            assert "low_altitude" in codes and "quantum" not in codes
        from luodi.inventory.schemas import AchievementIn

        assert AchievementIn(title="无人机配送", field_code="低空经济").field_code == "low_altitude"
    finally:
        from luodi.inventory.taxonomy import use_taxonomy

        use_taxonomy(None)  # the taxonomy is process-wide: restore the seed for other tests


def test_update_keeps_a_workflow_status(session, settings) -> None:
    from luodi.auth.actor import system_actor
    from luodi.inventory import records

    inst = inv.institution(session, settings)
    record = inv.achievement(session, settings, inst)
    record.status = "in_docking"  # set by docking, never by a form
    session.commit()
    records.update_record(session, system_actor(), "achievements", record.id,
                          {"title": "一种改进的固态电解质"}, settings=settings)
    session.refresh(record)
    assert record.status == "in_docking" and record.title == "一种改进的固态电解质"
