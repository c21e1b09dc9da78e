"""API: the matches of a record for every direction, one pair's explanation, and what never leaks."""

from __future__ import annotations

import pytest

from luodi.auth.actor import system_actor
from luodi.inventory import records
from tests.factories import login, make_org, make_user
from tests.inventory import factories as f

ROBOT = {"title": "基于深度学习的机械臂视觉抓取系统", "summary": "面向仓储物流分拣的视觉定位与抓取。",
         "trl": 6, "description": "抓取算法参数（保密）", "contact_email": "robot@example.cn",
         "contact_phone": "13800000000", "contact_name": "李老师"}
WHEAT = {"title": "一种小麦抗旱品种的选育方法", "summary": "通过分子标记辅助选择培育抗旱小麦。",
         "trl": 4}
SECRETS = ("抓取算法参数", "产线节拍", "robot@example.cn", "13800000000", "李老师", "王经理", "wang@example.cn")


@pytest.fixture
def world(session, settings):  # type: ignore[no-untyped-def]
    """An institution with two achievements, an enterprise with one demand, and their accounts."""
    inst_org, ent_org = make_org(session, "institution"), make_org(session, "enterprise")
    inst = f.institution(session, settings, org=inst_org)
    ent = f.enterprise(session, settings, org=ent_org)
    return {"ent": ent,
            "robot": f.achievement(session, settings, inst, **ROBOT),
            "wheat": f.achievement(session, settings, inst, **WHEAT),
            "need": f.demand(session, settings, ent, trl_wanted=5, contact_name="王经理",
                             contact_email="wang@example.cn"),
            "tto": make_user(session, "institution_member", org=inst_org),
            "buyer": make_user(session, "enterprise_member", org=ent_org),
            "operator": make_user(session, "operator")}


def _get(client, url: str):  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, response.text
    for secret in SECRETS:
        assert secret not in response.text, secret
    return response.json()


def test_demand_to_achievements_with_explanation(client, world) -> None:  # type: ignore[no-untyped-def]
    login(client, world["buyer"].email)
    need, robot = world["need"], world["robot"]
    body = _get(client, f"/api/v1/demands/{need.id}/matches")  # default target: achievements
    assert body["source"] == {"kind": "demands", "id": need.id, "title": need.title,
                              "url": f"/demands/{need.id}"}
    top = body["items"][0]
    assert (top["kind"], top["id"], top["url"]) == ("achievements", robot.id,
                                                    f"/achievements/{robot.id}")
    assert world["wheat"].id not in [m["id"] for m in body["items"]]
    assert "视觉" in [t["term"] for t in top["shared_terms"]]
    assert top["facts"]["trl"] == 6 and top["facts"]["trl_wanted"] == 5
    assert abs(sum(top["parts"].values()) - top["score"]) < 1e-3
    assert top["why_url"] == f"/demands/{need.id}/matches/achievements/{robot.id}"
    assert "description" not in top["teaser"] and top["teaser"]["summary"] == ROBOT["summary"]

    pair = _get(client, f"/api/v1/demands/{need.id}/matches/achievements/{robot.id}")
    assert pair["match"]["id"] == robot.id and pair["match"]["shared_terms"]
    assert "lexical" in pair["raw"]
    unrelated = client.get(f"/api/v1/demands/{need.id}/matches/achievements/{world['wheat'].id}")
    assert unrelated.status_code == 404 and unrelated.json()["ok"] is False


def test_achievement_to_demands_and_enterprises(client, world) -> None:  # type: ignore[no-untyped-def]
    login(client, world["tto"].email)
    robot, need, ent = world["robot"], world["need"], world["ent"]
    demands = _get(client, f"/api/v1/achievements/{robot.id}/matches")  # default: demands
    assert [m["id"] for m in demands["items"]] == [need.id]
    assert demands["items"][0]["teaser"]["party_name"] == ent.name
    assert demands["items"][0]["facts"]["trl_offered"] == 6
    firms = _get(client, f"/api/v1/achievements/{robot.id}/matches?target=enterprises&k=3")
    top = firms["items"][0]
    assert (top["kind"], top["id"]) == ("enterprises", ent.id)
    assert top["via"][0]["demand_id"] == need.id
    pair = _get(client, f"/api/v1/achievements/{robot.id}/matches/enterprises/{ent.id}")
    assert pair["match"]["via"][0]["title"] == need.title


def test_confidential_demand_hides_its_enterprise(client, session, world) -> None:  # type: ignore[no-untyped-def]
    need, robot, ent = world["need"], world["robot"], world["ent"]
    need.confidential = True
    session.commit()
    login(client, world["tto"].email)
    demands = _get(client, f"/api/v1/achievements/{robot.id}/matches")
    teaser = demands["items"][0]["teaser"]
    assert teaser["party_url"] is None and ent.name not in str(demands)
    firms = _get(client, f"/api/v1/achievements/{robot.id}/matches?target=enterprises")
    assert ent.id not in [m["id"] for m in firms["items"]]


def test_enterprise_and_expert_directions(client, session, settings, world) -> None:  # type: ignore[no-untyped-def]
    login(client, world["buyer"].email)
    mine = _get(client, f"/api/v1/enterprises/{world['ent'].id}/matches")
    assert mine["items"][0]["id"] == world["robot"].id
    assert mine["items"][0]["via"][0]["demand_id"] == world["need"].id
    expert = records.create_record(session, system_actor(), "experts", {
        "name": "张工", "skills": ["机械臂视觉抓取", "仓储物流分拣"], "consent": "granted",
        "email": "zhang@example.cn"}, settings=settings)
    client.cookies.clear()
    login(client, world["operator"].email)
    achievements = _get(client, f"/api/v1/experts/{expert.id}/matches")
    assert achievements["items"][0]["id"] == world["robot"].id
    demands = _get(client, f"/api/v1/experts/{expert.id}/matches?target=demands")
    assert [m["id"] for m in demands["items"]] == [world["need"].id]


def test_refusals(client, world) -> None:  # type: ignore[no-untyped-def]
    robot = world["robot"]
    anonymous = client.get(f"/api/v1/demands/{world['need'].id}/matches")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"
    login(client, world["buyer"].email)
    # someone else's achievement: its prospect list is the owner's and staff's only
    refused = client.get(f"/api/v1/achievements/{robot.id}/matches?target=enterprises")
    assert refused.status_code == 403 and refused.json()["ok"] is False
    assert client.get(f"/api/v1/achievements/{robot.id}/matches?target=experts"
                      ).status_code == 422
    assert client.get(f"/api/v1/achievements/{robot.id}/matches?k=0").status_code == 422


def test_openapi_documents_the_match_routes(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/openapi.json").json()
    route = spec["paths"]["/api/v1/achievements/{record_id}/matches"]["get"]
    target = next(p for p in route["parameters"] if p["name"] == "target")
    assert set(target["schema"]["enum"]) == {"demands", "enterprises"}
    assert {"MatchesOut", "ExplanationOut", "MatchOut", "Teaser"} <= set(
        spec["components"]["schemas"])
    assert "/api/v1/experts/{record_id}/matches/{target}/{target_id}" in spec["paths"]
