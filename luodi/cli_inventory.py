"""CLI: bulk import and export of inventory records, and the import mapping profiles.

``luodi import KIND FILE`` exits 0 when every row was accepted, 1 when rows were rejected and 2
when the file itself cannot be read (or the command cannot start: unknown kind or profile).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from luodi.auth.actor import system_actor
from luodi.cli import _database, _fail, _settings, app
from luodi.errors import DomainError

profile_app = typer.Typer(help="Import mapping profiles (导入映射方案).", no_args_is_help=True)
app.add_typer(profile_app, name="import-profile")

KIND_HELP = "achievements, demands, enterprises, institutions or experts"
Kind = Annotated[str, typer.Argument(help=KIND_HELP)]
ExistingFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                              help="CSV, XLSX, JSON or JSONL file.")]


def _progress(phase: str, rows: int) -> None:
    typer.echo(f"  {phase}: {rows} rows", err=True)


@app.command("import")
def import_cmd(
    kind: Kind,
    file: ExistingFile,
    mapping: Annotated[str | None, typer.Option(help="Name of a saved mapping profile.")] = None,
    source: Annotated[str | None, typer.Option(
        help="Source name for the records (default: the row's source, else the file name).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row; write nothing.")
                       ] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Write nothing if any row fails.")
                      ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    max_file_mb: Annotated[int | None, typer.Option(
        help="Largest file to read, in MB (default: LUODI_UPLOAD_MAX_MB).")] = None,
) -> None:
    """Import records of KIND from FILE (exit 0: all accepted, 1: rows rejected, 2: unreadable)."""
    from luodi.inventory.importers import ReadLimits
    from luodi.inventory.importing import import_file

    # The operator runs the CLI on the server with a file of their own, so unlike an upload
    # it may lift the size limit; the zip-bomb and row limits stay.
    settings = _settings()
    limits = ReadLimits(max_file_bytes=(max_file_mb or settings.upload_max_mb) * 2**20)
    db = _database(settings)
    with db.sessions() as session:
        try:
            report = import_file(
                session, system_actor(), kind, file, settings=settings, mapping=mapping,
                source=source, dry_run=dry_run, strict=strict, limits=limits,
                progress=_progress if sys.stderr.isatty() and not as_json else None)
        except DomainError as exc:
            _unreadable(exc, as_json)
            raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, default=str))
    else:
        _print_report(report, file)
    raise typer.Exit(0 if report.rejected == 0 else 1)


def _unreadable(exc: DomainError, as_json: bool) -> None:
    if as_json:
        error = {"row": None, "column": None, "value": None, "reason": exc.message}
        typer.echo(json.dumps({"accepted": 0, "rejected": 0, "errors": [error],
                               "code": exc.code}, ensure_ascii=False))
    else:
        typer.echo(f"Error ({exc.code}): {exc.message}", err=True)


def _print_report(report: Any, file: Path) -> None:
    encoding = f", {report.encoding}" if report.encoding else ""
    typer.echo(f"{file.name} ({report.format}{encoding}): {report.accepted} accepted, "
               f"{report.rejected} rejected.")
    if report.dry_run:
        typer.echo(f"Dry run, nothing written: would create {report.created}, "
                   f"update {report.updated}.")
    elif report.committed:
        typer.echo(f"Committed: {report.created} created, {report.updated} updated, "
                   f"{report.unchanged} unchanged (run #{report.run_id}).")
    elif report.strict and report.rejected:
        typer.echo("Nothing written: --strict, and rows were rejected.")
    else:
        typer.echo("Nothing written: no row was accepted.")
    if report.unknown_headers:
        typer.echo("Ignored columns: " + ", ".join(report.unknown_headers))
    for link in report.linked_created:
        verb = "Would create" if link["id"] is None else "Created"
        typer.echo(f"{verb} {link['kind']} {link['name']} (row {link['row']})")
    for dup in report.duplicates:
        typer.echo(f"Likely duplicate, flagged for review: row {dup['row']} (record "
                   f"#{dup['record_id']}) ~ record #{dup['other_id']} ({dup['similarity']:.2f})")
    for error in report.errors:
        where = f"row {error['row']}" + (f", {error['column']}" if error["column"] else "")
        value = f" = {error['value']!r}" if error["value"] is not None else ""
        typer.echo(f"  {where}{value}: {error['reason']}")


@app.command("export")
def export_cmd(
    kind: Annotated[str, typer.Argument(help=KIND_HELP + "; or pushes (the push ledger), "
                                        "judgments (feedback as a `luodi eval` task folder) or "
                                        "deals (one row per deal, amounts in 万元)")],
    file: Annotated[Path, typer.Argument(help="Target .csv (UTF-8 with BOM) or .xlsx file; a "
                                         "folder for judgments.")],
    locale: Annotated[str, typer.Option(help="Language of the push reasons: zh_CN or en.")
                      ] = "zh_CN",
    date_from: Annotated[str | None, typer.Option(
        "--from", metavar="YYYY-MM-DD", help="deals: first signing day.")] = None,
    date_to: Annotated[str | None, typer.Option(
        "--to", metavar="YYYY-MM-DD", help="deals: last signing day.")] = None,
) -> None:
    """Export every record of KIND to FILE (.csv or .xlsx, by extension)."""
    from luodi.inventory.exporting import export_records

    if kind in ("pushes", "judgments"):
        from luodi.cli_pushes import export_ledger

        export_ledger(kind, file, locale)
        return
    if kind == "deals":
        from luodi.cli_landing import export_deals_cmd

        export_deals_cmd(file, date_from, date_to)
        return
    if date_from or date_to:
        raise typer.BadParameter("--from/--to apply to deals only", param_hint="--from/--to")
    settings = _settings()
    with _database(settings).sessions() as session:
        try:
            count = export_records(session, system_actor(), kind, file)
        except DomainError as exc:
            raise _fail(exc) from None
    typer.echo(f"Exported {count} {kind} to {file}")


@profile_app.command("save")
def profile_save(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="JSON: one profile object, or a list of them.")],
) -> None:
    """Save (create or replace) the mapping profile(s) in FILE."""
    from luodi.inventory.profiles import save_profile

    try:
        specs = json.loads(file.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        typer.echo(f"Error: {file} is not valid JSON: {exc}", err=True)
        raise typer.Exit(2) from None
    settings = _settings()
    with _database(settings).sessions() as session:
        for spec in specs if isinstance(specs, list) else [specs]:
            try:
                record = save_profile(session, system_actor(), spec)
            except DomainError as exc:
                raise _fail(exc, 2) from None
            typer.echo(f"Saved mapping profile {record.name} ({record.kind})")


@profile_app.command("list")
def profile_list(
    kind: Annotated[str | None, typer.Option(help=KIND_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the profiles as JSON.")] = False,
) -> None:
    """List the saved mapping profiles."""
    from luodi.inventory.profiles import list_profiles

    with _database(_settings()).sessions() as session:
        profiles = list_profiles(session, system_actor(), kind)
    if as_json:
        typer.echo(json.dumps([p.to_dict() for p in profiles], ensure_ascii=False, indent=2))
        return
    for profile in profiles:
        typer.echo(f"{profile.name}\t{profile.kind}\t{len(profile.columns)} columns, "
                   f"{len(profile.constants)} constants")


@profile_app.command("delete")
def profile_delete(name: str) -> None:
    """Delete the mapping profile NAME."""
    from luodi.inventory.profiles import delete_profile

    with _database(_settings()).sessions() as session:
        try:
            delete_profile(session, system_actor(), name)
        except DomainError as exc:
            raise _fail(exc) from None
    typer.echo(f"Deleted mapping profile {name}")
