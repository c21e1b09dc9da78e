"""API: deals through HTTP — the happy path, refusals with the one error shape, derived fields
that no body may set, who may read, and CSRF."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from luodi.audit import AuditEvent
from luodi.docking.models import Case
from luodi.landing.models import Deal, Milestone
from tests.docking import factories as df
from tests.factories import login
from tests.landing import factories as lf


@pytest.fixture
def agreed(session, world):  # type: ignore[no-untyped-def]
    return df.open_and_advance(session, world, "agreed", broker=True)


def _as(client, who) -> dict[str, str]:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    return {"x-csrf-token": login(client, getattr(who, "user", who).email)}


def _count(session, model) -> int:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def _state(session, case_id: int) -> str:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(Case.state).where(Case.id == case_id))  # type: ignore[return-value]


def _error(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False and body["code"] == code and body["status"] == status
    return body


def test_happy_path_through_the_api(client, session, world, agreed) -> None:  # type: ignore[no-untyped-def]
    headers = _as(client, world.buyer)
    created = client.post(f"/api/v1/cases/{agreed.id}/deal", json=lf.deal_data(world),
                          headers=headers)
    assert created.status_code == 201, created.text
    deal = created.json()
    assert (deal["case_id"], deal["status"], deal["amount_wan"]) == (agreed.id, "signed", 120.5)
    assert (deal["broker_id"], deal["institution_id"], deal["enterprise_id"]) == (
        world.broker.id, world.tto.record.id, world.buyer.record.id)
    assert (deal["url"], deal["case_url"]) == (f"/deals/{deal['id']}", f"/cases/{agreed.id}")
    assert [p["role"] for p in deal["parties"]] == ["seller", "buyer"]
    assert client.get(f"/api/v1/cases/{agreed.id}").json()["state"] == "landed"
    url = f"/api/v1/deals/{deal['id']}"
    assert client.get(url).json() == deal
    listed = client.get("/api/v1/deals").json()
    assert (listed["total"], [d["id"] for d in listed["items"]]) == (1, [deal["id"]])

    owner = _as(client, world.tto)
    number = lf.registration_no()
    patched = client.patch(url, json={"registration_no": number}, headers=owner)
    assert patched.status_code == 200 and patched.json()["registration_no"] == number
    added = client.post(f"{url}/milestones", json={"kind": "revenue", "achieved_on":
                                                   "2026-04-01", "amount_wan": 12},
                        headers=owner)
    assert added.status_code == 201
    assert [m["kind"] for m in added.json()["milestones"]] == ["pilot", "revenue"]
    cancelled = client.post(f"{url}/cancel", json={"reason": "合同解除"}, headers=owner)
    assert cancelled.json()["status"] == "cancelled"
    assert client.get("/api/v1/deals?status=signed").json()["total"] == 0


def test_refusals_use_the_error_shape_and_write_nothing(client, session, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "negotiating")
    headers = _as(client, world.buyer)
    body = _error(client.post(f"/api/v1/cases/{case.id}/deal", json=lf.deal_data(world),
                              headers=headers), 409, "illegal_transition")
    assert "negotiating" in body["error"]
    assert _count(session, Deal) == 0 and _state(session, case.id) == "negotiating"
    client.post(f"/api/v1/cases/{case.id}/transitions", json={"action": "agree"},
                headers=headers)
    bad = lf.deal_data(world, registration_no="202611010800001")
    body = _error(client.post(f"/api/v1/cases/{case.id}/deal", json=bad, headers=headers),
                  422, "invalid_request")
    assert "16" in body["error"]
    assert _count(session, Deal) == 0 and _state(session, case.id) == "agreed"


DERIVED = {"broker_id": 1, "field_code": "ai", "institution_id": 1, "enterprise_id": 1,
           "achievement_id": 1, "demand_id": 1, "seller_region_code": "110108",
           "status": "signed", "case_id": 1, "created_by_id": 1, "id": 99}


@pytest.mark.parametrize("name", sorted(DERIVED))
def test_no_body_sets_a_derived_field(client, session, world, agreed, name) -> None:  # type: ignore[no-untyped-def]
    headers = _as(client, world.operator)
    audits = _count(session, AuditEvent)
    response = client.post(f"/api/v1/cases/{agreed.id}/deal",
                           json=lf.deal_data(world, **{name: DERIVED[name]}), headers=headers)
    assert _error(response, 422, "invalid_request")["error"].startswith(name)
    assert (_count(session, Deal), _state(session, agreed.id)) == (0, "agreed")
    assert _count(session, AuditEvent) == audits


def test_no_update_sets_a_derived_or_signed_field(client, session, world, agreed) -> None:  # type: ignore[no-untyped-def]
    deal = lf.record(session, world, agreed)
    headers = _as(client, world.operator)
    for name, value in (*DERIVED.items(), ("amount_wan", 1), ("category", "license"),
                        ("signed_on", "2026-01-01"), ("landing_region_code", "110108")):
        response = client.patch(f"/api/v1/deals/{deal.id}", json={name: value},
                                headers=headers)
        _error(response, 422, "invalid_request")
    response = client.post(f"/api/v1/deals/{deal.id}/milestones", headers=headers, json={
        "kind": "pilot", "planned_on": "2026-05-01", "recorded_by_id": 1})
    _error(response, 422, "invalid_request")
    session.expire_all()
    assert session.get(Deal, deal.id).broker_id == world.broker.id
    assert _count(session, Milestone) == 1  # the one recorded with the deal


def test_who_may_read_and_write(client, session, settings, world, agreed) -> None:  # type: ignore[no-untyped-def]
    outsiders = (df.enterprise_party(session, settings), df.broker_user(session),
                 df.viewer_user(session))
    for who in outsiders:
        headers = _as(client, who)
        _error(client.post(f"/api/v1/cases/{agreed.id}/deal", json=lf.deal_data(world),
                           headers=headers), 404, "not_found")
    deal = lf.record(session, world, agreed)
    for who in outsiders:
        headers = _as(client, who)
        _error(client.get(f"/api/v1/deals/{deal.id}"), 404, "not_found")
        _error(client.patch(f"/api/v1/deals/{deal.id}", json={"note": "x"}, headers=headers),
               404, "not_found")
        _error(client.post(f"/api/v1/deals/{deal.id}/cancel", json={"reason": "x"},
                           headers=headers), 404, "not_found")
        assert client.get("/api/v1/deals").json()["total"] == 0
    client.cookies.clear()
    _error(client.get(f"/api/v1/deals/{deal.id}"), 401, "not_authenticated")
    _error(client.get("/api/v1/deals"), 401, "not_authenticated")
    _error(client.post(f"/api/v1/cases/{agreed.id}/deal", json=lf.deal_data(world)), 401,
           "not_authenticated")
    _as(client, world.broker)
    assert client.get(f"/api/v1/deals/{deal.id}").status_code == 200


def test_conflicts_and_csrf(client, session, settings, world, agreed) -> None:  # type: ignore[no-untyped-def]
    first = lf.record(session, world, agreed)
    headers = _as(client, world.buyer)
    _error(client.post(f"/api/v1/cases/{agreed.id}/deal", json=lf.deal_data(world),
                       headers=headers), 409, "deal_exists")
    other = df.docking_world(session, settings)
    case = df.open_and_advance(session, other, "agreed")
    headers = _as(client, other.buyer)
    data = lf.deal_data(other, registration_no=first.registration_no)
    _error(client.post(f"/api/v1/cases/{case.id}/deal", json=data, headers=headers), 409,
           "duplicate_registration_no")
    _error(client.post(f"/api/v1/cases/{case.id}/deal", json=lf.deal_data(other)), 403,
           "csrf_failed")
    assert (_count(session, Deal), _state(session, case.id)) == (1, "agreed")
    _error(client.get("/api/v1/deals?date_from=2026-03-01&date_to=2026-02-01"), 422,
           "validation_failed")
