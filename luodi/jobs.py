"""Background jobs (Huey): a real queue, stored in SQLite by default and in Redis in production.

* ``LUODI_JOBS_URL`` unset — a Huey SQLite queue in ``<data_dir>/jobs.db``; ``luodi serve``
  runs one worker thread in the web process (``LUODI_JOBS_IN_PROCESS``), so the embedded
  default needs no second command.
* ``redis://…`` — Huey on Redis (``pip install 'luodi[redis]'``); run ``luodi worker``.
* ``immediate`` — tasks run at once in the caller (tests, one-off scripts).

Tasks are registered on each queue object by :func:`queue`, closing over the settings, so the web
process, ``luodi worker`` and tests all run the same task code. Tasks are idempotent: a task
killed half-way and run again does the rest of the work, never the same work twice.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from huey import Huey, MemoryHuey, SqliteHuey, crontab

from luodi.config import Settings

__all__ = ["InProcessWorker", "embed_missing", "enqueue_dispatch", "enqueue_embedding", "queue"]

log = logging.getLogger(__name__)

_QUEUES: dict[str, tuple[Huey, dict[str, Any]]] = {}
_QUEUES_LOCK = threading.Lock()


def _queue_key(settings: Settings) -> str:
    return settings.jobs_url or f"sqlite:{(settings.data_dir / 'jobs.db').resolve()}"


def queue(settings: Settings) -> Huey:
    """The job queue of these settings, with luodi's tasks registered on it."""
    return _entry(settings)[0]


def _entry(settings: Settings) -> tuple[Huey, dict[str, Any]]:
    key = _queue_key(settings)
    with _QUEUES_LOCK:
        if key not in _QUEUES:
            huey = _make(settings)
            _QUEUES[key] = (huey, _register(huey, settings))
        return _QUEUES[key]


def _make(settings: Settings) -> Huey:
    url = settings.jobs_url
    if url == "immediate":
        return MemoryHuey("luodi", immediate=True)
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        try:
            from huey import RedisHuey
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise RuntimeError("a Redis job queue needs: pip install 'luodi[redis]'") from exc
        return RedisHuey("luodi", url=url)
    if url:
        raise ValueError(f"LUODI_JOBS_URL must be empty, 'immediate' or a redis:// URL: {url!r}")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("luodi", filename=str(settings.data_dir / "jobs.db"))


def _register(huey: Huey, settings: Settings) -> dict[str, Any]:
    """Register luodi's tasks on ``huey``; return them by name."""

    @huey.task(retries=2, retry_delay=30)
    def embed_missing_task(kind: str) -> int:
        return embed_missing(settings, kind)

    @huey.task()
    def push_tick_task() -> dict[str, Any]:
        return push_tick(settings)

    @huey.task()
    def dispatch_task() -> dict[str, Any]:
        return push_tick(settings, plan=False)

    # Every minute, and once when a consumer starts: a cycle or a delivery interrupted by a
    # crash is picked up again by the next tick (luodi/push/schedule.py says why that is safe).
    @huey.periodic_task(crontab(minute="*"))
    def push_tick_periodic() -> dict[str, Any]:
        return push_tick(settings)

    @huey.on_startup()
    def recover_on_startup() -> None:
        push_tick_task()

    return {"embed_missing": embed_missing_task, "push_tick": push_tick_task,
            "dispatch": dispatch_task}


def enqueue_embedding(settings: Settings, kind: str) -> None:
    """Ask for the records of ``kind`` that lack a vector to be embedded in the background."""
    _entry(settings)[1]["embed_missing"](kind)


def enqueue_dispatch(settings: Settings) -> None:
    """Ask for the outbox to be sent now (after a cycle was written) rather than at the tick."""
    _entry(settings)[1]["dispatch"]()


def push_tick(settings: Settings, *, plan: bool = True) -> dict[str, Any]:
    """The push tick: :func:`luodi.push.schedule.tick`, logged."""
    from luodi.push.schedule import tick

    result = tick(settings, plan=plan)
    log.info("push tick: %s", result)
    return result


def embed_missing(settings: Settings, kind: str) -> int:
    """The embedding job: :func:`luodi.push.index.embed_missing` on its own connection."""
    from luodi.db import Database
    from luodi.push.index import embed_missing as embed

    db = Database.from_url(settings.resolved_database_url)
    try:
        with db.sessions() as session:
            made = embed(session, settings, kind)
    finally:
        db.dispose()
    log.info("embedded %d %s vectors", made, kind)
    return made


class InProcessWorker(threading.Thread):
    """One worker thread inside the web process, for the embedded default."""

    def __init__(self, settings: Settings, poll_seconds: float = 1.0,
                 tick_seconds: float = 60.0) -> None:
        super().__init__(name="luodi-jobs", daemon=True)
        self.settings = settings
        self.huey = queue(settings)
        self.poll_seconds = poll_seconds
        self.tick_seconds = tick_seconds
        self._stop_event = threading.Event()

    def run(self) -> None:
        """Take tasks off the queue until stopped; a failing task is logged, not fatal.

        There is no Huey scheduler in this thread, so it runs the push tick itself: at start
        (recovering anything a crash interrupted) and every ``tick_seconds``.
        """
        last_tick = 0.0
        while not self._stop_event.is_set():
            try:
                if time.monotonic() - last_tick >= self.tick_seconds:
                    last_tick = time.monotonic()
                    push_tick(self.settings)
                task = self.huey.dequeue()
                if task is None:
                    self._stop_event.wait(self.poll_seconds)
                    continue
                self.huey.execute(task)
            except Exception:
                log.exception("background job failed")
                self._stop_event.wait(self.poll_seconds)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to finish its current task and exit."""
        self._stop_event.set()
        self.join(timeout)
