"""CLI commands for the demo data set and the freshness sweep (``luodi demo``,
``luodi freshness sweep``), registered on :data:`luodi.cli.app`."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated

import typer

from luodi.auth.actor import system_actor
from luodi.cli import _database, _fail, _settings, app
from luodi.db import utcnow
from luodi.errors import DomainError

freshness_app = typer.Typer(help="Record freshness: expiry and reminders.", no_args_is_help=True)
app.add_typer(freshness_app, name="freshness")


@app.command("demo")
def demo_cmd(
    if_empty: Annotated[bool, typer.Option(
        "--if-empty", help="Do nothing when the database already holds achievements.")] = False,
    sample_dir: Annotated[Path | None, typer.Option(
        help="Folder with csl_papers_dev.jsonl and nasa_patents.csv (default: the copy "
        "packaged in luodi/data/sample).")] = None,
) -> None:
    """Load the demo: public sample data, illustrative enterprises and demands, demo accounts."""
    from luodi.inventory import demo

    settings = _settings()
    db = _database(settings)
    started = time.perf_counter()
    with db.sessions() as session:
        try:
            summary = demo.load_demo(session, settings, sample_dir or demo.SAMPLE_DIR,
                                     if_empty=if_empty)
        except DomainError as exc:
            raise _fail(exc) from None
    if summary is None:
        typer.echo("The database already holds achievements; demo not loaded (--if-empty).")
        return
    for line in demo.summary_lines(summary):
        typer.echo(line)
    typer.echo(f"Loaded in {time.perf_counter() - started:.1f} s.")


def _parse_day(value: str | None) -> dt.date:
    if value is None:
        return utcnow().date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a date (YYYY-MM-DD).") from None


@freshness_app.command("sweep")
def sweep_cmd(
    today: Annotated[str | None, typer.Option(
        help="Run as if today were this date (YYYY-MM-DD); default: today (UTC).")] = None,
) -> None:
    """Expire records past their expiry date and remind owners of coming expiries."""
    from luodi.inventory import freshness

    day = _parse_day(today)
    settings = _settings()
    db = _database(settings)
    with db.sessions() as session:
        try:
            result = freshness.sweep(session, system_actor(via="job"), settings, day)
        except DomainError as exc:
            raise _fail(exc) from None
    expired = ", ".join(f"{kind} {n}" for kind, n in result.expired.items())
    made = ", ".join(f"{kind} {n}" for kind, n in sorted(result.reminders.items()))
    typer.echo(f"Freshness sweep for {day.isoformat()}: expired {expired}; "
               f"reminders: {result.total_reminders}" + (f" ({made})" if made else ""))
