"""Delivery channels (推送渠道) for the outbox: e-mail digests and webhook calls.

The in-app inbox needs no channel: a :class:`~luodi.push.ledger.Push` row *is* that delivery.
A channel sends one outbox message and either returns (delivered) or raises one of the two
errors below, which tell the dispatcher whether trying again could help.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["DeliveryFailed", "DeliveryRefused", "message_host"]


class DeliveryFailed(Exception):
    """A delivery that did not go through but may on a later attempt (timeout, 5xx, 4xx SMTP)."""


class DeliveryRefused(DeliveryFailed):
    """A delivery that will never go through as it stands (refused target, rejected address).

    The dispatcher marks the message dead at once instead of retrying it.
    """


def message_host(base_url: str) -> str:
    """The host part of message identities (``<luodi-outbox-1@host>``), from the site's URL."""
    return urlsplit(base_url).hostname or "localhost"
