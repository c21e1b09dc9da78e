"""A small push world: three enterprises with members and demands, one institution, six
achievements (two of them in a published catalogue). Shared by the cycle, schedule, CLI and
kill tests; records go through the services, so the match indexes see them as in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from luodi.auth.actor import system_actor
from luodi.config import Settings
from luodi.inventory import catalogues
from tests.inventory import factories as inv
from tests.push.ledger_factories import Party, enterprise_party, institution_party

ACHIEVEMENTS = {
    "grasp": ("基于深度学习的机械臂视觉抓取系统", "面向仓储物流分拣的视觉定位与抓取，抓取成功率99%。"),
    "force": ("协作机器人柔性力控装配技术", "六维力传感与阻抗控制，用于精密装配的协作机器人。"),
    "separator": ("锂电池陶瓷涂覆隔膜制备方法", "提高锂离子电池隔膜耐热性和安全性的涂覆工艺。"),
    "recycle": ("废旧动力锂电池梯次利用与回收技术", "退役动力电池检测分选、梯次利用和材料回收。"),
    "wheat": ("一种小麦抗旱品种的选育方法", "通过分子标记辅助选择培育抗旱小麦。"),
    "agv": ("仓储物流AGV激光导航系统", "用于仓储分拣的自动导引车激光定位与路径规划。"),
}
DEMANDS = {
    "robots": ("寻求仓储分拣机械臂视觉定位技术", "用于仓储分拣的机械臂视觉定位与抓取。"),
    "battery": ("锂电池隔膜与电池回收技术需求", "需要锂电池隔膜涂覆和退役动力电池回收技术。"),
    "assembly": ("协作机器人精密装配力控需求", "产线需要协作机器人力控装配与视觉引导。"),
}


@dataclass
class World:
    """The parties and records of the world, by short name."""

    tto: Party
    firms: dict[str, Party]
    achievements: dict[str, Any]
    demands: dict[str, Any]
    catalogue_id: int


def build(session: Session, settings: Settings) -> World:
    """Create the world (a few records: embedding them stays quick)."""
    tto = institution_party(session, settings, name="北京示范理工大学")
    firms = {name: enterprise_party(session, settings, name=f"示范{name}科技有限公司")
             for name in DEMANDS}
    achievements = {key: inv.achievement(session, settings, tto.record, title=t, summary=s)
                    for key, (t, s) in ACHIEVEMENTS.items()}
    demands = {key: inv.demand(session, settings, firms[key].record, title=t, summary=s)
               for key, (t, s) in DEMANDS.items()}
    actor = system_actor()
    cat = catalogues.create_catalogue(session, actor, name="示范重点成果清单",
                                      kind="achievements")
    catalogues.add_items(session, actor, cat.id,
                         [achievements["recycle"].id, achievements["agv"].id])
    catalogues.submit_for_review(session, actor, cat.id)
    catalogues.approve_and_publish(session, actor, cat.id)
    return World(tto, firms, achievements, demands, cat.id)


def loose(settings: Settings, **extra: Any) -> Settings:
    """Settings for a tiny world: blended scores of six records are not on the scale of a real
    corpus, so the floor is lowered; k = 2 and d = 1 make the plan's choices visible."""
    values = {"push_min_score": -100.0, "push_cap_per_recipient": 2, "push_min_recipients": 1,
              **extra}
    return settings.model_copy(update=values)
