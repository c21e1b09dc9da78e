"""Plain factory functions that create records through the services (as the system actor)."""

from __future__ import annotations

import itertools

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from luodi.auth import service
from luodi.auth.actor import system_actor
from luodi.auth.models import Organisation, User

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)

ORG_KIND_FOR_ROLE = {
    "operator": "operator", "institution_member": "institution",
    "enterprise_member": "enterprise", "broker": "broker_agency", "viewer": "government",
}


def make_org(session: Session, kind: str = "institution", name: str | None = None) -> Organisation:
    return service.create_organisation(session, system_actor(),
                                       name=name or f"{kind}-{next(_seq)}", kind=kind)


def make_user(
    session: Session, role: str = "operator", *, org: Organisation | None = None,
    email: str | None = None, password: str = PASSWORD,
) -> User:
    if org is None and role in ORG_KIND_FOR_ROLE:
        org = make_org(session, ORG_KIND_FOR_ROLE[role])
    return service.create_user(session, system_actor(), service.NewUser(
        email=email or f"{role}-{next(_seq)}@example.org", display_name=f"{role} user",
        role=role, password=password, organisation_id=org.id if org else None,
    ), min_password=12)


def login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Log in through the API; returns the CSRF token for cookie-authenticated writes."""
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]
