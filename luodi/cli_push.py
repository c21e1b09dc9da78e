"""CLI: the match indexes (``luodi index``) and retrieval evaluation (``luodi eval``)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from luodi.auth.actor import system_actor
from luodi.cli import _database, _fail, _settings, app
from luodi.errors import DomainError

index_app = typer.Typer(help="Match indexes (匹配索引).", no_args_is_help=True)
app.add_typer(index_app, name="index")

KINDS = ("achievements", "demands", "enterprises")


@index_app.command("rebuild")
def index_rebuild(
    kind: Annotated[list[str] | None, typer.Option(
        "--kind", help="achievements, demands or enterprises (repeatable; default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    no_embed: Annotated[bool, typer.Option(
        "--no-embed", help="Index now; leave records without vectors to the background job.")
    ] = False,
) -> None:
    """Rebuild match indexes from the database, embedding records that have no vector yet."""
    from luodi.push.service import rebuild_indexes

    settings = _settings()
    unknown = [k for k in kind or () if k not in KINDS]
    if unknown:
        typer.echo(f"Unknown kind: {', '.join(unknown)} (use {', '.join(KINDS)})", err=True)
        raise typer.Exit(2)
    db = _database(settings)
    with db.sessions() as session:
        try:
            stats = rebuild_indexes(session, system_actor(), settings, kind or None,
                                    embed=not no_embed)
        except DomainError as exc:
            raise _fail(exc) from None
    if as_json:
        typer.echo(json.dumps([asdict(s) for s in stats], ensure_ascii=False))
        return
    for s in stats:
        typer.echo(f"{s.kind}: {s.records} records, {s.embedded} newly embedded, "
                   f"{s.pending} left to the background job "
                   f"({', '.join(s.embedders) or 'lexical only'}), {s.seconds} s")


@index_app.command("status")
def index_status() -> None:
    """Show what each saved match index holds."""
    from luodi.push.index import indexes_for

    settings = _settings()
    typer.echo(json.dumps(indexes_for(settings).status(), ensure_ascii=False, indent=2))


@app.command("eval")
def eval_cmd(
    task_dir: Annotated[Path, typer.Argument(exists=True, file_okay=False,
                                             help="A task in BEIR layout.")],
    method: Annotated[str, typer.Option(help="bm25, dense or hybrid.")] = "hybrid",
    run: Annotated[Path | None, typer.Option(help="Write a TREC run file here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON report.")] = False,
    cache: Annotated[Path | None, typer.Option(
        help="Keep passage vectors here between runs (default: <data dir>/eval-cache).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Embed everything afresh.")
                        ] = False,
) -> None:
    """Rank a BEIR task with luodi's matching; print R@1, R@10, MRR@10 and nDCG@10."""
    from luodi.push.evaluation import run_eval, write_run

    if method not in ("bm25", "dense", "hybrid"):
        typer.echo("--method must be bm25, dense or hybrid", err=True)
        raise typer.Exit(2)
    settings = _settings()
    if method == "dense" and not settings.embedder_names:
        typer.echo("--method dense needs an embedder (LUODI_MATCH_EMBEDDERS)", err=True)
        raise typer.Exit(2)
    try:
        cache_dir = None if no_cache else (cache or settings.data_dir / "eval-cache")
        result = run_eval(task_dir, method, settings, cache_dir)  # type: ignore[arg-type]
    except DomainError as exc:
        raise _fail(exc, 2) from None
    if run is not None:
        with run.open("w", encoding="utf-8") as fh:
            write_run(result.run, fh, f"luodi-{method}")
    report = result.as_json()
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
        return
    typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    if run is not None:
        typer.echo(f"run written to {run}", err=True)
    sys.stdout.flush()
