"""Login, sessions (idle and absolute timeouts), lockout, rate limiting, TOTP, API tokens, CSRF."""

from __future__ import annotations

import datetime as dt

import pyotp
from sqlalchemy import select

from luodi.audit import AuditEvent
from luodi.auth.models import LoginSession, User
from luodi.db import utcnow
from tests.factories import PASSWORD, login, make_user


def _login(client, email: str, password: str = PASSWORD, **extra):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/login", json={"email": email, "password": password, **extra})


def test_login_me_logout(client, session) -> None:
    user = make_user(session, "institution_member")
    csrf = login(client, user.email.upper())  # e-mail is case-insensitive
    me = client.get("/api/v1/me").json()
    assert me["user"]["email"] == user.email
    assert me["organisation"]["kind"] == "institution"
    assert "password_hash" not in me["user"]
    assert client.post("/api/v1/auth/logout", headers={"x-csrf-token": csrf}).status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_session_cookie_flags(client, session) -> None:
    user = make_user(session, "viewer")
    response = _login(client, user.email)
    cookie = response.headers["set-cookie"]
    assert "luodi_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()


def test_logout_revokes_server_side(client, session) -> None:
    user = make_user(session, "viewer")
    csrf = login(client, user.email)
    stolen = client.cookies.get("luodi_session")
    client.post("/api/v1/auth/logout", headers={"x-csrf-token": csrf})
    client.cookies.set("luodi_session", stolen)
    assert client.get("/api/v1/me").status_code == 401


def test_wrong_password_and_unknown_user_look_alike(client, session) -> None:
    user = make_user(session, "viewer")
    a = _login(client, user.email, "wrong password here")
    b = _login(client, "nobody@example.org", "wrong password here")
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


def test_lockout_after_repeated_failures(client, session, settings) -> None:
    user = make_user(session, "viewer")
    for _ in range(settings.login_max_failures):
        assert _login(client, user.email, "not the password!").status_code == 401
    locked = _login(client, user.email)  # even the right password is refused now
    assert locked.status_code == 423 and locked.json()["code"] == "account_locked"
    session.expire_all()
    assert session.get(User, user.id).locked_until is not None


def test_unlock_by_operator(client, session, settings) -> None:
    user = make_user(session, "viewer")
    operator = make_user(session, "operator")
    for _ in range(settings.login_max_failures):
        _login(client, user.email, "not the password!")
    csrf = login(client, operator.email)
    assert client.post(f"/api/v1/users/{user.id}/unlock",
                       headers={"x-csrf-token": csrf}).status_code == 200
    client.cookies.clear()
    assert _login(client, user.email).status_code == 200


def test_rate_limit_per_client_address(client, session, settings) -> None:
    for i in range(settings.login_rate_per_ip):
        _login(client, f"ghost{i}@example.org", "whatever password")
    response = _login(client, "ghost-last@example.org", "whatever password")
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"
    denied = session.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied")).all()
    assert denied and denied[-1].client_addr == "testclient"


def test_idle_timeout(client, session, settings) -> None:
    user = make_user(session, "viewer")
    login(client, user.email)
    record = session.scalars(select(LoginSession)).one()
    record.last_seen_at = utcnow() - dt.timedelta(minutes=settings.session_idle_minutes + 1)
    session.commit()
    assert client.get("/api/v1/me").status_code == 401


def test_absolute_timeout(client, session, settings) -> None:
    user = make_user(session, "viewer")
    login(client, user.email)
    record = session.scalars(select(LoginSession)).one()
    record.created_at = utcnow() - dt.timedelta(hours=settings.session_absolute_hours, minutes=1)
    record.last_seen_at = utcnow()
    session.commit()
    assert client.get("/api/v1/me").status_code == 401


def test_deactivated_user_loses_session(client, session) -> None:
    user = make_user(session, "viewer")
    login(client, user.email)
    session.get(User, user.id).is_active = False
    session.commit()
    assert client.get("/api/v1/me").status_code == 401


def test_totp_flow_and_replay(client, session) -> None:
    user = make_user(session, "enterprise_member")
    secret = pyotp.random_base32()
    row = session.get(User, user.id)
    row.totp_secret, row.totp_enabled = secret, True
    session.commit()
    required = _login(client, user.email)
    assert required.status_code == 401 and required.json()["code"] == "totp_required"
    code = pyotp.TOTP(secret).now()
    assert _login(client, user.email, totp_code=code).status_code == 200
    client.cookies.clear()
    replay = _login(client, user.email, totp_code=code)
    assert replay.status_code == 401 and replay.json()["code"] == "bad_totp"


def test_cookie_api_write_needs_csrf_header(client, session) -> None:
    user = make_user(session, "admin")
    csrf = login(client, user.email)
    body = {"name": "某研究院", "kind": "institution"}
    refused = client.post("/api/v1/organisations", json=body)
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    assert client.post("/api/v1/organisations", json=body,
                       headers={"x-csrf-token": csrf}).status_code == 201


def test_api_token_lifecycle(client, session) -> None:
    user = make_user(session, "institution_member")
    csrf = login(client, user.email)
    created = client.post("/api/v1/tokens", json={"name": "script", "days": 30},
                          headers={"x-csrf-token": csrf})
    assert created.status_code == 201
    raw, token_id = created.json()["token"], created.json()["id"]
    assert raw.startswith("luodi_")
    listed = client.get("/api/v1/tokens").json()
    assert "token" not in listed[0] and listed[0]["prefix"] == raw[:12]
    client.cookies.clear()
    bearer = {"authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/me", headers=bearer).json()["user"]["id"] == user.id
    # a bearer token needs no CSRF header: there is no ambient credential to abuse
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=bearer).status_code == 204
    assert client.get("/api/v1/me", headers=bearer).status_code == 401


def test_expired_token_refused(client, session) -> None:
    from luodi.auth import tokens
    from luodi.auth.service import actor_for

    user = make_user(session, "viewer")
    raw, token = tokens.create_token(session, actor_for(user), name="old", days=1)
    token.expires_at = utcnow() - dt.timedelta(seconds=1)
    session.commit()
    assert client.get("/api/v1/me", headers={"authorization": f"Bearer {raw}"}).status_code == 401


def test_password_stored_as_argon2(session) -> None:
    user = make_user(session, "viewer")
    assert session.get(User, user.id).password_hash.startswith("$argon2id$")


def test_logins_and_denials_are_audited(client, session) -> None:
    user = make_user(session, "enterprise_member")
    _login(client, user.email, "definitely wrong")
    login(client, user.email)
    client.get("/api/v1/users")  # denied
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    triples = [(e.action, e.outcome) for e in events]
    assert ("login", "failure") in triples
    assert ("login", "success") in triples
    assert ("user.list", "denied") in triples
    denial = next(e for e in events if e.action == "user.list")
    assert denial.actor_id == user.id and denial.client_addr == "testclient" and denial.at
