"""Embeddings kept in the database: each record version embedded once per model.

A vector is reused while the exact text it was made from (its SHA-256) is unchanged, so
re-indexing, a restart or a rebuild never embeds the same text twice. New and changed texts are
embedded in batches (the fast path of every embedder) and written in the caller's transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from luodi.matching.embedders import Embedder
from luodi.push.models import RecordVector

__all__ = ["text_sha", "vectors_for"]

# Rows read or written per statement (SQLite's variable limit is far above this).
_CHUNK = 500


def text_sha(text: str) -> str:
    """SHA-256 of the embedded text, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _stored(session: Session, kind: str, keys: Sequence[int], model: str,
            ) -> dict[int, RecordVector]:
    found: dict[int, RecordVector] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = list(keys[start:start + _CHUNK])
        rows = session.scalars(select(RecordVector).where(
            RecordVector.kind == kind, RecordVector.model == model,
            RecordVector.record_id.in_(chunk)))
        found.update({row.record_id: row for row in rows})
    return found


def vectors_for(session: Session, kind: str, keys: Sequence[int], texts: Sequence[str],
                embedder: Embedder, *, embed_at_most: int | None = None,
                ) -> tuple[np.ndarray, list[int]]:
    """Vectors (rows in ``keys`` order) and the positions that had no stored vector.

    Those are embedded as passages now and stored (the session is committed before embedding,
    and the caller commits the new rows) — unless there are more than ``embed_at_most`` of
    them: then their rows stay zero, for the background job to fill.
    """
    stored = _stored(session, kind, keys, embedder.name)
    out = np.zeros((len(keys), embedder.dim), np.float32)
    todo: list[int] = []
    shas = [text_sha(t) for t in texts]
    for i, key in enumerate(keys):
        row = stored.get(int(key))
        if row is not None and row.text_sha == shas[i] and row.dim == embedder.dim:
            out[i] = np.frombuffer(row.vector, dtype=np.float32)
        else:
            todo.append(i)
    if not todo or (embed_at_most is not None and len(todo) > embed_at_most):
        return out, todo
    # End the read transaction, embed, then write: on SQLite a write takes the database's one
    # lock until the caller commits (so it must not span minutes of embedding), and a
    # transaction that read before others wrote could not write at all afterwards. The callers
    # (index builds, the embedding job) have nothing pending but earlier vectors.
    session.commit()
    made = np.vstack([embedder.embed_passages([texts[i] for i in todo[s:s + _CHUNK]])
                      for s in range(0, len(todo), _CHUNK)])
    for i, vector in zip(todo, made, strict=True):
        out[i] = vector
        row = stored.get(int(keys[i]))
        if row is None:
            row = RecordVector(kind=kind, record_id=int(keys[i]), model=embedder.name)
            session.add(row)
        row.text_sha, row.dim = shas[i], embedder.dim
        row.vector = np.ascontiguousarray(vector, np.float32).tobytes()
    session.flush()
    return out, todo
