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
* **Embedding never blocks a request for long**: a sync embeds a few changed records inline;
  when more are waiting (an import, a first start) they join the index with BM25 and structured
  scores only, are marked *pending*, and a background job (:mod:`luodi.jobs`) embeds them; each
  later sync picks up the vectors stored since. ``luodi index rebuild`` embeds everything itself.
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
from luodi.matching.text import add_user_terms
from luodi.push.documents import MatchDoc, doc_for, learn_keywords, text_of
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
    pending: int = 0  # records indexed without vectors yet (a background job embeds them)
    added: int = 0
    removed: int = 0
    seconds: float = 0.0
    embedders: list[str] = field(default_factory=list)


@dataclass
class _Entry:
    collection: Collection
    stamps: dict[int, str]  # key → updated_at ISO stamp of the indexed version
    watermark: dt.datetime
    pending: set[int] = field(default_factory=set)  # keys indexed with zero vectors


class MatchIndexes:
    """The match collections of one database, for one process (see module doc)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.data_dir / "index"
        self.embedder_names = settings.embedder_names
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.RLock()
        self._terms_loaded = False

    def load_terms(self) -> None:
        """The taxonomy's terms into the segmenter, as enrichment does, before any cut."""
        if not self._terms_loaded:
            from luodi.inventory.taxonomy import active_taxonomy

            add_user_terms(term for f in active_taxonomy() for term in f.terms)
            self._terms_loaded = True

    def embedders(self) -> list[Embedder]:
        """The configured embedders, loaded once per process."""
        return [get_embedder(name) for name in self.embedder_names]

    # -- reading -----------------------------------------------------------------------------
    def collection(self, session: Session, kind: str) -> Collection:
        """The collection of ``kind``, brought up to date with the database first."""
        self.load_terms()
        with self._lock:
            entry = self._entries.get(kind) or self._load(kind)
            if entry is None:
                self.rebuild(session, [kind], embed=False)
                entry = self._entries[kind]
            else:
                self._entries[kind] = entry
                self.sync(session, kind)
            return entry.collection

    def pending(self, session: Session, kind: str) -> int:
        """Records of ``kind`` still waiting for their vectors (after bringing it up to date)."""
        self.collection(session, kind)
        with self._lock:
            return len(self._entries[kind].pending)

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
        return _Entry(col, stamps, dt.datetime.fromisoformat(meta["watermark"]),
                      {int(k) for k in meta.get("pending", [])})

    # -- building ----------------------------------------------------------------------------
    def rebuild(self, session: Session, kinds: Iterable[str] | None = None,
                today: dt.date | None = None, *, embed: bool = True) -> list[IndexStats]:
        """Build the given collections (all by default) from the database and save them.

        With ``embed``, missing vectors are embedded in batches and stored, committing after
        each batch so a long rebuild keeps its work if interrupted; without it, records that
        have no stored vector are indexed as pending and the background job is asked for.
        """
        results = []
        self.load_terms()
        with self._lock:
            for kind in kinds or TARGETS:
                day = today or dt.datetime.now(dt.UTC).date()
                results.append(self._rebuild(session, kind, day, embed))
        return results

    def _rebuild(self, session: Session, kind: str, today: dt.date, embed: bool) -> IndexStats:
        started = time.perf_counter()
        watermark = utcnow()
        model = TARGETS[kind]
        stats = IndexStats(kind, embedders=list(self.embedder_names))
        _purge_orphans(session, kind, model)
        if hasattr(model, "keywords"):  # the user dictionary first, so every record is cut alike
            learn_keywords(session.scalars(select(model.keywords).where(eligible(model, today))))
        docs: list[MatchDoc] = []
        stamps: dict[int, str] = {}
        parts: dict[str, list[np.ndarray]] = {name: [] for name in self.embedder_names}
        stmt = (select(model).where(eligible(model, today)).order_by(model.id)
                .options(*_load_options(model)).execution_options(yield_per=BATCH))
        batch: list[MatchDoc] = []
        pending: set[int] = set()
        for obj in session.scalars(stmt):
            doc = doc_for(obj)
            batch.append(doc)
            stamps[doc.key] = _stamp(obj)
            if len(batch) >= BATCH:
                stats.embedded += self._embed(session, kind, batch, parts, embed, pending)
                docs.extend(_without_text(batch))
                batch = []
        if batch:
            stats.embedded += self._embed(session, kind, batch, parts, embed, pending)
            docs.extend(_without_text(batch))
        session.commit()
        vectors = {name: (np.vstack(rows) if rows else np.zeros((0, get_embedder(name).dim),
                                                                 np.float32))
                   for name, rows in parts.items()}
        col = Collection.build(kind, [d.key for d in docs], [d.tokens for d in docs], vectors,
                               [d.attrs for d in docs])
        entry = _Entry(col, stamps, watermark, pending)
        self._entries[kind] = entry
        self._save(kind, entry)
        stats.records = stats.added = len(docs)
        stats.pending = len(pending)
        if pending:
            self._ask_for_embedding(kind)
        stats.seconds = round(time.perf_counter() - started, 3)
        return stats

    def _embed(self, session: Session, kind: str, docs: Sequence[MatchDoc],
               parts: dict[str, list[np.ndarray]], embed: bool, pending: set[int]) -> int:
        """Vectors of ``docs`` into ``parts``; keys left without one go to ``pending``.

        With ``embed`` every missing vector is made now; without it, only as many as the
        embedder makes inside a request (its ``inline_limit``).
        """
        made = 0
        keys = [d.key for d in docs]
        texts = [d.text for d in docs]
        for embedder in self.embedders():
            limit = None if embed else embedder.inline_limit
            matrix, missing = vectors_for(session, kind, keys, texts, embedder,
                                          embed_at_most=limit)
            if missing and (limit is None or len(missing) <= limit):
                made += len(missing)
                session.commit()  # keep them, and free SQLite's write lock before the next model
            else:
                pending.update(keys[i] for i in missing)
            parts[embedder.name].append(matrix)
        return made

    def _ask_for_embedding(self, kind: str) -> None:
        from luodi.jobs import enqueue_embedding

        try:
            enqueue_embedding(self.settings, kind)
        except Exception:  # the index works without vectors; never fail a request over it
            log.exception("could not queue embedding of %s", kind)

    def _save(self, kind: str, entry: _Entry) -> None:
        final = self.root / kind
        temp = self.root / f".{kind}.tmp"
        shutil.rmtree(temp, ignore_errors=True)
        entry.collection.save(temp / "collection")
        meta = {"embedders": list(self.embedder_names), "watermark": entry.watermark.isoformat(),
                "stamps": {str(k): v for k, v in entry.stamps.items()},
                "pending": sorted(entry.pending)}
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
        today = today or dt.datetime.now(dt.UTC).date()
        with self._lock:
            entry = self._entries[kind]
            model = TARGETS[kind]
            stats = IndexStats(kind, embedders=list(self.embedder_names))
            look = utcnow()
            changed = list(session.scalars(select(model.id).where(
                model.updated_at >= entry.watermark - SYNC_MARGIN)))
            self._apply(session, kind, entry, changed, today, stats)
            if entry.pending:
                self._fill_pending(session, kind, entry, today, stats)
            wanted = session.scalar(select(func.count()).select_from(model)
                                    .where(eligible(model, today)))
            if wanted != len(entry.collection):
                ids = set(session.scalars(select(model.id).where(eligible(model, today))))
                extra = [k for k in entry.stamps if k not in ids]
                missing = [k for k in ids if k not in entry.stamps]
                self._apply(session, kind, entry, extra + missing, today, stats)
            entry.watermark = look
            stats.records = len(entry.collection)
            stats.pending = len(entry.pending)
            return stats

    def _fill_pending(self, session: Session, kind: str, entry: _Entry, today: dt.date,
                      stats: IndexStats) -> None:
        """Re-add pending records whose vectors have been stored since (by the job)."""
        from luodi.push.models import RecordVector

        keys = sorted(entry.pending)
        done: set[int] = set(keys)
        for name in self.embedder_names:
            have: set[int] = set()
            for start in range(0, len(keys), 500):
                have.update(session.scalars(select(RecordVector.record_id).where(
                    RecordVector.kind == kind, RecordVector.model == name,
                    RecordVector.record_id.in_(keys[start:start + 500]))))
            done &= have
        if done:
            for key in done:
                entry.stamps.pop(key, None)  # force a re-add with the stored vectors
            self._apply(session, kind, entry, sorted(done), today, stats)

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
        learn_keywords(getattr(o, "keywords", None) for o in fresh)
        docs = [doc_for(o) for o in fresh]
        parts: dict[str, list[np.ndarray]] = {name: [] for name in self.embedder_names}
        pending: set[int] = set()
        stats.embedded += self._embed(session, kind, docs, parts, False, pending)
        for i, doc in enumerate(docs):
            vectors = {name: rows[0][i] for name, rows in parts.items()}
            entry.collection.add(doc.key, doc.tokens, vectors, doc.attrs)
            entry.stamps[doc.key] = _stamp(fresh[i])
            entry.pending.discard(doc.key)
            stats.added += 1
        entry.pending |= pending
        if pending:
            self._ask_for_embedding(kind)

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


def embed_missing(session: Session, settings: Settings, kind: str, batch: int = 64) -> int:
    """Embed every matchable record of ``kind`` without a current vector; return how many.

    Commits after each batch and model, so an interrupted run keeps what it did and a rerun
    only does the rest (vectors are keyed by record, model and text hash). Nothing is written
    while a batch is being embedded, so on SQLite the web requests that write (a login, a save)
    never wait for the job for more than a moment.
    """
    model = TARGETS[kind]
    today = dt.datetime.now(dt.UTC).date()
    ids = list(session.scalars(select(model.id).where(eligible(model, today)).order_by(model.id)))
    made = 0
    for start in range(0, len(ids), batch):
        objs = session.scalars(select(model).where(model.id.in_(ids[start:start + batch]))
                               .order_by(model.id)).all()
        keys, texts = [o.id for o in objs], [text_of(o) for o in objs]
        for name in settings.embedder_names:
            _, missing = vectors_for(session, kind, keys, texts, get_embedder(name))
            made += len(missing)
            session.commit()
    return made


def _without_text(docs: list[MatchDoc]) -> list[MatchDoc]:
    """The documents less their text, which is only needed until they are embedded (at a
    million records the texts alone are about a gigabyte)."""
    return [MatchDoc(d.key, "", d.tokens, d.attrs) for d in docs]


def _purge_orphans(session: Session, kind: str, model: Any) -> None:
    """Drop stored vectors of records that no longer exist (deletions leave them behind)."""
    from sqlalchemy import delete

    from luodi.push.models import RecordVector

    session.execute(delete(RecordVector).where(
        RecordVector.kind == kind, RecordVector.record_id.not_in(select(model.id))))


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
