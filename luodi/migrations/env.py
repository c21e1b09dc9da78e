"""Alembic environment: migrates the database named in the config's ``sqlalchemy.url``."""

from __future__ import annotations

from alembic import context

from luodi.db import make_engine
from luodi.models import metadata

config = context.config


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("luodi runs migrations online only: luodi db upgrade")
run_migrations_online()
