"""The ``luodi`` command: thin wrappers over services (Typer)."""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from luodi import __version__
from luodi.auth.actor import system_actor
from luodi.config import Settings
from luodi.db import Database
from luodi.errors import DomainError

app = typer.Typer(help="luodi 落地 — technology-transfer platform.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")


def _settings() -> Settings:
    from luodi.inventory.taxonomy import use_taxonomy

    try:
        settings = Settings()
        use_taxonomy(settings.taxonomy_file)
    except Exception as exc:  # pydantic's (or the taxonomy's) message names the fault
        typer.echo(f"Configuration error: {exc}", err=True)
        raise typer.Exit(2) from None
    return settings


def _database(settings: Settings) -> Database:
    import luodi.models  # noqa: F401 - every mapper, whatever the command touches first

    return Database.from_url(settings.resolved_database_url)


def _fail(exc: DomainError, code: int = 1) -> typer.Exit:
    typer.echo(f"Error ({exc.code}): {exc.message}", err=True)
    return typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"luodi {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """luodi 落地: 清单 → 推送 → 对接 → 落地."""


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from luodi.migrate import upgrade

    settings = _settings()
    upgrade(settings.resolved_database_url, revision)
    typer.echo(f"Database at {revision}: {_safe_url(settings)}")


@db_app.command("current")
def db_current() -> None:
    """Print the migration revision the database is at."""
    from luodi.migrate import current_revision

    db = _database(_settings())
    typer.echo(current_revision(db.engine) or "(empty)")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL only).")] = 1,
) -> None:
    """Serve the web UI and API."""
    import uvicorn

    from luodi.web import create_app

    settings = _settings()
    typer.echo(f"luodi {__version__} on http://{host}:{port}  ({_safe_url(settings)})")
    worker = None
    if settings.jobs_in_process and settings.jobs_url != "immediate":
        from luodi.jobs import InProcessWorker

        worker = InProcessWorker(settings)  # the embedded default needs no second command
        worker.start()
    try:
        uvicorn.run(create_app(settings), host=host, port=port, workers=workers,
                    proxy_headers=False, log_level="info")
    finally:
        if worker is not None:
            worker.stop()


@app.command()
def worker(
    threads: Annotated[int, typer.Option(help="Worker threads.")] = 1,
) -> None:
    """Run background jobs (embedding, later push cycles) until interrupted."""
    from huey.consumer import Consumer

    from luodi.jobs import queue

    settings = _settings()
    if settings.jobs_url == "immediate":
        typer.echo("LUODI_JOBS_URL=immediate runs jobs inline; there is nothing to consume.",
                   err=True)
        raise typer.Exit(2)
    Consumer(queue(settings), workers=threads, worker_type="thread").run()


@user_app.command("create")
def user_create(
    email: str,
    role: Annotated[str, typer.Option(help="admin, operator, institution_member, "
                                      "enterprise_member, broker, viewer or expert")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    org: Annotated[str | None,
                   typer.Option(help="Organisation name (created if --org-kind).")] = None,
    org_kind: Annotated[str | None, typer.Option(help="Create the organisation with this kind "
                                                 "if it does not exist.")] = None,
    password: Annotated[str | None, typer.Option(help="Password; prompted if omitted, or "
                                                 "generated with --generate.")] = None,
    generate: Annotated[bool,
                        typer.Option(help="Generate a random password and print it.")] = False,
) -> None:
    """Create a user (acting as the system administrator)."""
    from luodi.auth import service

    settings = _settings()
    db = _database(settings)
    if generate:
        password = secrets.token_urlsafe(12)
    elif password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    actor = system_actor()
    with db.sessions() as session:
        try:
            org_id = _org_id(session, org, org_kind) if org else None
            user = service.create_user(session, actor, service.NewUser(
                email=email, display_name=name, role=role, password=password,
                organisation_id=org_id), min_password=settings.password_min_length)
        except DomainError as exc:
            raise _fail(exc) from None
    typer.echo(f"Created user #{user.id} {user.email} ({user.role})")
    if generate:
        typer.echo(f"Password: {password}")


def _org_id(session: Session, name: str, kind: str | None) -> int:
    from luodi.auth import service
    from luodi.auth.models import Organisation

    found = session.scalar(select(Organisation.id).where(Organisation.name == name))
    if found:
        return found
    if not kind:
        raise DomainError(f"No organisation named '{name}'; pass --org-kind to create it.")
    return service.create_organisation(session, system_actor(), name=name, kind=kind).id


@app.command("init")
def init() -> None:
    """Migrate, and create a first admin account if there is none (printing its credentials)."""
    from luodi.auth.service import bootstrap_admin
    from luodi.migrate import upgrade

    settings = _settings()
    upgrade(settings.resolved_database_url)
    db = _database(settings)
    with db.sessions() as session:
        created = bootstrap_admin(session, settings)
    if created:
        email, password = created
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        note = settings.data_dir / "initial-admin.txt"
        note.write_text(f"{email}\n{password}\n", encoding="utf-8")
        note.chmod(0o600)
        typer.echo(f"Created admin account {email} with password {password}  (saved in {note})")
    else:
        typer.echo("An admin account exists already.")


@app.command("backup")
def backup_cmd(file: Path) -> None:
    """Write a full backup of the database to FILE."""
    from luodi import backup

    settings = _settings()
    try:
        backup.backup(_database(settings), system_actor(), file, pg_bin_dir=settings.pg_bin_dir)
    except DomainError as exc:
        raise _fail(exc) from None
    typer.echo(f"Backup written to {file}")


@app.command("restore")
def restore_cmd(
    file: Path,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace the database's contents with the backup in FILE."""
    from luodi import backup

    settings = _settings()
    if not yes and sys.stdin.isatty():
        typer.confirm(f"Replace everything in {_safe_url(settings)} with {file}?", abort=True)
    try:
        backup.restore(_database(settings), system_actor(), file, pg_bin_dir=settings.pg_bin_dir)
    except DomainError as exc:
        raise _fail(exc, 2) from None
    typer.echo(f"Restored from {file}")


@app.command("settings")
def settings_cmd() -> None:
    """Print the effective settings (secrets masked) as JSON."""
    typer.echo(json.dumps(_settings().model_dump(mode="json"), ensure_ascii=False, indent=2))


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


# Commands for later stages live in their own modules and register themselves on `app`.
from luodi import cli_demo, cli_inventory, cli_landing, cli_push, cli_pushes  # noqa: E402,F401,I001

if __name__ == "__main__":
    app()
