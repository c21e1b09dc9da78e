"""Webhook endpoints (Webhook 接收地址): an organisation's URLs that receive its pushes.

Members of the organisation (and staff) add, list and delete endpoints; only staff may let one
reach private addresses (an intranet system). The signing secret is returned once, at creation.
Deleting an endpoint deactivates it rather than removing the row, so the delivery history in the
outbox stays; messages still queued for it go dead with the reason when the dispatcher meets them.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.models import Organisation
from luodi.auth.policy import authorize
from luodi.config import Settings
from luodi.db import utcnow
from luodi.errors import NotFound, ValidationFailed
from luodi.push.channels import DeliveryFailed
from luodi.push.channels.webhook import SECRET_PREFIX, TargetRefused, check_target
from luodi.push.ledger import OutboxMessage, WebhookEndpoint

__all__ = ["create_endpoint", "delete_endpoint", "list_endpoints", "new_secret", "send_test",
           "set_allow_private"]

MAX_URL = 500
MAX_DESCRIPTION = 200


@dataclass(frozen=True)
class EndpointProbe:
    """What the policy sees of an endpoint not created yet: its organisation."""

    owner_org_id: int


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` + base64 of 24 random bytes (Standard Webhooks)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _validate_url(url: str, *, allow_private: bool) -> str:
    url = (url or "").strip()
    if not url or len(url) > MAX_URL:
        raise ValidationFailed(f"请填写不超过 {MAX_URL} 个字符的网址 / Give a URL of at most "
                               f"{MAX_URL} characters.", data={"field": "url"})
    try:
        check_target(url, allow_private=allow_private)
    except TargetRefused as exc:
        raise ValidationFailed(f"不能使用这个网址 / This URL cannot be used: {exc}",
                               data={"field": "url"}) from exc
    except DeliveryFailed as exc:  # the name does not resolve (yet)
        raise ValidationFailed(f"无法解析这个网址的主机 / The URL's host does not resolve: {exc}",
                               data={"field": "url"}) from exc
    return url


def _endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or not endpoint.active:
        raise NotFound("没有这个 Webhook 地址 / No such webhook endpoint.")
    return endpoint


def create_endpoint(
    session: Session, actor: Actor, settings: Settings, *, organisation_id: int, url: str,
    description: str | None = None, allow_private: bool = False,
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint for an organisation; returns it and its secret (shown this once).

    The URL must be http(s) and resolve only to public addresses, unless private targets are
    allowed by the settings or — staff only — by ``allow_private`` for this endpoint.
    """
    authorize(session, actor, "push.webhooks", EndpointProbe(owner_org_id=organisation_id))
    if allow_private:
        authorize(session, actor, "push.webhooks.allow_private",
                  EndpointProbe(owner_org_id=organisation_id))
    if session.get(Organisation, organisation_id) is None:
        raise NotFound("没有这个机构 / No such organisation.")
    url = _validate_url(url, allow_private=allow_private or settings.webhook_allow_private)
    description = (description or "").strip()[:MAX_DESCRIPTION] or None
    secret = new_secret()
    endpoint = WebhookEndpoint(organisation_id=organisation_id, url=url, secret=secret,
                               description=description, active=True,
                               allow_private=allow_private, created_by_id=actor.user_id)
    session.add(endpoint)
    session.flush()
    audit.record(session, actor, "push.webhooks.create", obj=("webhook_endpoints", endpoint.id),
                 detail={"organisation_id": organisation_id, "url": url,
                         "allow_private": allow_private})
    session.commit()
    return endpoint, secret


def list_endpoints(session: Session, actor: Actor, organisation_id: int) -> list[WebhookEndpoint]:
    """The organisation's active endpoints, oldest first (secrets are not for display)."""
    authorize(session, actor, "push.webhooks", EndpointProbe(owner_org_id=organisation_id))
    stmt = (select(WebhookEndpoint)
            .where(WebhookEndpoint.organisation_id == organisation_id, WebhookEndpoint.active)
            .order_by(WebhookEndpoint.id))
    return list(session.scalars(stmt))


def delete_endpoint(session: Session, actor: Actor, endpoint_id: int) -> None:
    """Deactivate an endpoint and forget its secret; nothing is sent to it any more."""
    endpoint = _endpoint(session, endpoint_id)
    authorize(session, actor, "push.webhooks", endpoint)
    endpoint.active = False
    endpoint.secret = ""  # never signs again; keeping it would only be a secret to leak
    audit.record(session, actor, "push.webhooks.delete", obj=("webhook_endpoints", endpoint.id),
                 detail={"organisation_id": endpoint.organisation_id, "url": endpoint.url})
    session.commit()


def set_allow_private(
    session: Session, actor: Actor, endpoint_id: int, allow: bool
) -> WebhookEndpoint:
    """Let (or stop) an endpoint reach private, loopback and link-local addresses; staff only."""
    endpoint = _endpoint(session, endpoint_id)
    authorize(session, actor, "push.webhooks.allow_private", endpoint)
    if endpoint.allow_private != allow:
        endpoint.allow_private = allow
        audit.record(session, actor, "push.webhooks.allow_private",
                     obj=("webhook_endpoints", endpoint.id), detail={"allow": allow})
    session.commit()
    return endpoint


def ping_payload(endpoint: WebhookEndpoint, now: dt.datetime) -> dict[str, Any]:
    """The body of a test call: says which endpoint and organisation it is for, nothing else."""
    return {"type": "ping", "timestamp": now.isoformat(),
            "data": {"endpoint": endpoint.id, "organisation": endpoint.organisation_id}}


def send_test(
    session: Session, actor: Actor, settings: Settings, endpoint_id: int
) -> OutboxMessage:
    """Queue a signed ``ping`` call to the endpoint; the dispatcher sends it like any other."""
    endpoint = _endpoint(session, endpoint_id)
    authorize(session, actor, "push.webhooks", endpoint)
    row = OutboxMessage(key=f"webhook:test:{endpoint.id}:{uuid.uuid4().hex}", channel="webhook",
                        endpoint_id=endpoint.id, organisation_id=endpoint.organisation_id,
                        push_ids=[], payload=ping_payload(endpoint, utcnow()), status="pending",
                        next_attempt_at=utcnow())
    session.add(row)
    session.flush()
    audit.record(session, actor, "push.webhooks.test", obj=("webhook_endpoints", endpoint.id),
                 detail={"outbox_id": row.id})
    session.commit()
    return row
