"""Stored embeddings: each record version embedded once per model."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from luodi.db import Base, UTCDateTime, utcnow


class RecordVector(Base):
    """The vector a model made of a record's public text.

    ``text_sha`` is the SHA-256 of the exact text embedded: when the text changes the vector is
    recomputed, when only other fields change it is reused. Vectors are float32 bytes, unit
    length. On PostgreSQL too they are kept here rather than in a pgvector column: the match
    index lives in process (docs/decisions/0006).
    """

    __tablename__ = "record_vectors"
    __table_args__ = (UniqueConstraint("kind", "record_id", "model"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # achievements | demands | enterprises
    record_id: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(120))
    text_sha: Mapped[str] = mapped_column(String(64))
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
