"""The push part of the demo: an account for every demo enterprise and a published catalogue.

Push cycles reach enterprises through their members, so each illustrative enterprise gets an
organisation and one member (``e01@demo.luodi`` …, the demo password); ``ent@demo.luodi``
stays the member of 燕栖智能机器人. The catalogue "2026年第一批重点成果供给清单（示例）" lists
achievements whose titles carry a demo demand's keywords — the kind of list an operator curates
for the region's enterprises — so a cycle has listed achievements to cover.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from luodi.auth import service as accounts
from luodi.auth.actor import Actor
from luodi.auth.models import Organisation, User
from luodi.config import Settings
from luodi.inventory import catalogues
from luodi.inventory.catalogue_models import Catalogue
from luodi.inventory.models import Achievement, Demand, Enterprise
from luodi.inventory.records import update_record

__all__ = ["CATALOGUE_NAME", "ensure_push_demo"]

CATALOGUE_NAME = "2026年第一批重点成果供给清单（示例）"
PER_KEYWORD = 2  # achievements taken per demand keyword
MAX_ITEMS = 40


def _ensure_members(session: Session, actor: Actor, settings: Settings,
                    password: str) -> list[tuple[str, str, str | None]]:
    made: list[tuple[str, str, str | None]] = []
    demo = session.scalars(select(Enterprise).where(Enterprise.source == "demo")
                           .order_by(Enterprise.external_id)).all()
    for ent in demo:
        if ent.organisation_id is not None:
            continue  # linked already (the E02 account of the base demo, or a re-run)
        org = session.scalar(select(Organisation).where(Organisation.name == ent.name)) or \
            accounts.create_organisation(session, actor, name=ent.name, kind="enterprise")
        update_record(session, actor, "enterprises", ent.id, {"organisation_id": org.id},
                      settings=settings)
        number = (ent.external_id or "").removeprefix("DEMO-E").lower()
        email = f"e{number}@demo.luodi"
        if session.scalar(select(User.id).where(func.lower(User.email) == email)) is None:
            accounts.create_user(session, actor, accounts.NewUser(
                email=email, display_name=f"演示企业用户 {number.upper()} Demo enterprise",
                role="enterprise_member", password=password, organisation_id=org.id),
                min_password=settings.password_min_length)
        made.append((email, "enterprise_member", ent.name))
    return made


def _pick_items(session: Session) -> list[int]:
    picked: list[int] = []
    demands = session.scalars(select(Demand).where(Demand.source == "demo")
                              .order_by(Demand.external_id)).all()
    for keyword in (k for d in demands for k in (d.keywords or [])):
        stmt = (select(Achievement.id).where(Achievement.status == "published",
                                             Achievement.title.contains(keyword))
                .order_by(Achievement.id).limit(PER_KEYWORD))
        picked.extend(i for i in session.scalars(stmt) if i not in picked)
        if len(picked) >= MAX_ITEMS:
            break
    return picked[:MAX_ITEMS]


def _ensure_catalogue(session: Session, actor: Actor) -> int:
    if session.scalar(select(Catalogue.id).where(Catalogue.name == CATALOGUE_NAME)) is not None:
        return 0
    items = _pick_items(session)
    if not items:
        return 0
    cat = catalogues.create_catalogue(
        session, actor, name=CATALOGUE_NAME, kind="achievements",
        description="示例清单：与演示企业需求相关的成果，供推送批次覆盖。 / Illustrative list of "
        "achievements related to the demo enterprises' demands.")
    catalogues.add_items(session, actor, cat.id, items)
    catalogues.submit_for_review(session, actor, cat.id)
    catalogues.approve_and_publish(session, actor, cat.id)
    return len(items)


def ensure_push_demo(session: Session, actor: Actor, settings: Settings,
                     password: str) -> list[tuple[str, str, str | None]]:
    """Create the enterprise members and the demo catalogue (idempotent); returns accounts."""
    made = _ensure_members(session, actor, settings, password)
    _ensure_catalogue(session, actor)
    return made
