"""The docking part of the demo (对接演示): a broker, and five cases at different states.

A broker agency "京津冀技术转移服务中心（示例）" with ``broker@demo.luodi`` (the demo password),
and cases between the demo enterprises and 京华示范大学·工学部 (``tto@demo.luodi``), whose
achievements are the CSL 工学 papers:

1. 燕栖智能机器人 (``ent@``) is interested in a robot-related achievement — waits for the TTO;
2. 京芯微电子 (``e01@``) is interested in another, and the TTO accepted — waits for consent;
3. 燕栖 again: accepted, both sides shared contacts, the operator assigned the broker and the
   broker scheduled a meeting (which moves the case to ``meeting``);
4. the TTO offers to solve 燕栖's demand (我能解决), 燕栖 accepted, contacts shared, and they
   negotiate with the broker's help;
5. 京驰智行汽车科技 (``e04@``) was accepted, then closed the case with a reason.

Everything goes through the docking services as the user who would act (the enterprise
member opens, the TTO accepts …), so each case's trail is real. The cases are added once: a
database where the demo institution already has a case is left alone. The papers are chosen
by keyword (机器人 first) with a fallback to any published achievement of the institution, so
a small sample works too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from luodi.auth import service as accounts
from luodi.auth.actor import Actor
from luodi.auth.models import Organisation, User
from luodi.auth.service import actor_for
from luodi.config import Settings
from luodi.db import utcnow
from luodi.docking import cases, meetings, messages
from luodi.docking.models import Case
from luodi.inventory.models import Achievement, Demand, Institution

__all__ = ["BROKER_EMAIL", "BROKER_ORG", "ensure_docking_demo"]

BROKER_EMAIL = "broker@demo.luodi"
BROKER_NAME = "演示技术经理人 Demo broker"
BROKER_ORG = "京津冀技术转移服务中心（示例）"
TTO, ENT, OPERATOR = "tto@demo.luodi", "ent@demo.luodi", "operator@demo.luodi"
KEYWORDS = ("机器人", "机械臂", "控制", "视觉", "传感", "智能")  # robot-related first
DEMAND_ID = "DEMO-D03"  # 燕栖's 协作机器人柔性力控装配技术
BEIJING = dt.timezone(dt.timedelta(hours=8))

Account = tuple[str, str, str | None]


def _user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email))


def _ensure_broker(session: Session, actor: Actor, settings: Settings, password: str) -> User:
    org = session.scalar(select(Organisation).where(Organisation.name == BROKER_ORG)) or \
        accounts.create_organisation(session, actor, name=BROKER_ORG, kind="broker_agency",
                                     region_code="110108")
    return _user(session, BROKER_EMAIL) or accounts.create_user(
        session, actor, accounts.NewUser(email=BROKER_EMAIL, display_name=BROKER_NAME,
                                         role="broker", password=password,
                                         organisation_id=org.id),
        min_password=settings.password_min_length)


def _achievements(session: Session, institution_id: int, wanted: int) -> list[int]:
    """Published achievements of the institution, those with robot-related titles first."""
    published = select(Achievement.id).where(Achievement.institution_id == institution_id,
                                              Achievement.status == "published")
    picked: list[int] = []
    for keyword in KEYWORDS:
        stmt = published.where(Achievement.title.contains(keyword)).order_by(Achievement.id)
        picked.extend(i for i in session.scalars(stmt.limit(wanted)) if i not in picked)
    picked.extend(i for i in session.scalars(published.order_by(Achievement.id).limit(wanted * 2))
                  if i not in picked)
    return picked[:wanted]


def _consent_both(session: Session, seeker: Actor, owner: Actor, case_id: int) -> None:
    for actor in (seeker, owner):
        case = session.get_one(Case, case_id)
        contact = cases.default_contact(session, actor, case)
        cases.consent_contacts(session, actor, case_id, name=contact["name"] or "联系人",
                               email=contact["email"] or "", phone=contact["phone"])


def _meeting_time() -> dt.datetime:
    """Ten in the morning, Beijing time, a week from today."""
    day = (utcnow().astimezone(BEIJING) + dt.timedelta(days=7)).date()
    return dt.datetime.combine(day, dt.time(10, 0), tzinfo=BEIJING)


def _interested(session: Session, a: dict[str, Actor], record_id: int) -> None:
    cases.open_case(session, a["ent"], kind="achievements", record_id=record_id,
                    note="我们在做协作机器人整机，想了解这项成果能否用于产线。（示例）")


def _accepted(session: Session, a: dict[str, Actor], record_id: int) -> None:
    case = cases.open_case(session, a["e01"], kind="achievements", record_id=record_id,
                           note="希望了解授权许可的条件。（示例）")
    cases.transition(session, a["tto"], case.id, "accept",
                     note="欢迎进一步交流，请双方同意交换联系方式。（示例）")


def _meeting(session: Session, a: dict[str, Actor], record_id: int, broker: User) -> None:
    case = cases.open_case(session, a["ent"], kind="achievements", record_id=record_id,
                           note="与我司机械臂产品线相关，希望对接。（示例）")
    cases.transition(session, a["tto"], case.id, "accept")
    _consent_both(session, a["ent"], a["tto"], case.id)
    cases.assign_broker(session, a["operator"], case.id, broker.id)
    cases.add_note(session, a["broker"], case.id, "双方意向明确，建议先线下交流技术细节。（示例）",
                   internal=True)
    meetings.schedule_meeting(
        session, a["broker"], case.id, starts_at=_meeting_time(), minutes=90,
        place="京华示范大学·工学部 技术转移办公室会议室（示例）",
        agenda="1. 成果技术介绍（30分钟）\n2. 企业应用场景与指标（30分钟）\n"
               "3. 合作方式与下一步（30分钟）")


def _negotiating(session: Session, a: dict[str, Actor], demand_id: int, broker: User) -> None:
    case = cases.open_case(session, a["tto"], kind="demands", record_id=demand_id,
                           note="我部在柔性力控方向有相关研究基础，可提供技术开发服务。（示例）")
    cases.transition(session, a["ent"], case.id, "accept")
    _consent_both(session, a["ent"], a["tto"], case.id)
    cases.assign_broker(session, a["operator"], case.id, broker.id)
    messages.post_message(session, a["ent"], case.id,
                          "请问样机验证阶段大约需要多长时间？（示例）")
    messages.post_message(session, a["tto"], case.id,
                          "预计三个月完成样机验证，详见我们发送的技术方案。（示例）")
    cases.transition(session, a["broker"], case.id, "negotiate",
                     note="双方就技术开发合同的范围和报价进行协商。（示例）")


def _closed(session: Session, a: dict[str, Actor], record_id: int) -> None:
    case = cases.open_case(session, a["e04"], kind="achievements", record_id=record_id)
    cases.transition(session, a["tto"], case.id, "accept")
    cases.transition(session, a["e04"], case.id, "close",
                     note="预算未获批准，暂不推进；明年再议。（示例）")


def _has_cases(session: Session, org_id: int) -> bool:
    return session.scalar(select(Case.id).where(
        or_(Case.owner_org_id == org_id, Case.seeker_org_id == org_id)).limit(1)) is not None


def _actors(session: Session, broker: User) -> dict[str, Actor] | None:
    emails = {"tto": TTO, "ent": ENT, "operator": OPERATOR, "e01": "e01@demo.luodi",
              "e04": "e04@demo.luodi"}
    users = {key: _user(session, email) for key, email in emails.items()}
    if any(u is None or u.organisation_id is None for k, u in users.items()
           if k != "operator") or users["operator"] is None:
        return None
    found = {key: actor_for(u, via="cli") for key, u in users.items() if u is not None}
    return {**found, "broker": actor_for(broker, via="cli")}


def _institution_id(session: Session, org_id: int) -> int | None:
    return session.scalar(select(Institution.id).where(Institution.organisation_id == org_id)
                          .order_by(Institution.id).limit(1))


def _ensure_cases(session: Session, broker: User) -> int:
    """The five demo cases, unless the demo institution has cases already; how many made."""
    a = _actors(session, broker)
    if a is None or _has_cases(session, a["tto"].org_id or 0):
        return 0
    institution_id = _institution_id(session, a["tto"].org_id or 0)
    if institution_id is None:
        return 0
    records = _achievements(session, institution_id, 4)
    demand = session.scalar(select(Demand.id).where(Demand.source == "demo",
                                                    Demand.external_id == DEMAND_ID,
                                                    Demand.status == "published"))
    steps: list[Callable[[], None]] = []
    if len(records) > 0:
        steps.append(lambda: _interested(session, a, records[0]))
    if len(records) > 1:
        steps.append(lambda: _meeting(session, a, records[1], broker))
    if len(records) > 2:
        steps.append(lambda: _accepted(session, a, records[2]))
    if len(records) > 3:
        steps.append(lambda: _closed(session, a, records[3]))
    if demand is not None:
        steps.append(lambda: _negotiating(session, a, demand, broker))
    for step in steps:
        step()
    return len(steps)


def ensure_docking_demo(session: Session, actor: Actor, settings: Settings,
                        password: str) -> list[Account]:
    """Create the demo broker and the demo cases (idempotent); returns the broker account."""
    broker = _ensure_broker(session, actor, settings, password)
    _ensure_cases(session, broker)
    return [(BROKER_EMAIL, "broker", BROKER_ORG)]
