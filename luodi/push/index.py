"""The match indexes: derived from the database, kept fresh, persisted, rebuilt on demand.

One :class:`~luodi.matching.engine.Collection` per target kind (achievements, demands,
enterprises) holds every record that may be matched: published achievements and demands not past
their expiry date, and enterprises. The database is the truth; an index is a cache of it:

* **Built** from the database by :meth:`MatchIndexes.rebuild` (``luodi index rebuild``), which
  also embeds whatever has no stored vector yet, and **persisted** under
  ``<data_dir>/index/<kind>/`` so a restart loads it instead of rebuilding.
* **Kept fresh on every use**: :meth:`MatchIndexes.collection` first asks the database for records
  changed since the last look (``updated_at`` after the watermark, less a margin for slow
  commits) and adds, replaces or removes them; a count check then catches deletions. Records
  saved by any process — web, CLI, import — therefore show up in the next match.
* **Never trusted for eligibility alone**: the match service re-reads the records it returns and
  drops any that is no longer published or has expired since.

The registry is per process and per database, guarded by a lock: index updates are cheap and
rare, searches are read-only on the arrays.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from luodi.config import Settings
from luodi.db import utcnow
from luodi.inventory.models import Achievement, Demand, Enterprise
from luodi.matching.embedders import Embedder, get_embedder
from luodi.matching.engine import Collection
from luodi.push.documents import MatchDoc, doc_for
from luodi.push.vectors import vectors_for

__all__ = ["TARGETS", "IndexStats", "MatchIndexes", "indexes_for"]

log = logging.getLogger(__name__)

TARGETS: dict[str, Any] = {"achievements": Achievement, "demands": Demand,
                           "enterprises": Enterprise}
# Records changed this long before the last look are looked at again: a transaction that
# stamped updated_at before the look but committed after it is not missed.
SYNC_MARGIN = dt.timedelta(minutes=5)
# Records read and embedded per batch during a rebuild.
BATCH = 2000


def eligible(model: Any, today: dt.date) -> Any:
    """SQL condition for records that may be matched today."""
    if model is Enterprise:
        return True
    return and_(model.status == "published",
                or_(model.expires_on.is_(None), model.expires_on >= today))


def _load_options(model: Any) -> list[Any]:
    if model is Achievement:
        return [selectinload(Achievement.institution)]
    if model is Demand:
        return [selectinload(Demand.enterprise)]
    return []


@dataclass
class IndexStats:
    """What a rebuild or a sync did."""

    kind: str
    records: int = 0
    embedded: int = 0
    added: int = 0
    removed: int = 0
    seconds: float = 0.0
    embedders: list[str] = field(default_factory=list)


@dataclass
class _Entry:
    collection: Collection
    stamps: dict[int, str]  # key → updated_at ISO stamp of the indexed version
    watermark: dt.datetime


class MatchIndexes:
    """The match collections of one database, for one process (see module doc)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.data_dir / "index"
        self.embedder_names = settings.embedder_names
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.RLock()

    def embedders(self) -> list[Embedder]:
        """The configured embedders, loaded once per process."""
        return [get_embedder(name) for name in self.embedder_names]

    # -- reading -----------------------------------------------------------------------------
    def collection(self, session: Session, kind: str) -> Collection:
        """The collection of ``kind``, brought up to date with the database first."""
        with self._lock:
            entry = self._entries.get(kind) or self._load(kind)
            if entry is None:
                self.rebuild(session, [kind])
                entry = self._entries[kind]
            else:
                self._entries[kind] = entry
                self.sync(session, kind)
            return entry.collection

    def _load(self, kind: str) -> _Entry | None:
        path = self.root / kind
        meta_file = path / "index.json"
        if not meta_file.exists():
            return None
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
            if meta.get("embedders") != list(self.embedder_names):
                return None  # built with other models: rebuild
            col = Collection.load(path / "collection")
        except (OSError, ValueError, KeyError) as exc:
            log.warning("match index %s unreadable (%s); rebuilding", kind, exc)
            return None
        stamps = {int(k): v for k, v in meta["stamps"].items()}
        return _Entry(col, stamps, dt.datetime.fromisoformat(meta["watermark"]))

    # -- building ----------------------------------------------------------------------------
    def rebuild(self, session: Session, kinds: Iterable[str] | None = None,
                today: dt.date | None = None) -> list[IndexStats]:
        """Build the given collections (all by default) from the database and save them.

        Missing vectors are embedded in batches and stored; the session is committed after
        each batch so a long rebuild keeps its work if interrupted.
        """
        results = []
        with self._lock:
            for kind in kinds or TARGETS:
                results.append(self._rebuild(session, kind, today or dt.date.today()))
        return results

    def _rebuild(self, session: Session, kind: str, today: dt.date) -> IndexStats:
        started = time.perf_counter()
        watermark = utcnow()
        model = TARGETS[kind]
        stats = IndexStats(kind, embedders=list(self.embedder_names))
        docs: list[MatchDoc] = []
        stamps: dict[int, str] = {}
        parts: dict[str, list[np.ndarray]] = {name: [] for name in self.embedder_names}
        stmt = (select(model).where(eligible(model, today)).order_by(model.id)
                .options(*_load_options(model)).execution_options(yield_per=BATCH))
        batch: list[MatchDoc] = []
        for obj in session.scalars(stmt):
            doc = doc_for(obj)
            batch.append(doc)
            stamps[doc.key] = _stamp(obj)
            if len(batch) >= BATCH:
                stats.embedded += self._embed(session, kind, batch, parts)
                docs.extend(batch)
                batch = []
        if batch:
            stats.embedded += self._embed(session, kind, batch, parts)
            docs.extend(batch)
        session.commit()
        vectors = {name: (np.vstack(rows) if rows else np.zeros((0, get_embedder(name).dim),
                                                                 np.float32))
                   for name, rows in parts.items()}
        col = Collection.build(kind, [d.key for d in docs], [d.tokens for d in docs], vectors,
                               [d.attrs for d in docs])
        entry = _Entry(col, stamps, watermark)
        self._entries[kind] = entry
        self._save(kind, entry)
        stats.records = stats.added = len(docs)
        stats.seconds = round(time.perf_counter() - started, 3)
        return stats

    def _embed(self, session: Session, kind: str, docs: Sequence[MatchDoc],
               parts: dict[str, list[np.ndarray]]) -> int:
        made = 0
        keys = [d.key for d in docs]
        texts = [d.text for d in docs]
        for embedder in self.embedders():
            matrix, count = vectors_for(session, kind, keys, texts, embedder)
            parts[embedder.name].append(matrix)
            made += count
        session.commit()  # keep the embeddings even if a later batch fails
        return made

    def _save(self, kind: str, entry: _Entry) -> None:
        final = self.root / kind
        temp = self.root / f".{kind}.tmp"
        shutil.rmtree(temp, ignore_errors=True)
        entry.collection.save(temp / "collection")
        meta = {"embedders": list(self.embedder_names), "watermark": entry.watermark.isoformat(),
                "stamps": {str(k): v for k, v in entry.stamps.items()}}
        (temp / "index.json").write_text(json.dumps(meta), encoding="utf-8")
        # Swap whole directories so a reader never sees half of a new index.
        old = self.root / f".{kind}.old"
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        temp.rename(final)
        shutil.rmtree(old, ignore_errors=True)

    # -- keeping fresh -----------------------------------------------------------------------
    def sync(self, session: Session, kind: str, today: dt.date | None = None) -> IndexStats:
        """Apply the database's changes since the last look to the collection of ``kind``."""
        today = today or dt.date.today()
        with self._lock:
            entry = self._entries[kind]
            model = TARGETS[kind]
            stats = IndexStats(kind, embedders=list(self.embedder_names))
            look = utcnow()
            changed = session.execute(select(model.id, model.updated_at).where(
                model.updated_at >= entry.watermark - SYNC_MARGIN)).all()
            self._apply(session, kind, entry, [row.id for row in changed], today, stats)
            wanted = session.scalar(select(func.count()).select_from(model)
                                    .where(eligible(model, today)))
            if wanted != len(entry.collection):
                ids = set(session.scalars(select(model.id).where(eligible(model, today))))
                extra = [k for k in entry.stamps if k not in ids]
                missing = [k for k in ids if k not in entry.stamps]
                self._apply(session, kind, entry, extra + missing, today, stats)
            entry.watermark = look
            stats.records = len(entry.collection)
            return stats

    def _apply(self, session: Session, kind: str, entry: _Entry, ids: list[int],
               today: dt.date, stats: IndexStats) -> None:
        if not ids:
            return
        model = TARGETS[kind]
        objs = {o.id: o for o in session.scalars(
            select(model).where(model.id.in_(ids), eligible(model, today))
            .options(*_load_options(model)))}
        fresh = [o for o in objs.values() if entry.stamps.get(o.id) != _stamp(o)]
        for key in ids:
            if key not in objs and entry.collection.remove(key):
                entry.stamps.pop(key, None)
                stats.removed += 1
        if not fresh:
            return
        docs = [doc_for(o) for o in fresh]
        parts: dict[str, list[np.ndarray]] = {name: [] for name in self.embedder_names}
        stats.embedded += self._embed(session, kind, docs, parts)
        for i, doc in enumerate(docs):
            vectors = {name: rows[0][i] for name, rows in parts.items()}
            entry.collection.add(doc.key, doc.tokens, vectors, doc.attrs)
            entry.stamps[doc.key] = _stamp(fresh[i])
            stats.added += 1

    def forget(self) -> None:
        """Drop the in-memory collections (the next use loads or rebuilds them)."""
        with self._lock:
            self._entries.clear()

    def status(self) -> list[dict[str, Any]]:
        """For ``luodi index status``: what each loaded collection holds."""
        out = []
        for kind in TARGETS:
            entry = self._entries.get(kind) or self._load(kind)
            if entry is None:
                out.append({"kind": kind, "built": False})
                continue
            col = entry.collection
            out.append({"kind": kind, "built": True, "records": len(col),
                        "delta": col.lexical.delta_size, "dead_rows": col.dead_rows,
                        "embedders": list(col.embedders),
                        "watermark": entry.watermark.isoformat()})
        return out


def _stamp(obj: Any) -> str:
    stamp = getattr(obj, "updated_at", None)
    return stamp.isoformat() if stamp else ""


_REGISTRY: dict[tuple[str, str], MatchIndexes] = {}
_REGISTRY_LOCK = threading.Lock()


def indexes_for(settings: Settings) -> MatchIndexes:
    """The process-wide :class:`MatchIndexes` of this database and data directory."""
    key = (settings.resolved_database_url, str(Path(settings.data_dir).resolve()))
    with _REGISTRY_LOCK:
        if key not in _REGISTRY:
            _REGISTRY[key] = MatchIndexes(settings)
        return _REGISTRY[key]
