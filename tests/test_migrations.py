"""The migrations produce exactly the schema the models describe, on the engine under test."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from luodi.migrate import current_revision, head_revision
from luodi.models import metadata


def test_database_is_at_head(db, db_url) -> None:
    assert current_revision(db.engine) == head_revision(db_url)


def test_models_match_migrations(db) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                metadata)
    assert diff == [], f"models and migrations disagree; add a migration: {diff}"


def test_sqlite_pragmas(db) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite only")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("pragma journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("pragma foreign_keys").scalar() == 1
