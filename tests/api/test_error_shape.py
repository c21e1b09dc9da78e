"""Pins the one JSON error shape: {"ok": false, "code", "error", "status"} — and nothing else."""

from __future__ import annotations

import pytest

from tests.factories import login, make_user

SHAPE = {"ok", "code", "error", "status"}


def _assert_shape(response, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == SHAPE
    assert body["ok"] is False
    assert body["status"] == status
    assert body["code"] == code
    assert isinstance(body["error"], str) and body["error"]


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_api_path(client, method: str) -> None:
    _assert_shape(getattr(client, method)("/api/v1/no/such/thing"), 404, "not_found")


def test_not_authenticated(client) -> None:
    response = client.get("/api/v1/me")
    _assert_shape(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"


def test_validation_error(client, session) -> None:
    user = make_user(session, "admin")
    csrf = login(client, user.email)
    response = client.post("/api/v1/organisations", json={"kind": "institution"},
                           headers={"x-csrf-token": csrf})
    _assert_shape(response, 422, "invalid_request")
    assert "name" in response.json()["error"]


def test_permission_denied(client, session) -> None:
    user = make_user(session, "enterprise_member")
    login(client, user.email)
    _assert_shape(client.get("/api/v1/users"), 403, "permission_denied")


def test_conflict_and_domain_validation(client, session) -> None:
    user = make_user(session, "admin")
    csrf = login(client, user.email)
    headers = {"x-csrf-token": csrf}
    assert client.post("/api/v1/organisations", json={"name": "清华大学", "kind": "institution"},
                       headers=headers).status_code == 201
    _assert_shape(client.post("/api/v1/organisations",
                              json={"name": "清华大学", "kind": "institution"}, headers=headers),
                  409, "conflict")
    _assert_shape(client.post("/api/v1/organisations", json={"name": "X", "kind": "martian"},
                              headers=headers), 422, "validation_failed")


def test_bad_token(client) -> None:
    response = client.get("/api/v1/me", headers={"authorization": "Bearer luodi_nonsense"})
    _assert_shape(response, 401, "bad_token")


def test_pages_get_an_error_page(client) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert 'data-testid="error-page"' in response.text
