"""Webhooks: Standard Webhooks signatures, the SSRF rule, endpoint services and who may use them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from luodi.audit import AuditEvent
from luodi.auth.actor import Actor
from luodi.errors import NotFound, PermissionDenied, ValidationFailed
from luodi.push import outbox, webhooks
from luodi.push.channels.webhook import TargetRefused, check_target
from luodi.push.ledger import OutboxMessage
from tests.factories import make_org, make_user
from tests.push.delivery_fixtures import HookSink, make_endpoint, make_world, webhook_row


@pytest.fixture
def hook():  # type: ignore[no-untyped-def]
    with HookSink() as sink:
        yield sink


def _actor(user) -> Actor:  # type: ignore[no-untyped-def]
    org = user.organisation
    return Actor(user_id=user.id, role=user.role, org_id=user.organisation_id,
                 org_kind=org.kind if org else None, email=user.email)


def _row(session, row: OutboxMessage) -> OutboxMessage:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.get(OutboxMessage, row.id)


def _actions(session, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_call_is_signed_the_standard_webhooks_way(db, session, settings, hook) -> None:  # type: ignore[no-untyped-def]
    cfg = settings.model_copy(update={"webhook_allow_private": True})
    world = make_world(session)
    endpoint = make_endpoint(session, world.org, hook.url)
    row = webhook_row(session, cfg, world, endpoint)

    assert outbox.dispatch(db, cfg).sent == 1

    [call] = hook.requests
    assert call.path == "/hook" and call.headers["webhook-id"] == f"msg_luodi_{row.id}"
    assert call.headers["content-type"].startswith("application/json")
    # The body is the row's payload as stored (JSONB may reorder keys): compact, UTF-8,
    # Chinese left unescaped.
    stored = _row(session, row).payload
    assert call.body == json.dumps(stored, ensure_ascii=False, separators=(",", ":")).encode()
    assert call.json() == row.payload
    assert "机械臂".encode() in call.body and call.json()["type"] == "push.delivered"
    # The reference library accepts it…
    assert Webhook(endpoint.secret).verify(call.body, call.headers)["data"]["cycle"] == world.cycle.id
    # …and so does an HMAC computed here from the spec.
    key = base64.b64decode(endpoint.secret.removeprefix("whsec_"))
    signed = f"{call.headers['webhook-id']}.{call.headers['webhook-timestamp']}.".encode() + call.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert call.headers["webhook-signature"] == f"v1,{expected}"
    with pytest.raises(Exception, match="signature"):
        Webhook(webhooks.new_secret()).verify(call.body, call.headers)
    assert _row(session, row).status == "sent"


REFUSED = ["http://127.0.0.1:9/hook", "http://10.1.2.3/hook", "http://169.254.169.254/latest/meta-data",
           "http://[::1]:9/hook", "http://localhost:9/hook", "http://0.0.0.0/", "http://100.64.0.1/",
           "http://192.168.1.1/", "http://172.16.0.1/", "http://[::ffff:127.0.0.1]/",
           "http://[fc00::1]/", "http://[fe80::1]/", "http://224.0.0.1/", "https://240.0.0.1/"]


@pytest.mark.parametrize("url", REFUSED)
def test_private_and_reserved_targets_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused):
        check_target(url, allow_private=False)
    check_target(url, allow_private=True)  # an operator may allow them (no call is made here)


@pytest.mark.parametrize("url", ["ftp://example.org/x", "file:///etc/passwd", "gopher://x/", "http:///path"])
def test_only_http_urls_with_a_host_are_callable_even_when_private_is_allowed(url: str) -> None:
    with pytest.raises(TargetRefused):
        check_target(url, allow_private=True)


def test_public_literal_addresses_pass_the_check() -> None:
    for url in ("https://93.184.215.14/hook", "http://8.8.8.8:8080/x", "https://[2606:4700::1111]/"):
        check_target(url, allow_private=False)  # literal addresses: nothing is resolved or called


def test_refused_target_goes_dead_at_once_and_is_never_called(db, session, settings, hook) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session)
    for url in (hook.url, hook.url.replace("127.0.0.1", "localhost")):
        endpoint = make_endpoint(session, world.org, url)
        row = webhook_row(session, settings, world, endpoint, key=f"webhook:{world.cycle.id}:{url}")

        report = outbox.dispatch(db, settings)

        assert (report.dead, report.sent, report.failed) == (1, 0, 0)
        dead = _row(session, row)
        assert dead.status == "dead" and dead.attempts == 1 and "private" in dead.last_error
    assert hook.requests == []
    assert len(_actions(session, "push.delivery_dead")) == 2


def test_private_target_is_called_when_the_endpoint_or_the_settings_allow_it(db, session, settings, hook) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session)
    allowed = make_endpoint(session, world.org, hook.url, allow_private=True)
    webhook_row(session, settings, world, allowed)
    assert outbox.dispatch(db, settings).sent == 1

    other = make_world(session)
    plain = make_endpoint(session, other.org, hook.url.replace("127.0.0.1", "localhost"))
    webhook_row(session, settings, other, plain)
    assert outbox.dispatch(db, settings.model_copy(update={"webhook_allow_private": True})).sent == 1
    assert len(hook.requests) == 2


def test_create_endpoint_checks_the_url_and_returns_the_secret_once(session, settings, hook) -> None:  # type: ignore[no-untyped-def]
    member = make_user(session, "enterprise_member")
    actor = _actor(member)
    org_id = member.organisation_id
    for url in (hook.url, "http://169.254.169.254/", "ftp://example.org/", "", "http://x/" + "a" * 600):
        with pytest.raises(ValidationFailed):
            webhooks.create_endpoint(session, actor, settings, organisation_id=org_id, url=url)

    endpoint, secret = webhooks.create_endpoint(
        session, actor, settings.model_copy(update={"webhook_allow_private": True}),
        organisation_id=org_id, url=hook.url, description="ERP")

    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 24
    assert endpoint.secret == secret and endpoint.allow_private is False
    assert webhooks.list_endpoints(session, actor, org_id) == [endpoint]
    [line] = _actions(session, "push.webhooks.create")
    assert line.actor_id == member.id and "whsec_" not in json.dumps(line.detail)
    _other, other_secret = webhooks.create_endpoint(
        session, actor, settings.model_copy(update={"webhook_allow_private": True}),
        organisation_id=org_id, url=hook.url)
    assert other_secret != secret


def test_only_staff_create_a_private_endpoint_or_allow_one(session, settings, hook) -> None:  # type: ignore[no-untyped-def]
    member = make_user(session, "enterprise_member")
    operator = make_user(session, "operator")
    org_id = member.organisation_id
    with pytest.raises(PermissionDenied):
        webhooks.create_endpoint(session, _actor(member), settings, organisation_id=org_id,
                                 url=hook.url, allow_private=True)
    endpoint, _secret = webhooks.create_endpoint(session, _actor(operator), settings,
                                                 organisation_id=org_id, url=hook.url,
                                                 allow_private=True)
    with pytest.raises(PermissionDenied):
        webhooks.set_allow_private(session, _actor(member), endpoint.id, False)
    assert webhooks.set_allow_private(session, _actor(operator), endpoint.id, False).allow_private is False
    assert webhooks.set_allow_private(session, _actor(operator), endpoint.id, True).allow_private is True
    assert [e.detail for e in _actions(session, "push.webhooks.allow_private")
            if e.outcome == "success"] == [{"allow": False}, {"allow": True}]
    assert [e.actor_id for e in _actions(session, "push.webhooks.allow_private")
            if e.outcome == "denied"] == [member.id, member.id]  # create and allow


def test_another_organisation_cannot_see_delete_or_ping_an_endpoint(session, settings, hook) -> None:  # type: ignore[no-untyped-def]
    owner = make_user(session, "enterprise_member")
    stranger = make_user(session, "enterprise_member", org=make_org(session, "enterprise"))
    endpoint = make_endpoint(session, owner.organisation, hook.url, allow_private=True)

    with pytest.raises(PermissionDenied):
        webhooks.list_endpoints(session, _actor(stranger), owner.organisation_id)
    with pytest.raises(PermissionDenied):
        webhooks.delete_endpoint(session, _actor(stranger), endpoint.id)
    with pytest.raises(PermissionDenied):
        webhooks.send_test(session, _actor(stranger), settings, endpoint.id)
    with pytest.raises(PermissionDenied):
        webhooks.create_endpoint(session, _actor(stranger), settings,
                                 organisation_id=owner.organisation_id, url="https://93.184.215.14/")
    session.expire_all()
    assert webhooks.list_endpoints(session, _actor(owner), owner.organisation_id) == [endpoint]


def test_deleted_endpoint_stops_deliveries_with_a_reason(db, session, settings, hook) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session)
    endpoint = make_endpoint(session, world.org, hook.url, allow_private=True)
    row = webhook_row(session, settings, world, endpoint)

    webhooks.delete_endpoint(session, _actor(world.user), endpoint.id)

    assert webhooks.list_endpoints(session, _actor(world.user), world.org.id) == []
    with pytest.raises(NotFound):
        webhooks.delete_endpoint(session, _actor(world.user), endpoint.id)
    assert outbox.dispatch(db, settings).dead == 1 and hook.requests == []
    assert "deleted" in _row(session, row).last_error
    assert len(_actions(session, "push.webhooks.delete")) == 1


def test_send_test_queues_a_signed_ping(db, session, settings, hook) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session)
    endpoint = make_endpoint(session, world.org, hook.url, allow_private=True)

    row = webhooks.send_test(session, _actor(world.user), settings, endpoint.id)

    assert row.key.startswith(f"webhook:test:{endpoint.id}:") and row.status == "pending"
    assert outbox.dispatch(db, settings).sent == 1
    [call] = hook.requests
    body = Webhook(endpoint.secret).verify(call.body, call.headers)
    assert body["type"] == "ping" and body["data"] == {"endpoint": endpoint.id,
                                                        "organisation": world.org.id}
