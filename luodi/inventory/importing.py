"""Bulk import (批量导入): a file of records → validated, enriched, de-duplicated records, with
every rejected row reported and nothing half-written.

Two passes over the file:

1. **check** — every row is mapped, converted and validated (:mod:`import_rows`) and checked
   against what the database already holds (record keys, credit codes). No writes, no
   enrichment: tens of thousands of rows a second. A dry run stops here (its ``created`` and
   ``updated`` say what a real import would do); so does a strict import when any row failed.
2. **write** — the file is read again and each good row is created or updated through the
   record services (authorised, enriched, duplicate-flagged and audited per record) inside a
   SAVEPOINT, so a row the database refuses becomes a row error without spoiling the others.
   It is all one transaction, committed at the end — under ``strict`` only if no row failed.
   Any exception rolls everything back.

An :class:`ImportRun` row is committed in a transaction of its own afterwards, in every case.
Identity: a record is (source, external id); the source is ``--source``, else the row's source
column or the profile's constant, else the file name's stem; the external id is the file's id
column, else a hash of the record's identifying text (:func:`import_rows.identity_key`), so
re-importing a file updates what the first import created. Empty cells never clear a stored
value on update. Rows identical to what is stored are left alone (``unchanged``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.policy import authorize
from luodi.config import Settings
from luodi.errors import DomainError, FileUnreadable, ValidationFailed
from luodi.inventory.duplicates import load_index
from luodi.inventory.import_directory import Directory
from luodi.inventory.import_rows import Prepared, RowContext, prepare_row, unescaped
from luodi.inventory.importers import (
    MappingProfile,
    RawRow,
    ReadLimits,
    RowError,
    map_row,
    read_table,
    resolve_headers,
)
from luodi.inventory.importers.mapping import SYNONYMS
from luodi.inventory.kinds import kind_of
from luodi.inventory.models import DuplicateFlag, ImportRun
from luodi.inventory.records import (
    WORKFLOW_STATUSES,  # set by docking and the expiry sweep: a re-import must not undo them
    create_record,
    current_values,
    update_record,
)

log = logging.getLogger(__name__)

PREVIEW_ROWS = 20
STORED_ERRORS = 1000  # an ImportRun keeps the first errors; the report has them all
_VALUE_CHARS = 200
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, for a dry run, would do). ``errors`` are ``{row, column, value,
    reason}`` dicts sorted by row; ``column`` is the file's own header (None: the whole row)."""

    accepted: int
    rejected: int
    created: int
    updated: int
    errors: list[dict[str, Any]]
    flagged_duplicates: int
    encoding: str | None
    format: str
    run_id: int | None
    unchanged: int = 0
    kind: str = ""
    dry_run: bool = False
    strict: bool = False
    committed: bool = False
    header_mapping: dict[str, str] = field(default_factory=dict)
    unknown_headers: list[str] = field(default_factory=list)
    linked_created: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with ``accepted``, ``rejected`` and ``errors`` first."""
        data = asdict(self)
        return {k: data.pop(k) for k in ("accepted", "rejected", "errors")} | data


@dataclass
class _Job:
    session: Session
    actor: Actor
    kind: str
    path: Path
    filename: str
    settings: Settings
    profile: MappingProfile | None
    source: str | None
    dry_run: bool
    strict: bool
    limits: ReadLimits
    progress: Progress | None


@dataclass
class _Tally:
    valid: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    committed: bool = False
    format: str = ""
    encoding: str | None = None
    rejected_rows: set[int] = field(default_factory=set)
    errors: list[RowError] = field(default_factory=list)
    context: RowContext | None = None
    unknown: list[str] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    created_rows: dict[int, int] = field(default_factory=dict)  # record id → row
    linked: list[dict[str, Any]] = field(default_factory=list)  # institutions etc. created
    refused: int = 0  # rows the check pass accepted but the database refused

    def reject(self, number: int, errors: Iterable[RowError]) -> None:
        self.rejected_rows.add(number)
        self.errors.extend(errors)


def import_file(
    session: Session, actor: Actor, kind: str, path: str | Path, *, settings: Settings,
    mapping: str | MappingProfile | None = None, source: str | None = None,
    dry_run: bool = False, strict: bool = False, filename: str | None = None,
    limits: ReadLimits = ReadLimits(), progress: Progress | None = None,
) -> ImportReport:
    """Import the records of ``kind`` in the file at ``path``; see the module docstring.

    ``mapping`` is a profile name or a :class:`MappingProfile`; ``filename`` is the name the
    user knows the file by (format detection, default source, the run log). Raises
    FileUnreadable (nothing written) when the file as a whole cannot be read or mapped.
    """
    authorize(session, actor, "inventory.import")
    kind_of(kind)  # NotFound for an unknown kind, before touching the file
    job = _Job(session, actor, kind, Path(path), filename or Path(path).name, settings,
               _profile(session, actor, kind, mapping), _checked_source(source), dry_run,
               strict, limits, progress)
    tally = _Tally()
    try:
        _run(job, tally)
    except BaseException as exc:
        session.rollback()
        _record_run(job, tally, failure=exc)
        raise
    report = _report(job, tally)
    return replace(report, run_id=_record_run(job, tally, report))


def _profile(session: Session, actor: Actor, kind: str,
             mapping: str | MappingProfile | None) -> MappingProfile | None:
    if mapping is None or isinstance(mapping, MappingProfile):
        profile = mapping
    else:
        from luodi.inventory.profiles import get_profile

        profile = get_profile(session, actor, mapping)
    if profile is not None and profile.kind != kind:
        raise ValidationFailed(f"Mapping profile '{profile.name}' is for {profile.kind}, "
                               f"not {kind}.")
    return profile


def _checked_source(source: str | None) -> str | None:
    if source is not None and not 1 <= len(source.strip()) <= 80:
        raise ValidationFailed("A source name has 1 to 80 characters.")
    return source.strip() if source else None


def _run(job: _Job, tally: _Tally) -> None:
    with read_table(job.path, filename=job.filename, limits=job.limits) as table:
        tally.format, tally.encoding = table.format, table.encoding
        tally.context = _context(job, table.headers, tally)
        directory = Directory(job.session, job.kind)
        _check_pass(job, tally.context, directory, table.rows, tally)
    job.session.rollback()  # the check pass only read; end its transaction
    tally.linked = directory.planned_links()
    if job.dry_run or (job.strict and tally.errors) or tally.valid == 0:
        return
    with read_table(job.path, filename=job.filename, limits=job.limits) as table:
        _write_pass(job, tally.context, directory, table.rows, tally)
    tally.linked = directory.created_links
    if job.strict and tally.errors:
        job.session.rollback()
        return
    job.session.commit()
    tally.committed = True


def _context(job: _Job, headers: list[str], tally: _Tally) -> RowContext:
    try:
        found = resolve_headers(headers, job.kind, job.profile)
    except ValidationFailed as exc:  # two columns claim one field: the file needs a profile
        raise FileUnreadable(exc.message, data=exc.data) from None
    if found.missing_required:
        wanted = "; ".join(f"{name} (e.g. {' / '.join(SYNONYMS[job.kind][name][:3])})"
                           for name in found.missing_required)
        raise FileUnreadable(f"Missing required column(s): {wanted}. Columns found: "
                             f"{', '.join(headers)}.", data={"missing": found.missing_required})
    tally.unknown = found.unknown_headers
    stem = Path(job.filename).stem.strip()[:80] or "import"
    return RowContext(job.kind, found.mapping, job.profile, job.source, stem)


def _check_pass(job: _Job, ctx: RowContext, directory: Directory, rows: Iterable[RawRow],
                tally: _Tally) -> None:
    seen: dict[tuple[str, str], int] = {}
    seen_codes: dict[str, int] = {}
    for count, raw in enumerate(rows, start=1):
        prepared, errors = prepare_row(raw, ctx)
        if prepared is not None:
            errors = directory.identity_problems(prepared, ctx, seen, seen_codes)
        if len(tally.preview) < PREVIEW_ROWS:
            tally.preview.append(_preview(raw, ctx, errors))
        if errors:
            tally.reject(raw.number, errors)
        else:
            assert prepared is not None
            tally.valid += 1
            directory.plan_links(prepared)
            if directory.key_of(prepared) is None:
                tally.created += 1
            else:
                tally.updated += 1  # a dry run's estimate; the write pass counts for real
        _tick(job, "check", count)


def _preview(raw: RawRow, ctx: RowContext, errors: list[RowError]) -> dict[str, Any]:
    mapped = map_row(unescaped(raw.values), ctx.mapping, kind=ctx.kind, profile=ctx.profile)
    return {"row": raw.number, "ok": not errors, "values": mapped}


def _tick(job: _Job, phase: str, count: int) -> None:
    if job.progress is not None and count % 1000 == 0:
        job.progress(phase, count)


def _write_pass(job: _Job, ctx: RowContext, directory: Directory, rows: Iterable[RawRow],
                tally: _Tally) -> None:
    session = job.session
    tally.created = tally.updated = 0
    kind = kind_of(job.kind)
    index = load_index(session, job.kind) if kind.indexed else None
    last_flag = session.scalar(select(func.max(DuplicateFlag.id))) or 0
    event = audit.record(session, job.actor, "inventory.import",
                         detail={"kind": job.kind, "file": job.filename})
    # Flushed before the first SAVEPOINT: on SQLite the driver opens the transaction only at
    # the first INSERT, and a SAVEPOINT outside a transaction would commit on RELEASE.
    session.flush()
    for count, raw in enumerate(rows, start=1):
        _tick(job, "write", count)
        if raw.number in tally.rejected_rows:
            continue
        prepared, errors = prepare_row(raw, ctx)
        if prepared is None:  # cannot happen for a row the check pass accepted; stay safe
            tally.reject(raw.number, errors)
            continue
        if not _write_one(job, prepared, directory, index, tally) and job.strict:
            return
    tally.duplicates = _new_flags(session, job.kind, last_flag, tally.created_rows)
    event.detail = {"kind": job.kind, "file": job.filename, "created": tally.created,
                    "updated": tally.updated, "rejected": len(tally.rejected_rows)}


def _write_one(job: _Job, prepared: Prepared, directory: Directory, index: Any,
               tally: _Tally) -> bool:
    created_id = None
    try:
        with job.session.begin_nested():
            outcome, obj = _upsert(job, prepared, directory, index)
            created_id = obj.id if outcome == "created" else None
            job.session.flush()  # a refused row fails here, inside its savepoint
    except (DomainError, IntegrityError, DataError) as exc:
        directory.forget_row()
        if index is not None and created_id is not None and created_id in index:
            index.remove(created_id)
        tally.reject(prepared.number, [_db_row_error(prepared, exc, tally.context)])
        tally.refused += 1
        return False
    directory.keep_row()
    if outcome == "created":
        tally.created += 1
        tally.created_rows[obj.id] = prepared.number
    elif outcome == "updated":
        tally.updated += 1
    else:
        tally.unchanged += 1
    return True


def _upsert(job: _Job, prepared: Prepared, directory: Directory, index: Any) -> tuple[str, Any]:
    values = directory.resolve_links(job.session, job.actor, prepared, job.settings,
                                     filename=job.filename)
    existing = directory.key_of(prepared)
    if existing is None:
        obj = create_record(job.session, job.actor, job.kind, values, settings=job.settings,
                            commit=False, dup_index=index)
        directory.remember_key(prepared, obj.id)
        return "created", obj
    kind = kind_of(job.kind)
    obj = job.session.get(kind.model, existing)
    patch = _patch(kind, obj, values)
    if not patch:
        return "unchanged", obj
    obj = update_record(job.session, job.actor, job.kind, existing, patch,
                        settings=job.settings, commit=False)
    if index is not None and getattr(obj, "minhash", None) is not None:
        index.add_signature(obj.id, obj.minhash)  # replaces the old text's signature
    return "updated", obj


def _patch(kind: Any, obj: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``values`` that differ from the stored record."""
    current = current_values(kind, obj)
    patch = {k: v for k, v in values.items() if k not in ("source", "external_id")}
    if "ip_items" in patch:
        # A file lists IP numbers only: keep the type, status and dates already on record.
        known = {item.get("number"): item for item in current.get("ip_items") or []}
        patch["ip_items"] = [known.get(item["number"], item) for item in patch["ip_items"]]
    if current.get("status") in WORKFLOW_STATUSES:
        patch.pop("status", None)
    return {k: v for k, v in patch.items() if current.get(k) != v}


def _db_row_error(prepared: Prepared, exc: Exception, ctx: RowContext | None) -> RowError:
    if isinstance(exc, DomainError):
        reason = exc.message
        column = (ctx.header_of.get(str(exc.data.get("field"))) if ctx else None)
    else:
        detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        reason = f"数据库拒绝了此行 / The database refused this row: {detail}"
        column = None
    return RowError(prepared.number, column, None, reason)


def _new_flags(session: Session, kind: str, after_id: int,
               rows: dict[int, int]) -> list[dict[str, Any]]:
    flags = session.scalars(select(DuplicateFlag).where(
        DuplicateFlag.id > after_id, DuplicateFlag.kind == kind).order_by(DuplicateFlag.id))
    return [{"row": rows.get(f.record_id), "record_id": f.record_id, "other_id": f.other_id,
             "other_row": rows.get(f.other_id), "similarity": f.similarity} for f in flags]


def _error_dicts(errors: list[RowError]) -> list[dict[str, Any]]:
    """Row errors as sorted ``{row, column, value, reason}`` dicts, long values cut short."""
    return [{"row": e.row, "column": e.column, "reason": e.reason,
             "value": e.value[:_VALUE_CHARS] + "…" if e.value and len(e.value) > _VALUE_CHARS
             else e.value} for e in sorted(errors, key=lambda e: e.row)]


def _report(job: _Job, tally: _Tally) -> ImportReport:
    written = tally.created + tally.updated + tally.unchanged
    shown = tally.committed or job.dry_run  # otherwise nothing was created or updated
    ctx = tally.context
    return ImportReport(
        accepted=written if tally.committed else tally.valid - tally.refused,
        rejected=len(tally.rejected_rows), created=tally.created if shown else 0,
        updated=tally.updated if shown else 0, errors=_error_dicts(tally.errors),
        flagged_duplicates=len(tally.duplicates), encoding=tally.encoding, format=tally.format,
        run_id=None, unchanged=tally.unchanged if shown else 0, kind=job.kind,
        dry_run=job.dry_run, strict=job.strict, committed=tally.committed,
        header_mapping=dict(ctx.mapping) if ctx else {}, unknown_headers=tally.unknown,
        linked_created=tally.linked if shown else [], duplicates=tally.duplicates[:100],
        preview=tally.preview,
    )


def _record_run(job: _Job, tally: _Tally, report: ImportReport | None = None,
                failure: BaseException | None = None) -> int | None:
    """Commit an ImportRun in a session of its own (the import's transaction is over)."""
    if report is None:  # the import failed as a whole: nothing was accepted
        report = replace(_report(job, tally), accepted=0, created=0, updated=0)
    errors = report.errors[:STORED_ERRORS]
    if failure is not None:
        message = failure.message if isinstance(failure, DomainError) else repr(failure)
        errors.insert(0, {"row": None, "column": None, "value": None, "reason": message})
    run = ImportRun(
        kind=job.kind, filename=job.filename[:300], sha256=_sha256(job.path),
        source=(job.source or (tally.context.default_source if tally.context else ""))[:80],
        mapping=job.profile.name[:80] if job.profile else None, dry_run=job.dry_run,
        strict=job.strict, accepted=report.accepted, rejected=report.rejected,
        created=report.created if report.committed else 0,
        updated=report.updated if report.committed else 0, committed=report.committed,
        errors=errors, actor_id=job.actor.user_id)
    try:
        with Session(bind=job.session.get_bind()) as own:
            own.add(run)
            own.commit()
            return run.id
    except Exception:  # never let the log hide the import's own outcome or exception
        log.exception("could not record the import run of %s", job.filename)
        return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(2**20):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()
