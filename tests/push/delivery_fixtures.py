"""Real receivers for delivery tests, and a factory for outbox rows shaped as push cycles write them.

* :class:`SmtpSink` — an aiosmtpd server on 127.0.0.1 (a free port) collecting parsed messages;
* :class:`HookSink` — a threaded ``http.server`` on 127.0.0.1 collecting requests, able to
  answer 500 to the first N calls and to take its time (for concurrency tests);
* :func:`make_world` / :func:`email_row` / :func:`webhook_row` / :func:`make_endpoint` — a
  cycle, an enterprise with its account organisation and a member, achievements and pushes,
  and outbox rows written directly through the models, exactly as the cycle writes them.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from luodi.auth.models import Organisation, User
from luodi.config import Settings
from luodi.db import utcnow
from luodi.inventory.models import Achievement, Enterprise
from luodi.push.ledger import OutboxMessage, Push, PushCycle, WebhookEndpoint
from luodi.push.webhooks import new_secret
from tests.factories import make_org, make_user

_seq = itertools.count(1)

ITEMS = [
    ("基于深度学习的机械臂视觉抓取系统", "面向仓储物流分拣的视觉定位与抓取。",
     "与贵单位需求“仓储分拣自动化”高度相关", "Closely matches your demand for warehouse picking"),
    ("一种耐高温锂电池隔膜的制备方法", None,
     "与贵单位关注的新能源领域一致", "In your field of interest: new energy"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- SMTP -------------------------------------------------------------------------------------

class SmtpSink:
    """An SMTP server on 127.0.0.1 that keeps every message it is given."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.raw: list[bytes] = []
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        self.raw.append(envelope.content)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted"

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def settings(self, settings: Settings, **update: Any) -> Settings:
        """``settings`` pointed at this server, with a recognisable site URL."""
        return settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": self.port,
                                           "base_url": "https://luodi.example.cn", **update})


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML bodies of a digest, decoded."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


# --- HTTP -------------------------------------------------------------------------------------

@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HookSink:
    """A webhook receiver on 127.0.0.1: records each POST; fails the first ``fail_first``."""

    def __init__(self, *, fail_first: int = 0, delay: float = 0.0) -> None:
        self.fail_first = fail_first
        self.delay = delay
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                time.sleep(sink.delay)
                with sink._lock:
                    sink.requests.append(Received(self.path, {k.lower(): v for k, v
                                                              in self.headers.items()}, body))
                    failing = sink.fail_first > 0
                    sink.fail_first -= 1 if failing else 0
                self.send_response(500 if failing else 204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> HookSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


# --- the ledger -------------------------------------------------------------------------------

@dataclass
class World:
    cycle: PushCycle
    org: Organisation
    user: User
    enterprise: Enterprise
    achievements: list[Achievement] = field(default_factory=list)
    pushes: list[Push] = field(default_factory=list)


def make_world(session: Session, *, titles: list[tuple[str, str | None, str, str]] | None = None,
               org: Organisation | None = None) -> World:
    """A cycle that pushed ``titles`` to an enterprise, whose member gets the digest."""
    n = next(_seq)
    org = org or make_org(session, "enterprise")
    user = make_user(session, "enterprise_member", org=org)
    enterprise = Enterprise(name=f"企业{n}", organisation_id=org.id)
    cycle = PushCycle(cap_per_recipient=5, min_recipients=2, min_score=1.0)
    session.add_all([enterprise, cycle])
    session.flush()
    world = World(cycle, org, user, enterprise)
    for rank, (title, summary, reason, reason_en) in enumerate(titles or ITEMS, 1):
        ach = Achievement(title=title, summary=summary, status="published",
                          description="保密的技术细节")
        session.add(ach)
        session.flush()
        push = Push(cycle_id=cycle.id, enterprise_id=enterprise.id, organisation_id=org.id,
                    achievement_id=ach.id, score=round(3.5 - rank * 0.4, 2), rank=rank,
                    reason=reason, reason_en=reason_en)
        session.add(push)
        world.achievements.append(ach)
        world.pushes.append(push)
    session.commit()
    return world


def _items(settings: Settings, world: World) -> list[dict[str, Any]]:
    base = settings.base_url.rstrip("/")
    return [{"push_id": p.id, "achievement_id": a.id, "title": a.title, "summary": a.summary,
             "score": p.score, "reason": p.reason, "reason_en": p.reason_en,
             "url": f"{base}/achievements/{a.id}"}
            for p, a in zip(world.pushes, world.achievements, strict=True)]


def email_row(session: Session, settings: Settings, world: World, *, locale: str = "zh_CN",
              kind: str = "digest", announcements: list[dict[str, Any]] | None = None,
              status: str = "pending", **columns: Any) -> OutboxMessage:
    """The digest row a cycle writes for ``world.user``."""
    base = settings.base_url.rstrip("/")
    payload = {"to": world.user.email, "name": world.user.display_name, "locale": locale,
               "kind": kind, "cycle": world.cycle.id,
               "items": _items(settings, world) if kind == "digest" else [],
               "announcements": announcements or [], "inbox_url": f"{base}/inbox"}
    columns.setdefault("key", f"email:{world.cycle.id}:{world.user.id}")
    row = OutboxMessage(channel="email",
                        cycle_id=world.cycle.id, user_id=world.user.id,
                        organisation_id=world.org.id, push_ids=[p.id for p in world.pushes],
                        payload=payload, status=status, **columns)
    session.add(row)
    session.commit()
    return row


def make_endpoint(session: Session, org: Organisation, url: str, *,
                  allow_private: bool = False) -> WebhookEndpoint:
    """An endpoint written directly (bypassing the URL check the service makes)."""
    endpoint = WebhookEndpoint(organisation_id=org.id, url=url, secret=new_secret(),
                               allow_private=allow_private)
    session.add(endpoint)
    session.commit()
    return endpoint


def webhook_row(session: Session, settings: Settings, world: World, endpoint: WebhookEndpoint,
                **columns: Any) -> OutboxMessage:
    """The webhook row a cycle writes for ``endpoint``: the body to send, as is."""
    payload = {"type": "push.delivered", "timestamp": utcnow().isoformat(),
               "data": {"cycle": world.cycle.id,
                        "enterprise": {"id": world.enterprise.id, "name": world.enterprise.name},
                        "pushes": _items(settings, world)}}
    columns.setdefault("key", f"webhook:{world.cycle.id}:{endpoint.id}")
    row = OutboxMessage(channel="webhook",
                        cycle_id=world.cycle.id, endpoint_id=endpoint.id,
                        organisation_id=world.org.id, push_ids=[p.id for p in world.pushes],
                        payload=payload, **{"status": "pending", **columns})
    session.add(row)
    session.commit()
    return row
