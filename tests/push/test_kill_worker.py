"""Kill the job worker with SIGKILL at random points of a push cycle, restart it, and count.

A real worker process (``luodi worker``: a Huey consumer on the SQLite queue) plans the due
cycle on start-up and sends its outbox to a real SMTP server and a real webhook receiver on
loopback, both slowed down so kills land while planning, while writing and while sending. After
each kill the worker is started again; its start-up tick resumes. At the end:

* the ledger holds exactly the pairs the dry run planned: none lost, none twice;
* every e-mail and webhook of the outbox arrived, identified by its Message-ID / webhook-id;
  none arrived that the outbox does not hold;
* a message sent just before a kill, before it could be marked sent, is sent again with the
  same identity (receivers drop it: that is what the identity is for); there are at most as
  many such resends as kills, and the figures are printed for the closing note.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from typing import Any

from sqlalchemy import select

from luodi.auth.actor import system_actor
from luodi.db import Database
from luodi.push.cycles import run_cycle
from luodi.push.ledger import OutboxMessage, Push, PushCycle, WebhookEndpoint
from luodi.push.webhooks import new_secret
from tests.conftest import SECRET
from tests.factories import make_org, make_user
from tests.inventory import factories as inv
from tests.push.delivery_fixtures import HookSink, SmtpSink
from tests.push.world import DEMANDS, build

FIRMS = 8  # each with two members and a webhook endpoint, beside the world's three
KILLS = 6
SEED = int(os.environ.get("LUODI_KILL_SEED", "1"))
WORKER = [sys.executable, "-c", "from luodi.cli import app; app()", "worker"]


class SlowSmtp(SmtpSink):
    """An SMTP server that takes its time, so a kill can land between send and mark."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        await asyncio.sleep(0.25)
        return await super().handle_DATA(server, session, envelope)


def _grow(session, settings, world) -> None:  # type: ignore[no-untyped-def]
    texts = list(DEMANDS.values())
    for i in range(FIRMS):
        ent = inv.enterprise(session, settings, name=f"扩展示范企业{i}", org=None)
        org = make_org(session, "enterprise")
        ent.organisation_id = org.id
        session.commit()
        for _ in range(2):
            make_user(session, "enterprise_member", org=org)
        title, summary = texts[i % len(texts)]
        inv.demand(session, settings, ent, title=f"{title}（{i}）", summary=summary)
    for firm_org in {e.organisation_id for e in _enterprises(session)}:
        session.add(WebhookEndpoint(organisation_id=firm_org, url="", secret=new_secret()))
    session.commit()


def _enterprises(session):  # type: ignore[no-untyped-def]
    from luodi.inventory.models import Enterprise

    return session.scalars(select(Enterprise).where(Enterprise.organisation_id.is_not(None)))


def _env(settings, smtp: SmtpSink) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUODI_")}
    env.update({
        "LUODI_ENV": "test", "LUODI_SECRET_KEY": SECRET,
        "LUODI_DATABASE_URL": settings.resolved_database_url,
        "LUODI_DATA_DIR": str(settings.data_dir), "LUODI_MATCH_EMBEDDERS": "",
        "LUODI_SMTP_HOST": "127.0.0.1", "LUODI_SMTP_PORT": str(smtp.port),
        "LUODI_WEBHOOK_ALLOW_PRIVATE": "true", "LUODI_OUTBOX_CLAIM_SECONDS": "1",
        "LUODI_PUSH_MIN_SCORE": str(settings.push_min_score),
        "LUODI_PUSH_CAP_PER_RECIPIENT": str(settings.push_cap_per_recipient),
        "LUODI_PUSH_MIN_RECIPIENTS": str(settings.push_min_recipients),
        "LUODI_PUSH_SCHEDULE": settings.push_schedule,
    })
    return env


def _finished(db: Database) -> bool:
    with db.sessions() as s:
        cycle = s.scalar(select(PushCycle))
        waiting = s.scalar(select(OutboxMessage.id).where(
            OutboxMessage.status.in_(("pending", "sending", "failed"))).limit(1))
        return cycle is not None and cycle.status == "delivered" and waiting is None


def _phase(db: Database) -> str:
    """Where the cycle was when the worker died (for the printed figures)."""
    with db.sessions() as s:
        if s.scalar(select(PushCycle.id)) is None:
            return "planning"
        statuses = Counter(s.scalars(select(OutboxMessage.status)))
    return f"sending {statuses['sent']}/{sum(statuses.values())}"


def _run_until_done(env: dict[str, str], db: Database, rng: random.Random,
                    log_dir: Any) -> list[str]:
    kills = []
    for attempt in range(KILLS + 1):
        out = (log_dir / f"worker{attempt}.log").open("wb")
        proc = subprocess.Popen(WORKER, env=env, stdout=out, stderr=subprocess.STDOUT)
        if attempt < KILLS:
            at = rng.uniform(0.5, 8.0)
            deadline = time.monotonic() + at
            while time.monotonic() < deadline and not _finished(db):
                time.sleep(0.05)
            if _finished(db):
                proc.kill()
                proc.wait()
                break
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills.append(f"{at:.1f} s ({_phase(db)})")
            time.sleep(1.1)  # let the dead worker's claims run out, as they would in real life
            continue
        deadline = time.monotonic() + 120
        while not _finished(db) and time.monotonic() < deadline:
            time.sleep(0.2)
        proc.terminate()
        proc.wait(timeout=30)
    return kills


def test_sigkill_loses_and_duplicates_nothing(session, settings, db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = settings.model_copy(update={
        "match_embedders": "", "push_min_score": -100.0, "push_cap_per_recipient": 2,
        "push_min_recipients": 1, "webhook_allow_private": True})
    world = build(session, settings)
    _grow(session, settings, world)
    rng = random.Random(SEED)
    with SlowSmtp() as smtp, HookSink(delay=0.25) as hooks:
        for ep in session.scalars(select(WebhookEndpoint)):
            ep.url = hooks.url
        session.commit()
        planned = run_cycle(session, system_actor(), settings, dry_run=True)
        expected = {(r.enterprise_id, r.achievement_id) for r in planned.rows}
        kills = _run_until_done(_env(settings, smtp), db, rng, tmp_path)
        assert _finished(db), (tmp_path / "worker0.log").read_text(errors="replace")[-3000:]
        with db.sessions() as s:
            pushes = Counter((p.enterprise_id, p.achievement_id) for p in s.scalars(select(Push)))
            rows = s.scalars(select(OutboxMessage)).all()
        mails = {f"<luodi-outbox-{r.id}@" for r in rows if r.channel == "email"}
        webhooks = {f"msg_luodi_{r.id}" for r in rows if r.channel == "webhook"}
        got_mail = Counter(str(m["Message-ID"]).split("@")[0] + "@" for m in smtp.messages)
        got_hooks = Counter(r.headers["webhook-id"] for r in hooks.requests)
    lost = len(expected - set(pushes)) + len(mails - set(got_mail)) + \
        len(webhooks - set(got_hooks))
    duplicated = sum(n - 1 for n in pushes.values()) + len(set(pushes) - expected)
    phantom = len(set(got_mail) - mails) + len(set(got_hooks) - webhooks)
    resends = sum(n - 1 for n in got_mail.values()) + sum(n - 1 for n in got_hooks.values())
    print(f"\nkill test (seed {SEED}): kills at {kills}; pushes {len(pushes)}/{len(expected)}, "
          f"e-mails {len(got_mail)}/{len(mails)}, webhooks {len(got_hooks)}/{len(webhooks)}; "
          f"lost {lost}, duplicated {duplicated}, unknown {phantom}, resends with the same "
          f"identity {resends}")
    assert all(r.status == "sent" for r in rows)
    assert len(expected) > 10 and len(mails) > 10 and len(webhooks) > 5
    assert (lost, duplicated, phantom) == (0, 0, 0)
    assert resends <= len(kills)
