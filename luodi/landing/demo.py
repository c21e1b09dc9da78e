"""The landing part of the demo (落地演示): cases carried through to deals, and a few that stop.

Between 京华示范大学·工学部 (``tto@demo.luodi``, Beijing 海淀) and the demo enterprises
(``e03@`` … ``e18@``): fourteen deals — licences, transfers, commissioned and cooperative
development, a service and a consultancy, one 作价投资 with equity terms — landing in Beijing
districts, Tianjin, Hebei (雄安、保定、唐山、廊坊) and in Shanghai, Shenzhen and Chengdu, so the
dashboard's 京津冀 share is neither 0 nor 1. Six more cases stop earlier (interested, accepted,
contacts shared, a meeting, agreed but not yet signed, closed), beside the docking demo's five,
so the funnel narrows.

Everything goes through the services as the user who would act: the enterprise member opens
(or the TTO offers to solve a demand), the owner accepts, both consent, the operator assigns
the broker, the broker schedules the meeting, negotiate / agree, and the broker or the owner
records the deal. Services stamp *now*; a landed case's trail is then moved back in time so
that it ends on the signing date (spread over the 30–60 days before it) — demo-only, so the
dashboard's days per stage are not all zero. Deterministic, marked （示例）, added once: a
database where a case carries :data:`MARK` is left alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from luodi.auth.actor import Actor
from luodi.auth.models import User
from luodi.auth.service import actor_for
from luodi.config import Settings
from luodi.db import utcnow
from luodi.docking import cases, meetings
from luodi.docking.demo import BROKER_EMAIL, BROKER_ORG
from luodi.docking.models import Case, CaseEvent, Meeting
from luodi.inventory.codes import ContractCategory
from luodi.inventory.models import Achievement, Demand, Enterprise, Institution
from luodi.landing import deals
from luodi.landing.models import Deal
from luodi.landing.schemas import today as beijing_today

__all__ = ["DEALS", "MARK", "STOPPED", "ensure_landing_demo"]

MARK = "【落地演示】"  # in every opening note: the demo's cases are found by it
TTO, OPERATOR = "tto@demo.luodi", "operator@demo.luodi"
BEIJING = dt.timezone(dt.timedelta(hours=8))
EQUITY_HOLDER = "京华示范大学资产经营有限公司（示例）"


@dataclass(frozen=True)
class DealSpec:
    """One demo deal: who, on what (an achievement, or the enterprise's demand), and the contract.

    ``days_ago`` is the signing date before today; ``span`` the days from opening to signing.
    """

    seeker: str  # demo enterprise number, "05" for DEMO-E05
    category: str
    amount: str  # 万元
    days_ago: int
    region: str  # where it lands (GB/T 2260)
    demand: str | None = None  # "11" for DEMO-D11: the TTO offers to solve it
    registered: bool = True
    broker: bool = True  # assigned, meets the parties and records the deal; else the owner does
    meeting: bool = True
    mode: str | None = None
    equity: dict[str, str] | None = None
    entity: str | None = None  # a newly formed landed entity (else the buyer)
    milestones: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    span: int = 45


DEALS: tuple[DealSpec, ...] = (
    DealSpec("05", "license", "85", 238, "110108", mode="license", span=60,
             milestones=({"kind": "pilot", "achieved_days_ago": 150},)),
    DealSpec("06", "transfer", "320", 215, "110106", mode="transfer"),
    DealSpec("07", "development_commissioned", "260", 196, "110105", demand="11",
             broker=False, meeting=False, mode="development_service", span=35),
    DealSpec("08", "development_cooperative", "480", 178, "120116", demand="12",
             mode="development_service", span=55,
             milestones=({"kind": "pilot", "achieved_days_ago": 60},
                         {"kind": "production", "planned_days_ahead": 120})),
    DealSpec("09", "transfer", "600", 160, "120116", mode="equity_investment",
             equity={"share_pct": "15", "valuation_wan": "600", "holder": EQUITY_HOLDER},
             entity="沽上京华生物科技有限公司（示例）"),
    DealSpec("10", "service", "45", 141, "120112", demand="14", registered=False,
             meeting=False, mode="development_service", span=30),
    DealSpec("11", "consulting", "22", 120, "133100", demand="16", broker=False,
             meeting=False, span=30),
    DealSpec("12", "development_cooperative", "380", 101, "130602", demand="17",
             mode="development_service", span=50,
             milestones=({"kind": "pilot", "achieved_days_ago": 20},
                         {"kind": "revenue", "planned_days_ahead": 200})),
    DealSpec("13", "license", "150", 83, "130203", mode="license"),
    DealSpec("14", "development_commissioned", "95", 66, "131002", demand="21",
             registered=False, mode="development_service", span=40),
    DealSpec("16", "development_commissioned", "210", 52, "310115", demand="24",
             mode="development_service"),
    DealSpec("17", "development_commissioned", "130", 37, "440305", demand="25",
             meeting=False, mode="development_service", span=35),
    DealSpec("18", "transfer", "760", 24, "510107", mode="transfer", span=60,
             milestones=({"kind": "revenue", "achieved_days_ago": 3, "amount_wan": "35"},)),
    DealSpec("03", "license", "36", 9, "110115", registered=False, broker=False,
             meeting=False, mode="license", span=30),
)
# Cases that stop before a deal: (enterprise, demand or None, where they stop).
STOPPED: tuple[tuple[str, str | None, str], ...] = (
    ("15", None, "interested"), ("11", None, "accepted"), ("14", None, "contacts_revealed"),
    ("12", None, "meeting"), ("17", None, "agreed"), ("06", "10", "closed"),
)


@dataclass
class Cast:
    """The demo users who act, and the institution and enterprises they act for."""

    tto: Actor
    operator: Actor
    broker: Actor
    institution: Institution
    members: dict[str, Actor]  # enterprise number → its member
    enterprises: dict[str, Enterprise]


def _user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email))


def _cast(session: Session) -> Cast | None:
    tto, operator, broker = (_user(session, e) for e in (TTO, OPERATOR, BROKER_EMAIL))
    if tto is None or operator is None or broker is None or tto.organisation_id is None:
        return None
    institution = session.scalar(select(Institution).where(
        Institution.organisation_id == tto.organisation_id).order_by(Institution.id).limit(1))
    if institution is None:
        return None
    members, enterprises = {}, {}
    for ent in session.scalars(select(Enterprise).where(Enterprise.source == "demo")):
        member = session.scalar(select(User).where(
            User.organisation_id == ent.organisation_id, User.role == "enterprise_member",
            User.is_active.is_(True)).order_by(User.id).limit(1)) \
            if ent.organisation_id is not None else None
        if member is not None:
            number = (ent.external_id or "").removeprefix("DEMO-E")
            members[number], enterprises[number] = actor_for(member, via="cli"), ent
    return Cast(actor_for(tto, via="cli"), actor_for(operator, via="cli"),
                actor_for(broker, via="cli"), institution, members, enterprises)


def _achievements(session: Session, institution_id: int) -> list[Achievement]:
    """The institution's published achievements, those in no case yet first."""
    rows = session.scalars(select(Achievement).where(
        Achievement.institution_id == institution_id, Achievement.status == "published")
        .order_by(Achievement.id.desc())).all()
    docked = set(session.scalars(select(Case.achievement_id).where(
        Case.achievement_id.is_not(None))))
    return [a for a in rows if a.id not in docked] + [a for a in rows if a.id in docked]


def _demand(session: Session, number: str) -> Demand | None:
    return session.scalar(select(Demand).where(
        Demand.source == "demo", Demand.external_id == f"DEMO-D{number}",
        Demand.status == "published"))


# --- walking a case -----------------------------------------------------------------------

def _open(session: Session, cast: Cast, seeker: str, demand: str | None,
          achievement: Achievement | None) -> tuple[Case, Actor] | None:
    """Open the case; returns it and the owner's actor (who accepts), or None if impossible."""
    member = cast.members.get(seeker)
    if member is None:
        return None
    if demand is not None:
        record = _demand(session, demand)
        if record is None or record.owner_org_id != member.org_id:
            return None
        case = cases.open_case(session, cast.tto, kind="demands", record_id=record.id,
                               note=f"我部在该方向有研究基础，可提供技术方案。（示例）{MARK}")
        return case, member
    if achievement is None:
        return None
    case = cases.open_case(session, member, kind="achievements", record_id=achievement.id,
                           note=f"与我司产品线相关，希望了解合作条件。（示例）{MARK}")
    return case, cast.tto


def _consent_both(session: Session, actors: tuple[Actor, Actor], case_id: int) -> None:
    for actor in actors:
        contact = cases.default_contact(session, actor, session.get_one(Case, case_id))
        cases.consent_contacts(session, actor, case_id, name=contact["name"] or "联系人",
                               email=contact["email"] or "contact@demo.luodi",
                               phone=contact["phone"])


def _meet(session: Session, cast: Cast, case_id: int) -> None:
    day = (utcnow().astimezone(BEIJING) + dt.timedelta(days=5)).date()
    meetings.schedule_meeting(
        session, cast.broker, case_id, minutes=90,
        starts_at=dt.datetime.combine(day, dt.time(14, 0), tzinfo=BEIJING),
        place="京华示范大学·工学部 技术转移办公室（示例）",
        agenda="1. 技术方案与指标\n2. 合作方式与报价\n3. 下一步安排")


def _walk(session: Session, cast: Cast, case: Case, owner: Actor, stop: str, *,
          broker: bool, meeting: bool) -> None:
    """Carry an opened case through the workflow up to ``stop`` (at most ``agreed``)."""
    seeker = cast.tto if case.kind == "demands" else _member_of(cast, case)
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("accepted", lambda: cases.transition(session, owner, case.id, "accept")),
        ("contacts_revealed", lambda: _consent_both(session, (seeker, owner), case.id)),
    ]
    if broker:
        steps.append(("contacts_revealed", lambda: cases.assign_broker(
            session, cast.operator, case.id, cast.broker.user_id or 0)))
    if meeting and broker:
        steps.append(("meeting", lambda: _meet(session, cast, case.id)))
    helper = cast.broker if broker else seeker
    agreer = cast.broker if broker else owner
    steps += [
        ("negotiating", lambda: cases.transition(
            session, helper, case.id, "negotiate",
            note="就合同范围、金额和付款方式进行协商。（示例）")),
        ("agreed", lambda: cases.transition(session, agreer, case.id, "agree",
                                            note="双方就合同条款达成一致。（示例）")),
    ]
    order = ("accepted", "contacts_revealed", "meeting", "negotiating", "agreed")
    for reached, step in steps:
        if order.index(reached) > order.index(stop):
            break
        step()


def _member_of(cast: Cast, case: Case) -> Actor:
    return next(a for a in cast.members.values() if a.org_id == case.seeker_org_id)


# --- the deal -----------------------------------------------------------------------------

def _milestone(spec: dict[str, Any], today: dt.date) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": spec["kind"], "note": "（示例）"}
    if "achieved_days_ago" in spec:
        out["achieved_on"] = (today - dt.timedelta(days=spec["achieved_days_ago"])).isoformat()
    if "planned_days_ahead" in spec:
        out["planned_on"] = (today + dt.timedelta(days=spec["planned_days_ahead"])).isoformat()
    if "amount_wan" in spec:
        out["amount_wan"] = spec["amount_wan"]
    return out


def _title(case: Case, category: str) -> str:
    record: Any = case.record
    label = ContractCategory.parse(category).label()
    return f"{record.title[:80]}{label}合同（示例）"


def deal_body(spec: DealSpec, serial: int, case: Case, cast: Cast,
              today: dt.date) -> dict[str, Any]:
    """The deal as the case page's form would send it (parties, milestones, equity …)."""
    signed = today - dt.timedelta(days=spec.days_ago)
    buyer, seller = cast.enterprises[spec.seeker], cast.institution
    amount = Decimal(spec.amount)
    income = amount if spec.category in ("license", "transfer") else amount * Decimal("0.8")
    parties = [
        {"role": "seller", "name": seller.name, "credit_code": seller.credit_code,
         "region_code": seller.region_code or "110108", "party_type": "university"},
        {"role": "buyer", "name": buyer.name, "credit_code": buyer.credit_code,
         "region_code": buyer.region_code or spec.region, "party_type": "enterprise"}]
    if spec.broker:
        parties.append({"role": "intermediary", "name": BROKER_ORG, "region_code": "110108",
                        "party_type": "other"})
    return {
        "category": spec.category, "title": _title(case, spec.category),
        "amount_wan": spec.amount, "signed_on": signed.isoformat(),
        "registration_no": f"{signed.year}{spec.region}9{serial:05d}" if spec.registered
        else None,
        "registered_income_wan": f"{income:.2f}" if spec.registered else None,
        "transfer_mode": spec.mode, "equity": spec.equity,
        "landed_entity": spec.entity or buyer.name,
        "landed_credit_code": None if spec.entity else buyer.credit_code,
        "landing_region_code": spec.region, "parties": parties,
        "milestones": [_milestone(m, today) for m in spec.milestones],
        "note": "示例成交：演示数据，虚构。" + ("登记号待认定登记后补录。" if not spec.registered
                                           else "") + "（示例）",
    }


def _backdate(session: Session, case: Case, signed: dt.date, span: int) -> None:
    """Demo only: spread the case's trail over the ``span`` days that end on the signing day."""
    start = dt.datetime.combine(signed - dt.timedelta(days=span), dt.time(9, 0), tzinfo=BEIJING)
    end = dt.datetime.combine(signed, dt.time(16, 0), tzinfo=BEIJING)
    events = sorted(case.events, key=lambda e: e.id)
    landing = [e for e in events if e.kind == "deal" or e.action == "land"]
    earlier = [e for e in events if e not in landing]
    step = (end - start) / max(len(earlier), 1)
    for i, event in enumerate(earlier):
        event.at = start + step * i
        if event.kind == "consent":
            setattr(case, f"{(event.detail or {}).get('side')}_consent_at", event.at)
        if event.action == "meet":
            _backdate_meeting(session, case.id, event.at + step / 2)
    for event in landing:
        event.at = end
    case.opened_at, case.last_event_at = start, end
    deal = session.scalar(select(Deal).where(Deal.case_id == case.id))
    if deal is not None:
        deal.created_at = end


def _backdate_meeting(session: Session, case_id: int, starts: dt.datetime) -> None:
    for meeting in session.scalars(select(Meeting).where(Meeting.case_id == case_id)):
        length = meeting.ends_at - meeting.starts_at
        meeting.starts_at, meeting.ends_at, meeting.status = starts, starts + length, "held"
        meeting.created_at = starts - dt.timedelta(days=3)


def _land(session: Session, cast: Cast, spec: DealSpec, serial: int,
          achievement: Achievement | None, today: dt.date) -> None:
    opened = _open(session, cast, spec.seeker, spec.demand, achievement)
    if opened is None:
        return
    case, owner = opened
    _walk(session, cast, case, owner, "agreed", broker=spec.broker, meeting=spec.meeting)
    recorder = cast.broker if spec.broker else owner
    deals.record_deal(session, recorder, case.id, deal_body(spec, serial, case, cast, today))
    session.refresh(case)
    _backdate(session, case, today - dt.timedelta(days=spec.days_ago), spec.span)
    session.commit()


def _stop(session: Session, cast: Cast, seeker: str, demand: str | None, stop: str,
          achievement: Achievement | None) -> None:
    opened = _open(session, cast, seeker, demand, achievement)
    if opened is None:
        return
    case, owner = opened
    if stop == "closed":
        cases.transition(session, owner, case.id, "accept")
        cases.transition(session, owner, case.id, "close",
                         note="已选择其他技术方案，暂不推进。（示例）")
    elif stop != "interested":
        _walk(session, cast, case, owner, stop, broker=stop in ("meeting", "agreed"),
              meeting=stop == "meeting")


def _done(session: Session) -> bool:
    return session.scalar(select(CaseEvent.id).where(CaseEvent.note.contains(MARK))
                          .limit(1)) is not None


def ensure_landing_demo(session: Session, actor: Actor, settings: Settings,
                        password: str) -> None:
    """Carry demo cases through to deals, and stop a few earlier (idempotent).

    ``actor``, ``settings`` and ``password`` match the other ``ensure_*_demo`` steps: no
    account is created here; everyone acts as the demo user they are.
    """
    del actor, settings, password  # the demo users act for themselves
    cast = _cast(session)
    if cast is None or _done(session):
        return
    pool = _achievements(session, cast.institution.id)
    today = beijing_today()  # as the deal form checks "not in the future"
    picks = iter(pool * 4)  # a small sample reuses achievements (non-exclusive licences)
    for serial, spec in enumerate(DEALS, start=1):
        achievement = None if spec.demand else next(picks, None)
        _land(session, cast, spec, serial, achievement, today)
    for seeker, demand, stop in STOPPED:
        achievement = None if demand else next(picks, None)
        _stop(session, cast, seeker, demand, stop, achievement)
