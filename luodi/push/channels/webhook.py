"""Webhook calls, signed the Standard Webhooks way (standardwebhooks.com).

Each call is a POST of compact UTF-8 JSON with three headers:

* ``webhook-id`` — ``msg_luodi_<outbox id>``: the same on every retry, so receivers dedupe;
* ``webhook-timestamp`` — unix seconds of this attempt (receivers reject stale ones);
* ``webhook-signature`` — ``v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>``, the key
  being the base64-decoded part of the endpoint's ``whsec_…`` secret.

Before each call the target is checked against server-side request forgery: the scheme must be
http(s) and *every* address the host resolves to must be public, unless private targets are
allowed (``LUODI_WEBHOOK_ALLOW_PRIVATE`` or the endpoint's operator-set flag).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import socket
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from luodi.push.channels import DeliveryFailed, DeliveryRefused

__all__ = ["TargetRefused", "body_bytes", "check_target", "deliver", "sign", "webhook_id"]

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
USER_AGENT = "luodi-webhooks/1"


class TargetRefused(DeliveryRefused):
    """The URL may not be called: wrong scheme, or the host resolves to a non-public address."""


def webhook_id(outbox_id: int) -> str:
    """The ``webhook-id`` of an outbox row: the same on every attempt."""
    return f"msg_luodi_{outbox_id}"


def body_bytes(payload: Mapping[str, Any]) -> bytes:
    """The request body: compact JSON, UTF-8, Chinese left readable (ensure_ascii off)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one call."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return f"v1,{base64.b64encode(digest).decode()}"


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback, whatever its spelling
    # ``is_global`` is false for private, loopback, link-local, shared (100.64/10), reserved,
    # unspecified and documentation ranges; multicast is checked on its own since a few
    # multicast blocks count as global.
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified
                                 or ip.is_loopback or ip.is_link_local or ip.is_private)


def check_target(url: str, *, allow_private: bool) -> None:
    """Refuse (:class:`TargetRefused`) a URL that is not http(s) or reaches a private address.

    The host is resolved here and again by the HTTP client a moment later, so a name whose DNS
    answer changes in between (DNS rebinding) could still slip through; the window is small,
    redirects are never followed, and operators who need a hard guarantee put an egress proxy
    or firewall in front of the workers. A name that does not resolve is a retryable failure.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise TargetRefused(f"only http and https URLs may be called, not {parts.scheme!r}")
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    if allow_private:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except ValueError as exc:  # a port out of range
        raise TargetRefused(f"invalid URL: {exc}") from exc
    except OSError as exc:
        raise DeliveryFailed(f"cannot resolve {parts.hostname}: {exc}") from exc
    for info in infos:
        address = str(info[4][0])
        if not _is_public(address):
            raise TargetRefused(
                f"{parts.hostname} resolves to {address}, a private or reserved address; "
                "an operator must allow private targets for this endpoint")


def deliver(
    *, url: str, secret: str, outbox_id: int, payload: Mapping[str, Any], timeout: float,
    allow_private: bool,
) -> int:
    """POST one signed webhook call; returns the HTTP status (2xx), raises otherwise.

    Any non-2xx answer or network error is :class:`DeliveryFailed` (retried); a refused target
    is :class:`TargetRefused` (never retried). The response body is never read.
    """
    check_target(url, allow_private=allow_private)
    body = body_bytes(payload)
    msg_id = webhook_id(outbox_id)
    # The signature's timestamp is the real clock of this attempt, not the dispatcher's
    # scheduling clock: receivers compare it with their own clock to refuse replays.
    timestamp = int(time.time())
    headers = {"content-type": "application/json; charset=utf-8", "user-agent": USER_AGENT,
               "webhook-id": msg_id, "webhook-timestamp": str(timestamp),
               "webhook-signature": sign(secret, msg_id, timestamp, body)}
    try:
        # trust_env off: the call goes straight to the host just checked, not through a proxy
        # from the environment that would resolve the name by itself.
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client, \
                client.stream("POST", url, content=body, headers=headers) as response:
            status = response.status_code
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status} from the endpoint")
    return status
