"""Organisations and users through the API, with the policy deciding who may do what."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, login, make_org, make_user


def _headers(client, user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"x-csrf-token": login(client, user.email)}


def test_operator_creates_enterprise_user(client, session) -> None:
    operator = make_user(session, "operator")
    org = make_org(session, "enterprise", "北京某科技有限公司")
    headers = _headers(client, operator)
    response = client.post("/api/v1/users", headers=headers, json={
        "email": "zhang@example.cn", "display_name": "张三", "role": "enterprise_member",
        "password": PASSWORD, "organisation_id": org.id})
    assert response.status_code == 201, response.text
    assert response.json()["organisation_id"] == org.id


@pytest.mark.parametrize("role", ["admin", "operator"])
def test_operator_cannot_create_staff(client, session, role: str) -> None:
    operator = make_user(session, "operator")
    headers = _headers(client, operator)
    body = {"email": f"new-{role}@example.cn", "role": role, "password": PASSWORD,
            "organisation_id": operator.organisation_id}
    assert client.post("/api/v1/users", headers=headers, json=body).status_code == 403


def test_role_must_fit_organisation_kind(client, session) -> None:
    admin = make_user(session, "admin")
    uni = make_org(session, "institution")
    response = client.post("/api/v1/users", headers=_headers(client, admin), json={
        "email": "x@example.cn", "role": "enterprise_member", "password": PASSWORD,
        "organisation_id": uni.id})
    assert response.status_code == 422


def test_short_password_refused_long_passphrase_accepted(client, session) -> None:
    admin = make_user(session, "admin")
    headers = _headers(client, admin)
    short = client.post("/api/v1/users", headers=headers,
                        json={"email": "s@example.cn", "role": "expert", "password": "short1!"})
    assert short.status_code == 422
    plain = client.post("/api/v1/users", headers=headers, json={
        "email": "p@example.cn", "role": "expert", "password": "all lowercase words here"})
    assert plain.status_code == 201  # no composition rules


@pytest.mark.parametrize("role", ["institution_member", "enterprise_member", "broker", "viewer",
                                  "expert"])
def test_non_staff_cannot_list_users_or_read_audit(client, session, role: str) -> None:
    user = make_user(session, role)
    login(client, user.email)
    assert client.get("/api/v1/users").status_code == 403
    assert client.get("/api/v1/audit").status_code == 403
    assert client.get(f"/api/v1/users/{user.id}").status_code == 200  # oneself


def test_user_cannot_read_another_user(client, session) -> None:
    a = make_user(session, "enterprise_member")
    b = make_user(session, "enterprise_member")
    login(client, a.email)
    assert client.get(f"/api/v1/users/{b.id}").status_code == 403


def test_operator_reads_audit_log(client, session) -> None:
    operator = make_user(session, "operator")
    login(client, operator.email)
    events = client.get("/api/v1/audit", params={"action": "login"}).json()
    assert events and events[0]["action"] == "login" and events[0]["outcome"] == "success"


def test_deactivate_user(client, session) -> None:
    admin = make_user(session, "admin")
    victim = make_user(session, "viewer")
    response = client.post(f"/api/v1/users/{victim.id}/active", json={"active": False},
                           headers=_headers(client, admin))
    assert response.status_code == 200 and response.json()["is_active"] is False
    client.cookies.clear()
    assert client.post("/api/v1/auth/login",
                       json={"email": victim.email, "password": PASSWORD}).status_code == 401
