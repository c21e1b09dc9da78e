"""CLI: the landing statistics (``luodi stats``) and the deal export (``luodi export deals``,
routed from ``luodi export``)."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from pathlib import Path
from typing import Annotated, Any

import typer

from luodi.auth.actor import system_actor
from luodi.cli import _database, _fail, _settings, app
from luodi.errors import DomainError


def parse_day(value: str | None, option: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` option as a date (None stays None); a clear error otherwise."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"expected YYYY-MM-DD, got {value!r}",
                                 param_hint=option) from None


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _pad(text: str, width: int) -> str:
    # Chinese characters take two terminal columns; str.ljust counts them as one.
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - used, 1)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _print_stats(figures: dict[str, Any]) -> None:
    period = figures["period"]
    typer.echo(f"Period {period['from'] or '…'} – {period['to'] or '…'} (as of "
               f"{period['today']}, UTC days)\n")
    funnel = figures["funnel"]
    typer.echo(f"Funnel: {funnel['opened']} cases opened")
    typer.echo(f"  {'stage':20}{'reached':>9}{'step':>9}{'overall':>9}")
    for s in funnel["stages"]:
        typer.echo(f"  {s['stage']:20}{s['reached']:>9}{_pct(s['step_rate']):>9}"
                   f"{_pct(s['overall_rate']):>9}")
    closed = ", ".join(f"{k} {v}" for k, v in funnel["closed"]["by_state"].items() if v)
    typer.echo(f"  closed {funnel['closed']['total']}" + (f" ({closed})" if closed else "")
               + f"; landed then cancelled {funnel['landed_then_cancelled']}\n")
    typer.echo(f"Days per stage (stays ended in the period)\n  {'stage':20}{'stays':>9}"
               f"{'median':>9}{'p90':>9}")
    for s in figures["stage_days"]:
        typer.echo(f"  {s['stage']:20}{s['stays']:>9}{_num(s['median']):>9}"
                   f"{_num(s['p90']):>9}")
    stalled = figures["stalled"]
    by_stage = ", ".join(f"{k} {v}" for k, v in stalled["by_stage"].items() if v)
    typer.echo(f"\nStalled (no event for {stalled['stale_days']} days): {stalled['total']}"
               + (f" ({by_stage})" if by_stage else ""))
    _print_landings(figures)


def _print_landings(figures: dict[str, Any]) -> None:
    landings, flow = figures["landings"], figures["beijing_to_tianjin_hebei"]
    typer.echo(f"\nLandings: {landings['count']} deals, {landings['value_wan']:.2f} 万元")
    typer.echo(f"京津冀 share: {_pct(figures['jjj_share_count'])} by count, "
               f"{_pct(figures['jjj_share_value'])} by value")
    typer.echo(f"Beijing sellers → 天津/河北: {flow['count']} of {flow['sellers_count']} "
               f"({_pct(flow['share_count'])} by count, {_pct(flow['share_value'])} by value)")
    for dim in ("district", "field", "category", "institution", "broker"):
        typer.echo(f"\n  by {dim}")
        for g in landings[f"by_{dim}"]:
            label = _pad(str(g["label"] or g["key"]), 32)
            typer.echo(f"    {label}{g['count']:>7}{g['value_wan']:>14.2f}")


@app.command("stats")
def stats_cmd(
    date_from: Annotated[str | None, typer.Option("--from", metavar="YYYY-MM-DD",
                                                  help="First day of the period.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", metavar="YYYY-MM-DD",
                                                help="Last day of the period.")] = None,
    today: Annotated[str | None, typer.Option(
        "--today", metavar="YYYY-MM-DD", help="As-of day (default: today, UTC).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Landing statistics: funnel, days per stage, stalled cases, landings, 京津冀 share."""
    from luodi.landing.stats import compute_stats

    start, end = parse_day(date_from, "--from"), parse_day(date_to, "--to")
    as_of = parse_day(today, "--today")
    settings = _settings()
    with _database(settings).sessions() as session:
        try:
            stats = compute_stats(session, system_actor(), date_from=start, date_to=end,
                                  today=as_of, settings=settings)
        except DomainError as exc:
            raise _fail(exc) from None
    figures = stats.as_json()
    if as_json:
        typer.echo(json.dumps(figures, ensure_ascii=False, indent=1))
    else:
        _print_stats(figures)


def export_deals_cmd(target: Path, date_from: str | None, date_to: str | None) -> None:
    """``luodi export deals FILE [--from --to]``: one row per deal, amounts in 万元."""
    from luodi.landing.exports import export_deals

    start, end = parse_day(date_from, "--from"), parse_day(date_to, "--to")
    settings = _settings()
    with _database(settings).sessions() as session:
        try:
            count = export_deals(session, system_actor(), target, date_from=start, date_to=end)
        except DomainError as exc:
            raise _fail(exc) from None
    typer.echo(f"Exported {count} deals to {target}")
