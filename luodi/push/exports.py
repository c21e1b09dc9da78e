"""Exports of the push ledger: every push per channel, and the recipients' judgments as qrels.

* :func:`export_pushes` — one row per push and channel (the inbox, each e-mail digest that
  carried it, each webhook call), with its status and the explanation, as CSV or XLSX;
* :func:`export_judgments` — the feedback as a retrieval task in the layout ``luodi eval``
  reads (``corpus.jsonl``, ``queries.jsonl``, ``qrels.tsv``): each enterprise that judged a
  push is a query (its public profile and published demands), each judged achievement a
  document (its public teaser), graded interested 2, relevant 1, not relevant 0. So the engine
  can be scored on real recipients' judgments instead of synthetic sets.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.policy import authorize
from luodi.inventory.exporters import write_table
from luodi.inventory.models import Demand, Enterprise
from luodi.push.documents import text_of
from luodi.push.ledger import OutboxMessage, Push

__all__ = ["GRADES", "PUSH_HEADERS", "export_judgments", "export_pushes"]

PUSH_HEADERS = ["cycle", "recipient", "recipient_id", "item", "item_id", "score", "rank",
                "channel", "message", "status", "feedback", "feedback_reason", "pushed_at",
                "reason"]
GRADES = {"interested": 2, "relevant": 1, "not_relevant": 0}
BATCH = 1000


def _messages(session: Session) -> dict[int, list[OutboxMessage]]:
    by_push: dict[int, list[OutboxMessage]] = defaultdict(list)
    for msg in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)):
        for push_id in msg.push_ids or ():
            by_push[int(push_id)].append(msg)
    return by_push


def _push_rows(session: Session, locale: str) -> Iterator[dict[str, Any]]:
    messages = _messages(session)
    stmt = (select(Push).options(selectinload(Push.enterprise), selectinload(Push.achievement))
            .order_by(Push.cycle_id, Push.enterprise_id, Push.rank)
            .execution_options(yield_per=BATCH))
    for push in session.scalars(stmt):
        base = {"cycle": push.cycle_id, "recipient": push.enterprise.name,
                "recipient_id": push.enterprise_id, "item": push.achievement.title,
                "item_id": push.achievement_id, "score": round(push.score, 4),
                "rank": push.rank, "feedback": push.feedback or "",
                "feedback_reason": push.feedback_reason or "",
                "pushed_at": push.created_at.isoformat(),
                "reason": push.reason_en if locale == "en" else push.reason}
        yield {**base, "channel": "inbox", "message": "",
               "status": "read" if push.read_at else "delivered"}
        for msg in messages.get(push.id, ()):
            yield {**base, "channel": msg.channel, "message": msg.id,
                   "status": msg.status + (f" ({msg.last_error})" if msg.status == "suppressed"
                                           and msg.last_error else "")}


def export_pushes(session: Session, actor: Actor, path: str | Path, *,
                  locale: str = "zh_CN") -> int:
    """Write the push ledger to ``path`` (.csv or .xlsx); returns the row count (staff only)."""
    authorize(session, actor, "push.export")
    count = write_table(path, PUSH_HEADERS, _push_rows(session, locale), sheet_title="pushes")
    audit.record(session, actor, "push.export", detail={"rows": count, "file": Path(path).name})
    session.commit()
    return count


def _query_text(session: Session, enterprise: Enterprise) -> str:
    demands = session.scalars(select(Demand).where(
        Demand.enterprise_id == enterprise.id, Demand.status.in_(("published", "in_docking")),
        Demand.confidential.is_(False)).order_by(Demand.id))
    return "\n".join([text_of(enterprise), *(text_of(d) for d in demands)])


def export_judgments(session: Session, actor: Actor, directory: str | Path) -> dict[str, int]:
    """Write the judged pushes as a ``luodi eval`` task in ``directory``; returns the counts."""
    authorize(session, actor, "push.export")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    judged = session.scalars(select(Push).where(Push.feedback.is_not(None))
                             .options(selectinload(Push.enterprise),
                                      selectinload(Push.achievement))
                             .order_by(Push.enterprise_id, Push.achievement_id)).all()
    queries = {p.enterprise_id: p.enterprise for p in judged}
    docs = {p.achievement_id: p.achievement for p in judged}
    with (out / "queries.jsonl").open("w", encoding="utf-8") as fh:
        for ent_id, ent in queries.items():
            fh.write(json.dumps({"_id": f"e{ent_id}", "text": _query_text(session, ent)},
                                ensure_ascii=False) + "\n")
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for doc_id, doc in docs.items():
            fh.write(json.dumps({"_id": f"a{doc_id}", "title": doc.title,
                                 "text": doc.summary or ""}, ensure_ascii=False) + "\n")
    with (out / "qrels.tsv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(["query-id", "corpus-id", "score"])
        for p in judged:
            writer.writerow([f"e{p.enterprise_id}", f"a{p.achievement_id}",
                             GRADES[p.feedback or ""]])
    counts = {"queries": len(queries), "documents": len(docs), "judgments": len(judged)}
    audit.record(session, actor, "push.export_judgments", detail=counts)
    session.commit()
    return counts
