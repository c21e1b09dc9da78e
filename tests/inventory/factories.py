"""Inventory factories: records created through the services."""

from __future__ import annotations

from typing import Any

from luodi.auth.actor import system_actor
from luodi.inventory import records


def institution(session, settings, name: str = "北京示范大学", org=None, **extra: Any):  # type: ignore[no-untyped-def]
    data = {"name": name, "region_code": "110108", **extra}
    obj = records.create_record(session, system_actor(), "institutions", data, settings=settings)
    if org is not None:
        obj.organisation_id = org.id
        session.commit()
    return obj


def enterprise(session, settings, name: str = "天津示范科技有限公司", org=None, **extra: Any):  # type: ignore[no-untyped-def]
    data = {"name": name, "region_code": "120116", **extra}
    obj = records.create_record(session, system_actor(), "enterprises", data, settings=settings)
    if org is not None:
        obj.organisation_id = org.id
        session.commit()
    return obj


def achievement(session, settings, inst, **extra: Any):  # type: ignore[no-untyped-def]
    data = {"title": "一种锂离子电池固态电解质材料及其制备方法",
            "summary": "提供一种高离子电导率的固态电解质，用于动力电池。",
            "description": "配方与工艺参数（保密）", "contact_email": "tto@example.cn",
            "institution_id": inst.id, "trl": 5, "status": "published", **extra}
    return records.create_record(session, system_actor(), "achievements", data,
                                 settings=settings)


def demand(session, settings, ent, **extra: Any):  # type: ignore[no-untyped-def]
    data = {"title": "寻求工业机器人视觉抓取技术", "summary": "用于仓储分拣的机械臂视觉定位。",
            "description": "现有产线节拍与缺陷率数据（保密）", "enterprise_id": ent.id,
            "status": "published", **extra}
    return records.create_record(session, system_actor(), "demands", data, settings=settings)
