"""The docking demo: a broker account and five cases at different states, walked through the
services by the demo users, visible to each of them on /cases."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from luodi.auth.models import User
from luodi.docking.demo import BROKER_EMAIL, BROKER_ORG
from luodi.docking.models import Case, Meeting
from luodi.inventory import demo
from tests.factories import login
from tests.inventory.test_demo import _small_sample

STATES = {"interested", "accepted", "meeting", "negotiating", "closed"}


def _cases_seen(client, email: str) -> set[int]:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    login(client, email, demo.DEMO_PASSWORD)
    listing = client.get("/cases")
    assert listing.status_code == 200
    return {int(i) for i in re.findall(r'data-case="(\d+)"', listing.text)}


def test_demo_creates_the_broker_and_five_cases(client, session, settings, tmp_path,  # type: ignore[no-untyped-def]
                                                monkeypatch) -> None:
    # The landing demo builds on these cases and adds its own (tests/landing/test_landing_demo.py).
    monkeypatch.setattr("luodi.landing.demo.ensure_landing_demo", lambda *args: None)
    summary = demo.load_demo(session, settings, _small_sample(tmp_path / "sample"))
    assert summary is not None and (BROKER_EMAIL, "broker", BROKER_ORG) in summary.accounts
    broker = session.scalar(select(User).where(User.email == BROKER_EMAIL))
    assert broker.role == "broker" and broker.organisation.kind == "broker_agency"
    assert broker.organisation.name == BROKER_ORG

    made = session.scalars(select(Case).order_by(Case.id)).all()
    by_state = {c.state: c for c in made}
    assert len(made) == 5 and set(by_state) == STATES
    tto = session.scalar(select(User).where(User.email == "tto@demo.luodi"))
    ent = session.scalar(select(User).where(User.email == "ent@demo.luodi"))
    assert all(tto.organisation_id in (c.seeker_org_id, c.owner_org_id) for c in made)
    interested = by_state["interested"]
    assert interested.seeker_org_id == ent.organisation_id and interested.kind == "achievements"
    meeting = by_state["meeting"]
    assert meeting.broker_id == broker.id and meeting.seeker_consent_at and meeting.owner_consent_at
    [scheduled] = session.scalars(select(Meeting).where(Meeting.case_id == meeting.id)).all()
    assert scheduled.status == "scheduled" and scheduled.created_by_id == broker.id
    negotiating = by_state["negotiating"]
    assert negotiating.kind == "demands" and negotiating.seeker_org_id == tto.organisation_id
    assert by_state["closed"].closed_reason
    # a real trail: each step by the user who took it
    opener = {c.state: c.events[0].actor_label for c in made}
    assert opener["interested"] == "ent@demo.luodi" and opener["negotiating"] == "tto@demo.luodi"
    assert [e.action for e in meeting.events if e.kind == "transition"] == [
        "open", "accept", "reveal", "meet"]

    assert _cases_seen(client, "tto@demo.luodi") == {c.id for c in made}
    assert _cases_seen(client, "ent@demo.luodi") == {
        interested.id, meeting.id, negotiating.id}
    assert _cases_seen(client, BROKER_EMAIL) == {meeting.id, negotiating.id}
    assert _cases_seen(client, "operator@demo.luodi") == {c.id for c in made}
    page = client.get(f"/cases/{meeting.id}")
    assert page.status_code == 200 and 'data-testid="meeting"' in page.text

    again = demo.load_demo(session, settings, _small_sample(tmp_path / "again"))
    assert again is not None
    assert session.scalar(select(func.count()).select_from(Case)) == 5
    assert session.scalar(select(func.count()).select_from(User).where(
        User.email == BROKER_EMAIL)) == 1
