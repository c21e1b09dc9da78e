"""API: the matches of a record for every direction, and the explanation of one pair."""

from __future__ import annotations

import json

import pytest

from tests.factories import login, make_org, make_user
from tests.inventory import factories as f

ROBOT = {"title": "基于深度学习的机械臂视觉抓取系统", "summary": "面向仓储物流分拣的视觉定位与抓取。",
         "trl": 6, "description": "抓取算法参数（保密）", "contact_email": "robot@example.cn",
         "contact_phone": "13800000000"}
WHEAT = {"title": "一种小麦抗旱品种的选育方法", "summary": "通过分子标记辅助选择培育抗旱小麦。",
         "trl": 4}


@pytest.fixture
def world(session, settings):  # type: ignore[no-untyped-def]
    """An institution with two achievements, an enterprise with one demand, and their accounts."""
    inst_org, ent_org = make_org(session, "institution"), make_org(session, "enterprise")
    inst = f.institution(session, settings, org=inst_org)
    ent = f.enterprise(session, settings, org=ent_org)
    robot = f.achievement(session, settings, inst, **ROBOT)
    wheat = f.achievement(session, settings, inst, **WHEAT)
    need = f.demand(session, settings, ent, trl_wanted=5, contact_name="王经理")
    return {"inst": inst, "ent": ent, "robot": robot, "wheat": wheat, "need": need,
            "tto": make_user(session, "institution_member", org=inst_org),
            "buyer": make_user(session, "enterprise_member", org=ent_org),
            "operator": make_user(session, "operator")}


def test_smoke(client, world):  # type: ignore[no-untyped-def]
    login(client, world["operator"].email)
    r = client.get(f"/api/v1/demands/{world['need'].id}/matches")
    print(json.dumps(r.json(), ensure_ascii=False, indent=1))
    r = client.get(f"/api/v1/achievements/{world['robot'].id}/matches?target=enterprises")
    print(json.dumps(r.json(), ensure_ascii=False, indent=1))
    r = client.get(f"/api/v1/achievements/{world['robot'].id}/matches/demands/{world['need'].id}")
    print(json.dumps(r.json(), ensure_ascii=False, indent=1))
    assert 0
