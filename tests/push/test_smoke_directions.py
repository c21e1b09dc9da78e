"""Smoke: each direction returns the obviously right record first, with an explanation."""

from __future__ import annotations

from luodi.auth.actor import system_actor
from luodi.push.matches import find_matches
from tests.inventory import factories as f


def test_demand_finds_the_battery_achievement(session, settings):  # type: ignore[no-untyped-def]
    inst = f.institution(session, settings)
    ent = f.enterprise(session, settings)
    battery = f.achievement(session, settings, inst)
    f.achievement(session, settings, inst, title="一种小麦抗旱品种的选育方法",
                  summary="通过分子标记辅助选择培育抗旱小麦。", trl=4)
    robot = f.achievement(session, settings, inst, title="基于深度学习的机械臂视觉抓取系统",
                          summary="面向仓储物流分拣的视觉定位与抓取。", trl=6)
    need = f.demand(session, settings, ent, trl_wanted=5)
    results = find_matches(session, system_actor(), settings, "demands", need.id, "achievements")
    assert results[0].record.id == robot.id
    assert battery.id not in [r.record.id for r in results[:1]]
    top = results[0]
    assert top.shared_terms and top.parts["lexical"] > 0
    assert top.facts["trl"] == 6 and top.facts["trl_wanted"] == 5
    back = find_matches(session, system_actor(), settings, "achievements", robot.id, "demands")
    assert [r.record.id for r in back] == [need.id]
    firms = find_matches(session, system_actor(), settings, "achievements", robot.id,
                         "enterprises")
    assert firms[0].record.id == ent.id and firms[0].via[0]["demand_id"] == need.id


def test_one_incidental_shared_word_is_not_a_match(session, settings):  # type: ignore[no-untyped-def]
    inst = f.institution(session, settings)
    ent = f.enterprise(session, settings)
    robot = f.achievement(session, settings, inst, title="基于深度学习的机械臂视觉抓取系统",
                          summary="面向仓储物流分拣的视觉定位与抓取。", trl=6)
    pests = f.achievement(session, settings, inst, title="粮食仓储害虫的生物防治方法",
                          summary="利用天敌昆虫控制粮仓中的害虫，减少化学熏蒸。", trl=5)
    need = f.demand(session, settings, ent, trl_wanted=5)  # …用于仓储分拣的机械臂视觉定位
    results = find_matches(session, system_actor(), settings, "demands", need.id, "achievements")
    found = {r.record.id: r for r in results}
    assert robot.id in found
    assert pests.id not in found, (found[pests.id].shared_terms, found[pests.id].raw)
