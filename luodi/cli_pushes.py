"""CLI: push cycles (``luodi push run|tick``) and the ledger's exports (``luodi export pushes``,
``luodi export judgments``, routed from ``luodi export``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from luodi.auth.actor import system_actor
from luodi.cli import _database, _fail, _settings, app
from luodi.errors import DomainError

push_app = typer.Typer(help="Push cycles (推送).", no_args_is_help=True)
app.add_typer(push_app, name="push")


def _print_figures(figures: dict[str, Any]) -> None:
    greedy: dict[str, Any] = figures.get("greedy") or {}
    typer.echo(f"{'':22}{'planned (flow)':>16}{'greedy top-k':>16}")
    for key in ("pushes", "recipients", "coverage", "exposure_gini", "mean_score"):
        typer.echo(f"{key:22}{figures.get(key)!s:>16}{greedy.get(key)!s:>16}")
    typer.echo(f"k = {figures.get('cap_per_recipient')}, d = {figures.get('min_recipients')}, "
               f"min score = {figures.get('min_score')}, eligible achievements = "
               f"{figures.get('eligible_items')}, candidates = {figures.get('candidates')}, "
               f"plan {figures.get('plan_seconds')} s")


@push_app.command("run")
def push_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan and print; write nothing.")
                       ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    rows: Annotated[bool, typer.Option("--rows", help="Also print each planned push.")] = False,
) -> None:
    """Plan a push cycle now (min-cost flow, compared with greedy top-k) and deliver it."""
    from luodi.push.cycles import run_cycle

    settings = _settings()
    with _database(settings).sessions() as session:
        try:
            result = run_cycle(session, system_actor(), settings, dry_run=dry_run)
        except DomainError as exc:
            raise _fail(exc) from None
    if not dry_run:
        from luodi.jobs import enqueue_dispatch

        enqueue_dispatch(settings)  # the worker sends the e-mails and webhooks
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        typer.echo("Dry run: nothing written." if dry_run else f"Cycle {result.cycle_id} written.")
        _print_figures(result.figures)
    if rows:
        for r in result.rows:
            typer.echo(f"{r.enterprise_name}\t#{r.achievement_id}\t{r.score:.2f}\t{r.reason}")


@push_app.command("tick")
def push_tick_cmd() -> None:
    """Run the scheduler's tick once: plan a due cycle, send the outbox (what workers do)."""
    from luodi.push.schedule import tick

    typer.echo(json.dumps(tick(_settings()), ensure_ascii=False, default=str))


def export_ledger(what: str, target: Path, locale: str) -> None:
    """``luodi export pushes FILE`` and ``luodi export judgments DIR``."""
    from luodi.push.exports import export_judgments, export_pushes

    settings = _settings()
    with _database(settings).sessions() as session:
        try:
            if what == "pushes":
                count = export_pushes(session, system_actor(), target, locale=locale)
                typer.echo(f"Exported {count} push rows to {target}")
            else:
                counts = export_judgments(session, system_actor(), target)
                typer.echo(f"Exported {counts['judgments']} judgments ({counts['queries']} "
                           f"queries, {counts['documents']} documents) to {target}; score the "
                           f"engine with: luodi eval {target}")
        except DomainError as exc:
            raise _fail(exc) from None
