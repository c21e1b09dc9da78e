"""Pages: the matches section on record pages, the full list and "why this match"."""

from __future__ import annotations

import pytest

from tests.factories import login, make_org, make_user
from tests.inventory import factories as f


@pytest.fixture
def world(session, settings):  # type: ignore[no-untyped-def]
    inst_org, ent_org = make_org(session, "institution"), make_org(session, "enterprise")
    inst = f.institution(session, settings, org=inst_org)
    ent = f.enterprise(session, settings, org=ent_org)
    robot = f.achievement(session, settings, inst, title="基于深度学习的机械臂视觉抓取系统",
                          summary="面向仓储物流分拣的视觉定位与抓取。", trl=6)
    f.achievement(session, settings, inst, title="一种小麦抗旱品种的选育方法",
                  summary="通过分子标记辅助选择培育抗旱小麦。", trl=4)
    need = f.demand(session, settings, ent, trl_wanted=5, region_code="110108")
    return {"ent": ent, "robot": robot, "need": need,
            "tto": make_user(session, "institution_member", org=inst_org),
            "buyer": make_user(session, "enterprise_member", org=ent_org)}


def test_anonymous_visitors_see_no_matches(client, world) -> None:  # type: ignore[no-untyped-def]
    page = client.get(f"/achievements/{world['robot'].id}")
    assert page.status_code == 200 and 'data-testid="matches"' not in page.text
    why = client.get(f"/demands/{world['need'].id}/matches/achievements/{world['robot'].id}",
                     follow_redirects=False)
    assert why.status_code == 303 and why.headers["location"].startswith("/login")


def test_sections_follow_the_policy(client, world) -> None:  # type: ignore[no-untyped-def]
    robot, need = world["robot"], world["need"]
    login(client, world["tto"].email)
    own = client.get(f"/achievements/{robot.id}").text
    assert 'data-testid="matches-demands"' in own and 'data-testid="matches-enterprises"' in own
    assert f'href="/achievements/{robot.id}/matches/demands/{need.id}"' in own
    assert "匹配结果" in own and "为什么匹配？" in own
    client.cookies.clear()
    login(client, world["buyer"].email)
    theirs = client.get(f"/achievements/{robot.id}").text
    assert 'data-testid="matches-demands"' in theirs
    assert 'data-testid="matches-enterprises"' not in theirs  # the prospect list is the owner's
    demand = client.get(f"/demands/{need.id}").text
    assert f'data-id="{robot.id}"' in demand and "领域一致" in demand
    enterprise = client.get(f"/enterprises/{world['ent'].id}").text
    assert 'data-testid="matches-achievements"' in enterprise
    full = client.get(f"/demands/{need.id}/matches/achievements")
    assert full.status_code == 200 and f'data-id="{robot.id}"' in full.text


def test_why_page_in_chinese_and_english(client, world) -> None:  # type: ignore[no-untyped-def]
    login(client, world["buyer"].email)
    url = f"/demands/{world['need'].id}/matches/achievements/{world['robot'].id}"
    zh = client.get(url)
    assert zh.status_code == 200 and "为什么匹配？" in zh.text
    assert "这项成果与您的需求共有" in zh.text and "技术成熟度 6 级高于所要求的 5 级" in zh.text
    assert "位于同一城市" in zh.text and "关键词重合" in zh.text and "语义相似" in zh.text
    assert ' style="' not in zh.text and "<script>" not in zh.text  # the CSP allows neither
    client.get("/lang/en")
    en = client.get(url).text
    assert "Why this match?" in en and "This achievement shares" in en
    assert "with your demand" in en and "Shared keywords" in en and "How matching works" in en
    wheat = client.get(f"/demands/{world['need'].id}/matches/achievements/{world['robot'].id + 1}")
    assert wheat.status_code == 404
