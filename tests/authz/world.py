"""The authorisation world: two organisations of each kind, every role, canaries everywhere.

Side A is "own" for the roles that belong to it (institution A's member, enterprise A's member,
the expert's own profile, case A's broker); side B is always someone else's. Every confidential
field holds a unique canary (``CANARY…``) together with the roles allowed to read it, so a test
can scan any response body for text that role may not see. Records go through the services as
the system actor; ledger rows (cycles, pushes, outbox) are written as a cycle would write them.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import socket
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from luodi.auth import tokens
from luodi.auth.actor import system_actor
from luodi.auth.models import User
from luodi.auth.service import actor_for
from luodi.config import Settings
from luodi.inventory import catalogues, records
from luodi.inventory.models import Achievement, DuplicateFlag, Expert
from luodi.push.channels import webhook as webhook_channel
from luodi.push.ledger import OutboxMessage, PushBlock, Subscription, WebhookEndpoint
from tests.factories import make_org, make_user
from tests.inventory import factories as inv
from tests.push import ledger_factories as ledger

ROLES = ("anonymous", "admin", "operator", "institution_member", "enterprise_member", "broker",
         "viewer", "expert")
STAFF = frozenset({"admin", "operator"})
NOBODY: frozenset[str] = frozenset()


def seen_by(*roles: str) -> frozenset[str]:
    """Staff plus ``roles``: who may read a canary."""
    return STAFF | frozenset(roles)


@dataclass(frozen=True)
class Canary:
    """A unique string planted in a confidential field, and who may read it.

    With ``scope`` (kind, id) the text is only forbidden inside a JSON object describing that
    record: an enterprise's name is public, but not next to its confidential demand.
    ``via`` lets more roles read it, but only in responses of routes under a path prefix: a
    docking case opens its record's tiers to the seeker in the case, not on the record's page.
    """

    text: str
    allowed: frozenset[str]
    where: str
    scope: tuple[str, int] | None = None
    via: tuple[tuple[str, frozenset[str]], ...] = ()

    def readable(self, role: str, path: str) -> bool:
        return role in self.allowed or any(
            role in roles and path.startswith(prefix) for prefix, roles in self.via)


@dataclass
class World:
    """Ids of everything, by a short name; users and tokens by role."""

    orgs: dict[str, int] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # role → raw bearer token
    spare_tokens: dict[str, int] = field(default_factory=dict)  # role → a token id to revoke
    canaries: list[Canary] = field(default_factory=list)
    reminders: dict[str, int] = field(default_factory=dict)  # role → its case reminder
    participants: dict[int, int] = field(default_factory=dict)  # organisation → participant
    docking: bool = False

    def plant(self, text: str, allowed: frozenset[str], where: str,
              scope: tuple[str, int] | None = None) -> str:
        self.canaries.append(Canary(text, allowed, where, scope))
        return text

    def allow(self, prefix: str, *roles: str, via: str) -> None:
        """Let ``roles`` read the canaries planted under ``prefix`` in responses under ``via``."""
        self.canaries = [replace(c, via=(*c.via, (via, frozenset(roles))))
                         if c.where.startswith(prefix) else c for c in self.canaries]

    def headers(self, role: str) -> dict[str, str]:
        token = self.tokens.get(role)
        return {"authorization": f"Bearer {token}"} if token else {}

    def user_id(self, role: str) -> int | None:
        user = self.users.get(role)
        return user.id if user else None


def _listing(w: World, tag: str, allowed: frozenset[str], *, phone: str,
             draft_title: bool = False) -> dict[str, Any]:
    """Confidential fields of an achievement or demand, each a canary."""
    values = {
        "description": w.plant(f"CANARY{tag}description 保密工艺", allowed, f"{tag}.description"),
        "contact_name": w.plant(f"CANARY{tag}contactname", allowed, f"{tag}.contact_name"),
        "contact_email": w.plant(f"canary{tag}email@example.cn", allowed, f"{tag}.contact_email"),
        "contact_phone": w.plant(phone, allowed, f"{tag}.contact_phone"),
    }
    if draft_title:
        values["title"] = w.plant(f"CANARY{tag}drafttitle 未发布成果", allowed, f"{tag}.title")
    return values


def _parties(session: Session, settings: Settings, w: World) -> dict[str, Any]:
    parties = {
        "inst_a": ledger.institution_party(session, settings, name="甲示范大学"),
        "inst_b": ledger.institution_party(session, settings, name="乙示范大学"),
        "ent_a": ledger.enterprise_party(session, settings, name="甲示范科技有限公司"),
        "ent_b": ledger.enterprise_party(session, settings, name="乙示范科技有限公司"),
    }
    for key, party in parties.items():
        w.orgs[key] = party.org.id
        w.ids[key] = party.record.id
    w.users["institution_member"] = parties["inst_a"].user
    w.users["enterprise_member"] = parties["ent_a"].user
    w.users["institution_member_b"] = parties["inst_b"].user
    w.users["enterprise_member_b"] = parties["ent_b"].user
    for role, kind in (("operator", "operator"), ("broker", "broker_agency"),
                       ("viewer", "government")):
        org = make_org(session, kind, name=f"{kind}-authz")
        w.orgs[role] = org.id
        w.users[role] = make_user(session, role, org=org)
    w.users["admin"] = make_user(session, "admin")
    w.users["expert"] = make_user(session, "expert")
    return parties


def _records(session: Session, settings: Settings, w: World, parties: dict[str, Any]) -> None:
    for side, phone in (("a", "1"), ("b", "2")):
        inst, ent = parties[f"inst_{side}"].record, parties[f"ent_{side}"].record
        own = seen_by(*(("institution_member",) if side == "a" else ()))
        w.ids[f"ach_{side}"] = inv.achievement(
            session, settings, inst, title=f"{side}侧固态电池电解质成果",
            **_listing(w, f"ach{side}", own, phone=f"010-5550-010{phone}")).id
        w.ids[f"ach_{side}_draft"] = inv.achievement(
            session, settings, inst, status="draft",
            **_listing(w, f"ach{side}draft", own, phone=f"010-5550-020{phone}",
                       draft_title=True)).id
        own = seen_by(*(("enterprise_member",) if side == "a" else ()))
        w.ids[f"dem_{side}"] = inv.demand(
            session, settings, ent, title=f"{side}侧机械臂视觉需求",
            **_listing(w, f"dem{side}", own, phone=f"010-5550-030{phone}")).id
        conf = inv.demand(session, settings, ent, title=f"{side}侧保密需求", confidential=True,
                          **_listing(w, f"dem{side}conf", own, phone=f"010-5550-040{phone}"))
        w.ids[f"dem_{side}_conf"] = conf.id
        w.plant(ent.name, own, f"dem{side}conf.enterprise_name", scope=("demands", conf.id))
        w.ids[f"dem_{side}_draft"] = inv.demand(
            session, settings, ent, status="draft",
            **_listing(w, f"dem{side}draft", own, phone=f"010-5550-050{phone}",
                       draft_title=True)).id


def _experts(session: Session, settings: Settings, w: World) -> None:
    actor = system_actor()
    for n, (key, consent, allowed) in enumerate((("exp_self", "granted", seen_by("expert")),
                                                 ("exp_other", "granted", seen_by()),
                                                 ("exp_hidden", "none", seen_by()))):
        data = {"name": f"专家{key}", "affiliation": "甲示范大学", "consent": consent,
                "email": w.plant(f"canary{key}@example.cn", allowed, f"{key}.email"),
                "phone": w.plant(f"010-5550-060{n}", allowed, f"{key}.phone")}
        if consent == "none":
            data["name"] = w.plant(f"CANARY{key}name", allowed, f"{key}.name")
        obj = records.create_record(session, actor, "experts", data, settings=settings)
        w.ids[key] = obj.id
    session.get(Expert, w.ids["exp_self"]).user_id = w.users["expert"].id  # type: ignore[union-attr]
    session.commit()


def _catalogues(session: Session, w: World) -> None:
    actor = system_actor()
    pub = catalogues.create_catalogue(session, actor, name="甲乙重点成果清单", kind="achievements")
    catalogues.add_items(session, actor, pub.id, [w.ids["ach_a"], w.ids["ach_b"]])
    catalogues.submit_for_review(session, actor, pub.id)
    catalogues.approve_and_publish(session, actor, pub.id)
    dem = catalogues.create_catalogue(session, actor, name="甲乙重点需求清单", kind="demands")
    catalogues.add_items(session, actor, dem.id, [w.ids["dem_a"], w.ids["dem_b_conf"]])
    catalogues.submit_for_review(session, actor, dem.id)
    catalogues.approve_and_publish(session, actor, dem.id)
    draft = catalogues.create_catalogue(
        session, actor, name=w.plant("CANARYcatdraftname 内部清单", STAFF, "catalogue.name"),
        kind="achievements",
        description=w.plant("CANARYcatdraftdescription", STAFF, "catalogue.description"))
    catalogues.add_items(session, actor, draft.id, [w.ids["ach_a"]])
    w.ids.update(cat_pub=pub.id, cat_dem=dem.id, cat_draft=draft.id)


def _push_ledger(session: Session, w: World, parties: dict[str, Any]) -> None:
    cycle = ledger.cycle(session)
    w.ids["cycle"] = cycle.id
    now = dt.datetime.now(dt.UTC)
    for side, other in (("a", "b"), ("b", "a")):
        ent = parties[f"ent_{side}"].record
        note = w.plant(f"CANARYpush{side}note", seen_by(
            "enterprise_member" if side == "a" else "institution_member"), f"push{side}.note")
        push = ledger.push(session, cycle, ent, session.get(Achievement, w.ids[f"ach_{other}"]),
                           feedback="not_relevant", feedback_reason="other",
                           feedback_note=note, feedback_at=now)
        w.ids[f"push_{side}"] = push.id
        allowed = seen_by("enterprise_member") if side == "a" else seen_by()
        block = PushBlock(enterprise_id=ent.id, institution_id=w.ids[f"inst_{other}"],
                          kind="opt_out", reason=w.plant(f"CANARYblock{side}reason", allowed,
                                                         f"block{side}.reason"))
        session.add(block)
        session.add(Subscription(organisation_id=w.orgs[f"ent_{side}"], keywords=[
            w.plant(f"CANARYsub{side}", allowed, f"subscription{side}.keywords")]))
        hook = WebhookEndpoint(organisation_id=w.orgs[f"ent_{side}"],
                               url=f"https://hooks.{side}.example.cn/luodi",
                               secret=w.plant(f"whsec_CANARYwebhook{side}secret", NOBODY,
                                              f"webhook{side}.secret"),
                               description=f"{side} ERP")
        session.add(hook)
        session.flush()
        w.ids[f"block_{side}"], w.ids[f"webhook_{side}"] = block.id, hook.id
        session.add(OutboxMessage(key=f"webhook:{cycle.id}:{hook.id}", channel="webhook",
                                  cycle_id=cycle.id, endpoint_id=hook.id,
                                  organisation_id=w.orgs[f"ent_{side}"], push_ids=[push.id],
                                  payload={"secret": w.plant(f"CANARYoutbox{side}", NOBODY,
                                                             f"outbox{side}.payload")}))
    session.commit()
    flag = session.scalar(select(DuplicateFlag).limit(1))  # the similar titles flag themselves
    if flag is None:
        flag = DuplicateFlag(kind="achievements", record_id=w.ids["ach_b"],
                             other_id=w.ids["ach_a"], similarity=0.91)
        session.add(flag)
        session.commit()
    w.ids["flag"] = flag.id


def _tokens(session: Session, w: World) -> None:
    for role, user in w.users.items():
        actor = actor_for(user, via="api")
        raw, _ = tokens.create_token(session, actor, name="authz", days=None)
        _, spare = tokens.create_token(session, actor, name="spare", days=None)
        w.tokens[role], w.spare_tokens[role] = raw, spare.id
        w.plant(user.password_hash, NOBODY, f"{role}.password_hash")
        w.plant(user.email, seen_by(role), f"{role}.email")  # a person's address: self, staff


def _docking(session: Session, settings: Settings, w: World) -> None:
    """Cases, their trail and files, reminders and a docking event (when docking exists).

    Case A: enterprise A docks achievement A of institution A, with the broker, accepted,
    both contacts shared, a meeting, an NDA, a file, a message and an internal note. Case B
    is the same between the B sides (no broker). Case C: institution A offers to solve
    enterprise B's confidential demand, still only "interested".
    """
    from luodi.docking import cases, files, meetings, messages

    a = {role: actor_for(w.users[role]) for role in w.users}
    staff = system_actor()
    parties = {"a": ("enterprise_member", "institution_member"),
               "b": ("enterprise_member_b", "institution_member_b")}
    for side, (seeker, owner) in parties.items():
        ours = side == "a"
        sees = seen_by(*(("enterprise_member", "institution_member", "broker") if ours else ()))
        case = cases.open_case(session, a[seeker], kind="achievements",
                               record_id=w.ids[f"ach_{side}"])
        if ours:
            cases.assign_broker(session, staff, case.id, w.users["broker"].id)
        cases.transition(session, a[owner], case.id, "accept")
        for part in (seeker, owner):
            cases.consent_contacts(
                session, a[part], case.id,
                name=w.plant(f"CANARYcase{side}{part}name", sees, f"case{side}.contact"),
                email=w.plant(f"canarycase{side}{part}@example.cn", sees, f"case{side}.email"))
        meeting = meetings.schedule_meeting(
            session, a[owner], case.id, place="会议室",
            starts_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=5),
            agenda=w.plant(f"CANARYcase{side}agenda", sees, f"case{side}.meeting.agenda"))
        cases.record_nda(session, a[owner], case.id)
        upload = files.upload_file(
            session, a[owner], settings, case.id, filename="dossier.txt",
            content_type="text/plain",
            data=w.plant(f"CANARYcase{side}file", sees, f"case{side}.file").encode())
        messages.post_message(session, a[seeker], case.id,
                              w.plant(f"CANARYcase{side}message", sees, f"case{side}.message"))
        cases.add_note(session, staff, case.id, w.plant(
            f"CANARYcase{side}internal", seen_by(*(("broker",) if ours else ())),
            f"case{side}.internal_note"), internal=True)
        w.ids.update({f"cases_{side}": case.id, f"meetings_{side}": meeting.id,
                      f"files_{side}": upload.id})
        if ours:  # the case opens achievement A's detail and contact tiers to its seeker, broker
            w.allow("acha.", "enterprise_member", "broker", via="/api/v1/cases/")
        if landing_available():
            _deal(session, w, case.id, side, a[owner], sees)
    w.ids["cases_c"] = cases.open_case(session, a["institution_member"], kind="demands",
                                       record_id=w.ids["dem_b_conf"]).id
    _reminders(session, w)
    _event(session, w)


def _deal(session: Session, w: World, case_id: int, side: str, owner: Any,
          sees: frozenset[str]) -> None:
    """The case agrees and lands: a deal with a milestone, its note a canary."""
    from luodi.docking import cases
    from luodi.landing import deals

    cases.transition(session, owner, case_id, "negotiate")
    cases.transition(session, owner, case_id, "agree")
    party = {"region_code": "110108", "party_type": "university"}
    deal = deals.record_deal(session, owner, case_id, {
        "category": "transfer", "title": f"{side}侧成果转让合同", "amount_wan": "120.00",
        "signed_on": dt.datetime.now(dt.UTC).date().isoformat(), "landing_region_code": "110108",
        "parties": [{"role": "seller", "name": "甲乙示范大学", **party},
                    {"role": "buyer", "name": "甲乙示范科技有限公司", **party,
                     "party_type": "enterprise"}],
        "milestones": [{"kind": "pilot", "planned_on": "2030-06-30"}],
        "note": w.plant(f"CANARYdeal{side}note", sees, f"deal{side}.note")})
    w.ids[f"deals_{side}"] = deal.id


def landing_available() -> bool:
    return importlib.util.find_spec("luodi.landing.deals") is not None


def _reminders(session: Session, w: World) -> None:
    from luodi.docking.models import CaseReminder

    for role, user in w.users.items():
        row = CaseReminder(case_id=w.ids["cases_a"], user_id=user.id,
                           due_on=dt.datetime.now(dt.UTC).date(),
                           message=w.plant(f"CANARYreminder{role}", frozenset({role}),
                                           f"reminder.{role}"))
        session.add(row)
        session.flush()
        w.reminders[role] = row.id
    session.commit()


def _event(session: Session, w: World) -> None:
    from luodi.docking import events

    staff = system_actor()
    event = events.create_event(session, staff, title="甲乙对接会", kind="matchmaking",
                                held_on=dt.datetime.now(dt.UTC).date() + dt.timedelta(days=9),
                                venue="会展中心", slots=["09:00", "09:30", "10:00"],
                                slot_minutes=20, tables=4)
    w.ids["events"] = event.id
    for key in ("inst_a", "ent_a", "inst_b", "ent_b"):
        w.participants[w.orgs[key]] = events.register(session, staff, event.id,
                                                      w.orgs[key]).id
    for side in ("a", "b"):
        sees = seen_by(*(("institution_member", "enterprise_member") if side == "a" else ()))
        req = events.request_meeting(
            session, staff, event.id, w.participants[w.orgs[f"inst_{side}"]],
            w.participants[w.orgs[f"ent_{side}"]],
            note=w.plant(f"CANARYeventreq{side}", sees, f"event.request{side}.note"))
        w.ids[f"event_requests_{side}"] = req.id


def docking_available() -> bool:
    return importlib.util.find_spec("luodi.docking.cases") is not None


def build(session: Session, settings: Settings) -> World:
    """Create the world (about thirty records: quick on both databases)."""
    w = World()
    parties = _parties(session, settings, w)
    _records(session, settings, w, parties)
    _experts(session, settings, w)
    _catalogues(session, w)
    _push_ledger(session, w, parties)
    if docking_available():
        _docking(session, settings, w)
        w.docking = True
    _tokens(session, w)
    return w


# --- naming the world's objects ----------------------------------------------------------

def families(w: World, role: str) -> dict[str, dict[str, int]]:
    """Object family → scope variant → id (the variants beyond own/other fall back to them)."""
    i, user = w.ids, w.users.get(role)
    own_org = (user.organisation_id if user and user.organisation_id else w.orgs["ent_a"])
    fam = {
        "achievements": {"own": i["ach_a"], "own:draft": i["ach_a_draft"], "other": i["ach_b"],
                         "other:draft": i["ach_b_draft"]},
        "demands": {"own": i["dem_a"], "own:draft": i["dem_a_draft"], "other": i["dem_b"],
                    "other:draft": i["dem_b_draft"], "other:confidential": i["dem_b_conf"]},
        "enterprises": {"own": i["ent_a"], "other": i["ent_b"]},
        "institutions": {"own": i["inst_a"], "other": i["inst_b"]},
        "experts": {"own": i["exp_self"], "other": i["exp_other"],
                    "other:hidden": i["exp_hidden"]},
        "catalogues": {"own": i["cat_pub"], "own:demands": i["cat_dem"], "other": i["cat_draft"]},
        "versions": {"own": 1, "other": 1},
        "cycles": {"own": i["cycle"], "other": i["cycle"]},
        "pushes": {"own": i["push_a"], "other": i["push_b"]},
        "blocks": {"own": i["block_a"], "other": i["block_b"]},
        "webhooks": {"own": i["webhook_a"], "other": i["webhook_b"]},
        "flags": {"own": i["flag"], "other": i["flag"]},
        "organisations": {"own": own_org, "other": w.orgs["ent_b"]},
        "users": {"own": w.user_id(role) or w.user_id("enterprise_member"),
                  "other": w.user_id("enterprise_member_b")},
        "tokens": {"own": w.spare_tokens.get(role, w.spare_tokens["enterprise_member"]),
                   "other": w.spare_tokens["enterprise_member_b"]},
    }
    if w.docking:
        fam.update(_docking_families(w, role, own_org))
    return fam


def _docking_families(w: World, role: str, own_org: int) -> dict[str, dict[str, int]]:
    i, mine = w.ids, w.participants
    return {
        "cases": {"own": i["cases_a"], "own:confidential": i["cases_c"], "other": i["cases_b"]},
        "meetings": {"own": i["meetings_a"], "other": i["meetings_b"]},
        "files": {"own": i["files_a"], "other": i["files_b"]},
        "case_reminders": {"own": w.reminders.get(role, w.reminders["enterprise_member"]),
                           "other": w.reminders["enterprise_member_b"]},
        "events": {"own": i["events"], "other": i["events"]},
        "participants": {"own": mine.get(own_org, mine[w.orgs["ent_a"]]),
                         "other": mine[w.orgs["ent_b"]]},
        "event_requests": {"own": i["event_requests_a"], "other": i["event_requests_b"]},
        "peers": {"own": mine[w.orgs["inst_b"]], "other": mine[w.orgs["inst_a"]]},
        "brokers": {"own": w.user_id("broker"), "other": w.user_id("broker")},  # type: ignore[dict-item]
        **({"deals": {"own": i["deals_a"], "other": i["deals_b"]}} if "deals_a" in i else {}),
    }


def pick(fam: dict[str, int], scope: str) -> int:
    return fam.get(scope, fam[scope.split(":")[0]])


def offline_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """No network in tests: every webhook host resolves to a public address, without DNS."""
    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]

    monkeypatch.setattr(webhook_channel, "socket",
                        SimpleNamespace(getaddrinfo=resolve, SOCK_STREAM=socket.SOCK_STREAM))


