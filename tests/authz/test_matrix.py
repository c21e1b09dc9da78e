"""The authorisation matrix: every /api/v1 route × every role × own / other organisation.

Routes are read from the app, so an endpoint added tomorrow is in the matrix tomorrow; a route
whose path parameter this module cannot fill from the world fails the test instead of escaping.
For each role one world is built (writes may change it), then every cell is called: reads
first, then writes, deletes last. Failures are collected and reported together:

(a) no 5xx; (b) anonymous gets 401 except on the public routes; (c) no body carries a canary
the role may not read; (d) a non-staff write on the other side's object is refused;
(e) an update of one's own record never takes a field the role may not set (refused, or
re-read unchanged); on the other side's records every write is refused already (d).

Run ``pytest tests/authz -rP`` to see the per-role figures and the closing summary line.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import time
import typing
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from luodi.auth import tokens
from luodi.auth.actor import ANONYMOUS
from luodi.auth.policy import can
from luodi.auth.service import actor_for
from luodi.inventory.kinds import KINDS
from luodi.web.api.matches import DEFAULT_TARGET
from tests.authz import world as worlds
from tests.authz.world import ROLES, STAFF, World, families, offline_dns, pick
from tests.factories import PASSWORD, login, make_user
from tests.inventory import factories as inv

API = "/api/v1"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REFUSED = frozenset({401, 403, 404, 409, 422})
_seq = itertools.count(1)


# --- the routes ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    method: str
    path: str
    params: tuple[str, ...]
    query: dict[str, Any]  # name → annotation, of the query parameters
    required_query: tuple[str, ...]
    body: Any  # the body's annotation, or None

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path


def api_routes(app: Any) -> list[Route]:
    """Every (method, path) under /api/v1, read from the app's router."""
    out = []
    for rc in iter_route_contexts(app.routes):
        if not isinstance(rc.original_route, APIRoute) or not rc.path_format.startswith(API):
            continue
        dep = rc.dependant
        query = {q.name: q.field_info.annotation for q in _flat_query(dep)}
        required = tuple(q.name for q in _flat_query(dep) if q.field_info.is_required())
        body = rc.body_field.field_info.annotation if rc.body_field else None
        for method in sorted(rc.methods - {"HEAD", "OPTIONS"}):
            out.append(Route(method, rc.path_format, tuple(p.name for p in dep.path_params),
                             query, required, body))
    return out


def _flat_query(dep: Any) -> list[Any]:
    params = list(dep.query_params)
    for sub in dep.dependencies:
        params.extend(_flat_query(sub))
    return params


def _public_routes() -> dict[tuple[str, str], str]:
    """Routes an anonymous visitor may call, derived from the policy where it speaks."""
    public = {("POST", f"{API}/auth/login"): "logging in",
              ("GET", f"{API}/catalogues"): "published catalogues are public",
              ("GET", f"{API}/catalogues/{{catalogue_id}}"): "published catalogues",
              ("GET", f"{API}/catalogues/{{catalogue_id}}/versions"): "published versions",
              ("GET", f"{API}/catalogues/{{catalogue_id}}/versions/{{number}}"): "frozen version",
              ("GET", f"{API}/catalogues/{{catalogue_id}}/diff"): "diff of published versions",
              ("GET", f"{API}/vocabularies/fields"): "reference data",
              ("GET", f"{API}/vocabularies/regions"): "reference data",
              ("GET", f"{API}/vocabularies/trl"): "reference data"}
    teaser = SimpleNamespace(status="published", owner_org_id=None, consent="granted",
                             user_id=None)
    for kind in KINDS:
        if can(ANONYMOUS, f"{kind}.list"):
            public[("GET", f"{API}/{kind}")] = f"policy: {kind}.list"
        if can(ANONYMOUS, f"{kind}.read", teaser):
            public[("GET", f"{API}/{kind}/{{record_id}}")] = f"policy: {kind}.read (teaser)"
    return public


PUBLIC = _public_routes()

# Writes on the other side's objects that are the point of the route.
LEGIT_OTHER_WRITES = {
    ("POST", f"{API}/cases"): "showing interest in another organisation's published record",
}


K_LINK = "a confidential demand is found by filtering on its enterprise (enterprise_id)"
K_DELETE = "deleting a record that others reference raises IntegrityError: 500, not 409"
K_ANON = ("a protected GET looks the object up before asking for a login: 404 to anonymous "
          "(missing or hidden object) instead of 401")
K_BLANK = ("an empty e-mail or phone (null, '' or spaces) in a record body raises TypeError in "
           "validation (schemas.Email/Phone): 500, not 201/422")
K_BIGINT = ("an integer id beyond the column's range reaches the database (PostgreSQL INTEGER: "
            "|n| ≥ 2**31; SQLite: 2**63): 500, not 404/422")
# Protected GETs that answer 404 to anonymous for a missing object (401 when it exists).
LOOKUP_BEFORE_LOGIN = ("/enterprises/{enterprise_id}/push-blocks",
                       "/events/{event_id}/agenda/{participant_id}",
                       "/institutions/{institution_id}/push-reach", "/meetings/{meeting_id}.ics",
                       "/pushes/{push_id}")


# --- filling a cell from the world --------------------------------------------------------

FAMILY_OF_PARAM = {
    "user_id": "users", "token_id": "tokens", "catalogue_id": "catalogues", "number": "versions",
    "cycle_id": "cycles", "push_id": "pushes", "organisation_id": "organisations",
    "enterprise_id": "enterprises", "institution_id": "institutions", "block_id": "blocks",
    "endpoint_id": "webhooks", "flag_id": "flags", "case_id": "cases", "meeting_id": "meetings",
    "reminder_id": "case_reminders", "event_id": "events", "participant_id": "participants",
    "request_id": "event_requests", "file_id": "files",
    "requester_participant_id": "participants", "target_participant_id": "participants",
    "deal_id": "deals",
}
# ``record_id`` takes the kind before it in the path, ``target_id`` the route's target kind.
RECORD_IN_PATH = {"items": "achievements"}  # /catalogues/{id}/items/{record_id}


def family_of(route: Route, param: str, target: str | None) -> str | None:
    if param == "target_id":
        return target
    if param == "record_id":
        before = route.path.split("/{record_id}")[0].rsplit("/", 1)[-1]
        return before if before in KINDS else RECORD_IN_PATH.get(before)
    return FAMILY_OF_PARAM.get(param)


def unknown_params(route: Route) -> list[str]:
    """Path parameters the matrix cannot fill: a new route needs a line in the mapping."""
    return [p for p in route.params
            if p != "target" and family_of(route, p, "achievements") is None]


def scopes(route: Route, fam: dict[str, dict[str, int]]) -> list[str]:
    """The cells of a route: own and other, for reads also the variants of its objects (drafts,
    hidden, confidential); "all" for a route without objects."""
    names: list[str] = []
    for param in route.params:
        target = _target(route)
        family = family_of(route, param, target)
        if family and family in fam:
            names.extend(v for v in fam[family] if v not in names
                         and (route.method == "GET" or ":" not in v))  # variants probe reads
    if not route.params and (_id_queries(route) or _body_scoped(route)):
        names.extend(["all", "own", "other"])
    if not route.params and "q" in route.query and _kind_of(route) in SEARCH_TERMS:
        names.extend(n for n in ("all", "search") if n not in names)
    return names or ["all"]


def _body_scoped(route: Route) -> bool:
    """Whether the route's body names objects (a create for an organisation, an interest)."""
    make = BODIES.get(getattr(route.body, "__name__", ""))
    used: list[str] = []
    if make is not None:
        make(lambda family: used.append(family) or 0)
    return bool(used)


def _target(route: Route) -> str | None:
    if "target" not in route.params:
        return None
    return DEFAULT_TARGET.get(_kind_of(route))


def _id_queries(route: Route) -> list[str]:
    return [q for q in route.query if q in ("organisation_id", "institution_id",
                                             "enterprise_id")]


@dataclass
class Cell:
    route: Route
    role: str
    scope: str
    url: str
    query: dict[str, Any]
    body: Any = None

    @property
    def label(self) -> str:
        return f"{self.route.method} {self.route.path} [{self.role}/{self.scope}]"


def build_cell(route: Route, role: str, scope: str, w: World,
               fam: dict[str, dict[str, int]]) -> Cell:
    base = "own" if scope in ("all", "search") else scope
    values: dict[str, Any] = {}
    target = _target(route)
    for param in route.params:
        if param == "target":
            values[param] = target
            continue
        family = family_of(route, param, target)
        values[param] = pick(fam[family], base)  # type: ignore[index]
    query: dict[str, Any] = {}
    for name in route.required_query:
        query[name] = REQUIRED_QUERY[name]
    query.update({k: v for k, v in PROBE_QUERY.items() if k in route.query})
    if scope in ("own", "other") and not route.params:
        for name in _id_queries(route):
            query[name] = pick(fam[FAMILY_OF_PARAM[name]], scope)
    if scope == "search":
        query["q"] = _search_term(route, w)
    body = make_body(route, base, fam, role) if route.body is not None else None
    return Cell(route, role, scope, route.path.format(**values), query, body)


REQUIRED_QUERY = {"q": "北京"}
PROBE_QUERY = {"mine": False}  # ask for more than one's own: the service must still narrow


# A word only found in the other side's confidential fields, per kind that has tiers.
SEARCH_TERMS = {"achievements": ("CANARYachbdescription", "achb.description"),
                "demands": ("CANARYdembconfdescription", "dembconf.description"),
                "experts": ("canaryexp_other", "exp_other.email")}


def _search_term(route: Route, w: World) -> str:
    return SEARCH_TERMS[_kind_of(route)][0]


def _kind_of(route: Route) -> str:
    return route.path.removeprefix(f"{API}/").split("/", 1)[0]


def search_oracle(w: World, role: str, cell: Cell, data: Any) -> list[str]:
    """Searching for a confidential word must find nothing for those who may not read it."""
    if cell.scope != "search" or not isinstance(data, dict):
        return []
    where = SEARCH_TERMS[_kind_of(cell.route)][1]
    if any(c.where == where and c.readable(role, cell.url) for c in w.canaries):
        return []
    return [f"search for {where} found {data.get('total')}"] if data.get("items") else []


# --- bodies -------------------------------------------------------------------------------

def _unique(prefix: str) -> str:
    return f"{prefix}-{next(_seq)}"


def make_body(route: Route, scope: str, fam: dict[str, dict[str, int]], role: str) -> Any:
    """A minimal, valid-looking body; ids inside it come from the same scope as the cell."""
    name = getattr(route.body, "__name__", "")
    if name in BODIES:
        return BODIES[name](lambda family: pick(fam[family], scope))
    if route.method == "PATCH" and "{record_id}" in route.path:
        kind = _kind_of(route)
        return PATCHES.get(kind, {"provenance": None})
    if route.body is not None and hasattr(route.body, "model_json_schema"):
        schema = route.body.model_json_schema()
        if any("contentMediaType" in p or p.get("format") == "binary"
               for p in schema.get("properties", {}).values()):
            return Upload()
        return from_schema(schema, fam, scope)
    return {}


BODIES: dict[str, Any] = {
    "LoginIn": lambda g: {"email": "nobody@example.cn", "password": "wrong password here"},
    "OrgIn": lambda g: {"name": _unique("authz-org"), "kind": "institution"},
    "UserIn": lambda g: {"email": f"{_unique('authz')}@example.cn", "role": "expert",
                         "password": PASSWORD},
    "TokenIn": lambda g: {"name": "matrix"},
    "ActiveIn": lambda g: {"active": True},
    "CatalogueIn": lambda g: {"name": _unique("矩阵清单"), "kind": "achievements"},
    "CataloguePatch": lambda g: {"description": "matrix"},
    "ItemsIn": lambda g: {"record_ids": [g("achievements")]},
    "OrderIn": lambda g: {"record_ids": [g("achievements")]},
    "ItemPatch": lambda g: {"note": "matrix"},
    "RejectIn": lambda g: {"note": "matrix"},
    "RunIn": lambda g: {"dry_run": True},
    "FeedbackIn": lambda g: {"feedback": "relevant"},
    "PreferencesIO": lambda g: {"personalised": True, "email": True},
    "SubscriptionIn": lambda g: {"keywords": ["机器人"]},
    "OptOutIn": lambda g: {"institution_id": g("institutions"), "reason": "matrix"},
    "ConflictIn": lambda g: {"institution_id": g("institutions"), "reason": "matrix"},
    "WebhookIn": lambda g: {"url": "https://hooks.matrix.example.cn/x"},
    "AllowPrivateIn": lambda g: {"allow": False},
    "AchievementIn": lambda g: {"title": "矩阵测试成果", "institution_id": g("institutions")},
    "DemandIn": lambda g: {"title": "矩阵测试需求", "enterprise_id": g("enterprises")},
    "EnterpriseIn": lambda g: {"name": _unique("矩阵企业")},
    "InstitutionIn": lambda g: {"name": _unique("矩阵大学")},
    "ExpertIn": lambda g: {"name": "矩阵专家"},
    # docking
    "OpenIn": lambda g: {"kind": "achievements", "record_id": g("achievements")},
    "TransitionIn": lambda g: {"action": "negotiate"},
    "ConsentIn": lambda g: {"name": "矩阵联系人", "email": "matrix@example.cn"},
    "NdaIn": lambda g: {},
    "BrokerIn": lambda g: {"user_id": g("brokers")},
    "NoteIn": lambda g: {"note": "matrix"},
    "CaseMessageIn": lambda g: {"body": "matrix"},
    "CaseMeetingIn": lambda g: {"starts_at": _future(4), "minutes": 60, "place": "会议室"},
    "CaseMeetingPatch": lambda g: {"agenda": "matrix"},
    "EventIn": lambda g: {"title": "矩阵对接会", "held_on": _future(9)[:10], "slots": ["09:00"]},
    "ParticipantIn": lambda g: {"organisation_id": g("organisations")},
    "RequestIn": lambda g: {"requester_participant_id": g("participants"),
                            "target_participant_id": g("peers")},
    "ResponseIn": lambda g: {"accept": True},
    "ScheduleIn": lambda g: {"time_limit": 1.0},
    # landing
    "DealInput": lambda g: {"category": "transfer", "title": "矩阵合同", "amount_wan": "10.00",
                            "signed_on": _future(-1)[:10], "landing_region_code": "110108",
                            "parties": [_PARTY | {"role": "seller"}, _PARTY | {"role": "buyer"}]},
    "DealUpdate": lambda g: {"note": "matrix"},
    "MilestoneInput": lambda g: {"kind": "pilot", "planned_on": _future(30)[:10]},
    "CancelIn": lambda g: {"reason": "matrix"},
}
_PARTY = {"name": "矩阵合同方", "region_code": "110108", "party_type": "enterprise"}


def _future(days: int) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).isoformat()


class Upload:
    """A multipart body: the route takes a file."""


PATCHES = {"achievements": {"summary": "矩阵测试更新"}, "demands": {"summary": "矩阵测试更新"},
           "enterprises": {"profile": "矩阵测试更新"}, "institutions": {"profile": "矩阵测试更新"},
           "experts": {"title": "教授"}}


def from_schema(schema: dict[str, Any], fam: dict[str, dict[str, int]], scope: str) -> Any:
    """Required fields of a JSON schema with plain values (ids from the scope when named)."""
    defs = schema.get("$defs", {})
    out = {}
    for prop in schema.get("required", []):
        spec = schema["properties"][prop]
        out[prop] = _value(prop, spec, defs, fam, scope)
    return out


def _value(name: str, spec: dict[str, Any], defs: dict[str, Any],
           fam: dict[str, dict[str, int]], scope: str) -> Any:
    if "$ref" in spec:
        return from_schema(defs[spec["$ref"].rsplit("/", 1)[-1]] | {"$defs": defs}, fam, scope)
    if "anyOf" in spec:
        return _value(name, next(s for s in spec["anyOf"] if s.get("type") != "null"), defs,
                      fam, scope)
    if "enum" in spec or "const" in spec:
        return spec.get("enum", [spec.get("const")])[0]
    family = FAMILY_OF_PARAM.get(name)
    kind = spec.get("type")
    if kind == "integer":
        return pick(fam[family], scope) if family in fam else max(1, spec.get("minimum", 1))
    if kind == "string" and spec.get("format") == "date-time":
        return (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    if kind == "string" and spec.get("format") == "date":
        return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=3)).isoformat()
    if kind == "string":
        return "矩阵测试" * max(1, spec.get("minLength", 1) // 4 + 1)
    return {"boolean": False, "number": 1.0, "array": [], "object": {}}.get(kind)  # type: ignore[arg-type]


# --- checking a response ------------------------------------------------------------------

@dataclass
class Tally:
    cells: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    seconds: Counter[str] = field(default_factory=Counter)


def parse(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _objects(data: Any) -> typing.Iterator[dict[str, Any]]:
    if isinstance(data, dict):
        yield data
        for value in data.values():
            yield from _objects(value)
    elif isinstance(data, list):
        for value in data:
            yield from _objects(value)


def leaks(w: World, role: str, data: Any, path: str) -> list[str]:
    """The canaries in ``data`` that ``role`` may not read in a response to ``path``."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    found = []
    for canary in w.canaries:
        if canary.readable(role, path):
            continue
        if canary.scope is None:
            if canary.text in text:
                found.append(canary.where)
        elif any(canary.text in _own_text(obj) for obj in _describing(data, *canary.scope)):
            found.append(canary.where)
    return found


def _describing(data: Any, kind: str, record_id: int) -> typing.Iterator[dict[str, Any]]:
    """JSON objects about one record: itself (id) or a case of it (record_id), of its kind."""
    for obj in _objects(data):
        if obj.get("kind", kind) == kind and record_id in (obj.get("id"), obj.get("record_id")):
            yield obj


def _own_text(obj: dict[str, Any]) -> str:
    """An object's text without the lists it holds (those are other objects: a list's items)."""
    return json.dumps({k: v for k, v in obj.items() if not isinstance(v, list)},
                      ensure_ascii=False)


def link_oracle(w: World, role: str, cell: Cell, data: Any) -> list[str]:
    """A confidential demand must not be found by filtering on its enterprise."""
    ent = cell.query.get("enterprise_id")
    if ent is None or role in STAFF:
        return []
    side = "a" if ent == w.ids["ent_a"] else "b"
    if side == "a" and role == "enterprise_member":
        return []
    conf = w.ids[f"dem_{side}_conf"]
    hit = any(o.get("id") == conf and o.get("kind") == "demands" for o in _objects(data))
    return [f"dem{side}conf found by enterprise_id={ent}"] if hit else []


# Secrets by their shape, and the one response each may appear in (shown once).
SECRETS = {
    "webhook secret": (re.compile(r"whsec_[A-Za-z0-9+/=]{8,}"),
                       ("POST", f"{API}/organisations/{{organisation_id}}/webhooks")),
    "API token": (re.compile(r"luodi_[A-Za-z0-9_-]{30,}"), ("POST", f"{API}/tokens")),
}


def secrets_in(route: Route, data: Any) -> list[str]:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return [name for name, (pattern, home) in SECRETS.items()
            if route.key != home and pattern.search(text)]


def judge(w: World, cell: Cell, status: int, data: Any) -> list[tuple[str, str]]:
    """Everything wrong with one response, as (check, message)."""
    route, role = cell.route, cell.role
    problems = []
    if status >= 500:
        problems.append(("5xx", f"server error {status}"))
    if role == "anonymous" and route.key not in PUBLIC and status != 401:
        problems.append(("anon", f"anonymous got {status}, not 401"))
    for where in (leaks(w, role, data, cell.url) + link_oracle(w, role, cell, data)
                  + search_oracle(w, role, cell, data) + secrets_in(route, data)):
        problems.append(("leak", f"leak: {where}"))
    other = cell.scope.startswith("other")
    if (route.method in UNSAFE and other and role not in STAFF and status not in REFUSED
            and route.key not in LEGIT_OTHER_WRITES):
        problems.append(("write", f"write on the other side's object answered {status}"))
    return problems


# --- running a role -----------------------------------------------------------------------

def call(client: Any, w: World, cell: Cell) -> Any:
    kwargs: dict[str, Any] = {"headers": w.headers(cell.role), "params": cell.query}
    if isinstance(cell.body, Upload):
        kwargs["files"] = {"file": ("matrix.txt", b"matrix upload", "text/plain")}
    elif cell.body is not None:
        kwargs["json"] = cell.body
    return client.request(cell.route.method, cell.url, **kwargs)


def _distinct(cells: typing.Iterable[Cell]) -> list[Cell]:
    """One call per distinct request; where own and other coincide, judge it as other."""
    out: dict[str, Cell] = {}
    for cell in cells:
        key = json.dumps([cell.url, cell.query, repr(cell.body)], sort_keys=True, default=str)
        if key not in out or cell.scope.startswith("other"):
            out[key] = cell
    return list(out.values())


def order(route: Route) -> int:
    return {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}.get(route.method, 1)


def run_cells(client: Any, w: World, role: str, routes: list[Route], tally: Tally) -> None:
    fam = families(w, role)
    for route in sorted(routes, key=order):
        for cell in _distinct(build_cell(route, role, scope, w, fam)
                              for scope in scopes(route, fam)):
            scope = cell.scope
            started = time.perf_counter()
            response = call(client, w, cell)
            tally.seconds[f"{route.method} {route.path}"] += time.perf_counter() - started
            tally.cells[scope.split(":")[0]] += 1
            tally.statuses[response.status_code] += 1
            for _check, problem in judge(w, cell, response.status_code, parse(response)):
                line = f"{cell.label} {cell.url} {cell.query or ''} → {problem}"
                tally.failures.append(line)


# --- (e) fields a role may not set --------------------------------------------------------

# Roles that may update some record of their own (the others are refused any record write).
EDITORS = frozenset({"admin", "operator", "institution_member", "enterprise_member", "expert"})
FORBIDDEN_ALWAYS = ({"id": 999999}, {"illustrative": True}, {"created_by_id": 1})
STAFF_ONLY = ({"source": "authz"}, {"external_id": "authz-x"}, {"provenance": "authz"})


def forbidden_patches(kind: str, w: World, role: str) -> list[dict[str, Any]]:
    i, patches = w.ids, list(FORBIDDEN_ALWAYS)
    if role not in STAFF:
        patches += STAFF_ONLY
    if kind == "achievements":
        patches += [{"status": "transferred"}, {"status": "in_docking"}]
        patches += [] if role in STAFF else [{"institution_id": i["inst_b"]}]
    if kind == "demands":
        patches += [{"status": "in_docking"}, {"status": "expired"}]
        patches += [] if role in STAFF else [{"enterprise_id": i["ent_b"]}]
    if kind in ("enterprises", "institutions") and role not in STAFF:
        patches += [{"organisation_id": w.orgs["ent_b"]}]
    if kind == "enterprises" and role not in STAFF:
        patches += [{"credit_code": "91110108MA01ABCD1X"}]
    if kind == "experts":
        patches += [{"user_id": w.user_id("enterprise_member_b")}]
    return patches


def check_forbidden_fields(client: Any, session: Any, w: World, role: str,
                           routes: list[Route], tally: Tally) -> None:
    fam = families(w, role)
    for route in routes:
        kind = _kind_of(route)
        if route.method not in ("PATCH", "PUT") or route.path != f"{API}/{kind}/{{record_id}}":
            continue
        model = KINDS[kind].model
        for scope in ("own",):  # the other side's records refuse any write: check (d)
            record_id = pick(fam[kind], scope)
            for patch in forbidden_patches(kind, w, role):
                response = client.request(route.method, f"{API}/{kind}/{record_id}",
                                          headers=w.headers(role), json=patch)
                tally.cells["fields"] += 1
                tally.statuses[response.status_code] += 1
                tally.failures += [f"PATCH {kind}/{record_id} [{role}/{scope}] → leak: {where}"
                                   for where in leaks(w, role, parse(response), route.path)]
                if 400 <= response.status_code < 500:
                    continue
                session.expire_all()
                obj = session.get(model, record_id)
                (name, value), = patch.items()
                stored = getattr(obj, name, None) if obj is not None else None
                if response.status_code >= 500 or stored == value or (name == "id" and obj is None):
                    tally.failures.append(f"PATCH {kind}/{record_id} [{role}/{scope}] {patch} "
                                          f"→ {response.status_code}, stored {stored!r}")


# --- the tests ----------------------------------------------------------------------------

TOTALS: dict[str, Any] = {"routes": 0, "cells": 0, "roles": 0, "failures": 0,
                          "scopes": Counter()}


def test_every_route_parameter_is_known(app) -> None:  # type: ignore[no-untyped-def]
    """A new route with a parameter the matrix cannot fill must be added to the mapping."""
    routes = api_routes(app)
    assert routes, "no /api/v1 routes found: has the router moved?"
    unknown = {f"{r.method} {r.path}: {p}" for r in routes for p in unknown_params(r)}
    unknown |= {f"{r.method} {r.path}: ?{q}" for r in routes for q in r.required_query
                if q not in REQUIRED_QUERY}
    assert not unknown, "add these to FAMILY_OF_PARAM / REQUIRED_QUERY:\n" + "\n".join(
        sorted(unknown))


@pytest.fixture
def world(session, settings, monkeypatch) -> World:  # type: ignore[no-untyped-def]
    offline_dns(monkeypatch)
    return worlds.build(session, settings)


@pytest.mark.parametrize("role", ROLES)
def test_matrix(role: str, app, client, session, world: World) -> None:  # type: ignore[no-untyped-def]
    routes = api_routes(app)
    assert not [p for r in routes for p in unknown_params(r)]
    tally = Tally()
    run_cells(client, world, role, [r for r in routes if r.method != "DELETE"], tally)
    if role in EDITORS:
        check_forbidden_fields(client, session, world, role, routes, tally)
    run_cells(client, world, role, [r for r in routes if r.method == "DELETE"], tally)
    cells = sum(tally.cells.values())
    TOTALS["routes"] = len(routes)
    TOTALS["roles"] += 1
    TOTALS["cells"] += cells
    TOTALS["failures"] += len(tally.failures)
    TOTALS["scopes"].update(tally.cells)
    print(f"\nauthz matrix [{role}]: {len(routes)} routes, {cells} cells "
          f"({dict(tally.cells)}), statuses {dict(sorted(tally.statuses.items()))}, "
          f"{len(tally.failures)} failures; slowest "
          f"{[(k, round(v, 2)) for k, v in tally.seconds.most_common(3)]}")
    assert not tally.failures, f"{len(tally.failures)} problems for {role}:\n" + "\n".join(
        tally.failures)


def test_cookie_writes_need_the_csrf_header(app, client, session) -> None:  # type: ignore[no-untyped-def]
    """Every unsafe API route refuses a cookie-authenticated call without X-CSRF-Token."""
    operator = make_user(session, "operator")
    csrf = login(client, operator.email)
    unsafe = [r for r in api_routes(app) if r.method in UNSAFE]
    wrong = []
    for route in unsafe:
        url = route.path.format(**{p: 1 for p in route.params if p != "target"},
                                **({"target": "achievements"} if "target" in route.params else {}))
        response = client.request(route.method, url, json={})
        if response.status_code != 403 or response.json().get("code") != "csrf_failed":
            wrong.append(f"{route.method} {route.path} → {response.status_code}")
    assert not wrong, "cookie writes without the CSRF header:\n" + "\n".join(wrong)
    assert client.put(f"{API}/push/preferences", headers={"x-csrf-token": csrf},
                      json={"personalised": True, "email": False}).status_code == 200
    print(f"\nauthz csrf: {len(unsafe)} unsafe routes refuse cookie writes without the header")


# --- findings of this matrix, fixed: each test pins its fix ------------------------------

def test_known_confidential_demand_hidden_from_enterprise_filter(client, world: World) -> None:  # type: ignore[no-untyped-def]
    for role in ("anonymous", "institution_member", "enterprise_member"):
        items = client.get(f"{API}/demands", headers=world.headers(role),
                           params={"enterprise_id": world.ids["ent_b"]}).json()["items"]
        assert world.ids["dem_b_conf"] not in [i["id"] for i in items], role


@pytest.fixture
def referenced(session, settings) -> tuple[str, dict[str, int]]:  # type: ignore[no-untyped-def]
    """An admin's token and records others point at: an institution with an achievement, an
    enterprise with a demand, and a docking case on each record."""
    from luodi.docking import cases
    from tests.push import ledger_factories as ledger

    tto, firm = (ledger.institution_party(session, settings),
                 ledger.enterprise_party(session, settings))
    ach = ledger.achievement(session, settings, tto.record)
    dem = inv.demand(session, settings, firm.record)
    cases.open_case(session, actor_for(firm.user), kind="achievements", record_id=ach.id)
    cases.open_case(session, actor_for(tto.user), kind="demands", record_id=dem.id)
    raw, _ = tokens.create_token(session, actor_for(make_user(session, "admin")), name="t")
    return raw, {"institutions": tto.record.id, "enterprises": firm.record.id,
                 "achievements": ach.id, "demands": dem.id}


@pytest.mark.parametrize("kind", ["institutions", "enterprises", "achievements", "demands"])
def test_known_deleting_a_referenced_record_is_a_conflict(kind: str, client,  # type: ignore[no-untyped-def]
                                                          referenced) -> None:
    raw, ids = referenced
    response = client.delete(f"{API}/{kind}/{ids[kind]}",
                             headers={"authorization": f"Bearer {raw}"})
    assert response.status_code == 409, response.text


def test_known_anonymous_gets_401_on_private_reads(client, world: World) -> None:  # type: ignore[no-untyped-def]
    i = world.ids
    paths = [f"/experts/{i['exp_other']}", f"/enterprises/{i['ent_a']}",
             f"/enterprises/{i['ent_a']}/matches", f"/experts/{i['exp_other']}/matches",
             f"/achievements/{i['ach_a_draft']}/matches", "/pushes/99999",
             "/meetings/99999.ics", "/institutions/99999/push-reach",
             "/enterprises/99999/push-blocks", f"/events/{i['events']}/agenda/99999"]
    assert {p: client.get(API + p).status_code for p in paths} == dict.fromkeys(paths, 401)


@pytest.mark.parametrize("kind, body", [("achievements", {"title": "空白邮箱", "contact_email": ""}),
                                        ("demands", {"title": "空白电话", "contact_phone": " "}),
                                        ("experts", {"name": "空白邮箱", "email": None})])
def test_known_blank_contact_is_not_a_server_error(kind: str, body: dict[str, Any], client,  # type: ignore[no-untyped-def]
                                                   session) -> None:
    raw, _ = tokens.create_token(session, actor_for(make_user(session, "operator")), name="t")
    response = client.post(f"{API}/{kind}", json=body, headers={"authorization": f"Bearer {raw}"})
    assert response.status_code < 500, response.status_code


@pytest.mark.parametrize("path", ["/achievements/{n}", "/catalogues/{n}", "/users/{n}",
                                  "/cases/{n}/messages"])
def test_known_integer_ids_beyond_64_bits_are_not_found(path: str, client, session) -> None:  # type: ignore[no-untyped-def]
    raw, _ = tokens.create_token(session, actor_for(make_user(session, "operator")), name="t")
    response = client.get(API + path.format(n=2**64), headers={"authorization": f"Bearer {raw}"})
    assert response.status_code in (404, 422), response.status_code


def test_summary() -> None:
    """The closing line: routes × roles × scopes and the result (runs after the matrix)."""
    scopes = ", ".join(f"{k} {v}" for k, v in TOTALS["scopes"].most_common())
    print(f"\nAUTHZ MATRIX: {TOTALS['routes']} routes × {TOTALS['roles']} roles × (own, other "
          f"and their variants) = {TOTALS['cells']} cells ({scopes}); {TOTALS['failures']} "
          f"failures")
