"""Pages: bulk import with a preview — upload, dry run, then commit (staff; the service decides).

The upload is parsed from the request stream with the file-size limit enforced while it
arrives, saved as ``<data_dir>/uploads/<token><ext>`` with a small JSON note (who uploaded it,
kind, profile, strict), and dry-run imported for the preview. Committing posts only the token:
the note, not the form, says what to import, so a preview cannot be swapped for another file.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from luodi.errors import DomainError, FileUnreadable, NotFound
from luodi.inventory.importers import ReadLimits
from luodi.inventory.importing import ImportReport, import_file
from luodi.inventory.kinds import KINDS
from luodi.inventory.profiles import list_profiles
from luodi.web.deps import CsrfFailed, Ctx, UserCtx, check_form_csrf
from luodi.web.i18n import translate
from luodi.web.pages.forms import UserFormCtx, field
from luodi.web.templating import render

router = APIRouter(prefix="/imports")

_EXTENSIONS = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".json", ".jsonl", ".ndjson")
_FORM_SLACK = 64 * 1024  # multipart boundaries and the small text fields around the file
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_KEEP_SECONDS = 24 * 3600


def _form_page(ctx: Ctx, *, status: int = 200, error: str | None = None) -> Response:
    return render(ctx.request, "imports/form.html", status_code=status, kinds=list(KINDS),
                  profiles=list_profiles(ctx.session, ctx.actor), error=error)


@router.get("")
def import_form(ctx: UserCtx) -> Response:
    """The upload form: kind, file, mapping profile, strict."""
    return _form_page(ctx)


def _limits(ctx: Ctx) -> ReadLimits:
    return ReadLimits(max_file_bytes=ctx.settings.upload_max_mb * 2**20)


async def _limited(stream: AsyncIterator[bytes], limit: int) -> AsyncGenerator[bytes, None]:
    """Pass the body through, refusing it as soon as it grows past ``limit`` bytes."""
    total = 0
    async for chunk in stream:
        total += len(chunk)
        if total > limit + _FORM_SLACK:
            raise FileUnreadable(f"file too large: the limit is {limit} bytes",
                                 data={"limit": "max_file_bytes"})
        yield chunk


async def _receive(ctx: Ctx) -> FormData:
    if not ctx.request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise FileUnreadable("Choose a file to upload.")
    body = _limited(ctx.request.stream(), _limits(ctx).max_file_bytes)
    parser = MultiPartParser(ctx.request.headers, body, max_files=1, max_fields=20)
    try:
        return await parser.parse()
    except MultiPartException as exc:
        raise FileUnreadable(f"The upload could not be read: {exc.message}") from None


def _uploads(ctx: Ctx) -> Path:
    folder = ctx.settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _prune(folder: Path) -> None:
    """Delete uploads previewed but never committed within a day."""
    cutoff = time.time() - _KEEP_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:  # removed meanwhile by a commit or another prune
            continue


def _save(ctx: Ctx, form: FormData) -> tuple[str, dict[str, Any]]:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise FileUnreadable("Choose a file to upload.")
    name = Path(upload.filename).name
    ext = Path(name).suffix.lower()
    if ext not in _EXTENSIONS:
        raise FileUnreadable(f"Cannot import '{name}': use a CSV, XLSX, JSON or JSONL file.")
    _prune(_uploads(ctx))
    token = secrets.token_urlsafe(16)
    with (_uploads(ctx) / f"{token}{ext}").open("wb") as out:
        shutil.copyfileobj(upload.file, out, 2**20)
    note = {"filename": name, "ext": ext, "kind": str(form.get("kind") or ""),
            "mapping": str(form.get("mapping") or "") or None,
            "strict": form.get("strict") == "1", "user_id": ctx.actor.user_id}
    (_uploads(ctx) / f"{token}.json").write_text(json.dumps(note), encoding="utf-8")
    return token, note


def _run(ctx: Ctx, token: str, note: dict[str, Any], *, dry_run: bool) -> ImportReport:
    path = _uploads(ctx) / f"{token}{note['ext']}"
    return import_file(ctx.session, ctx.actor, note["kind"], path, settings=ctx.settings,
                       mapping=note["mapping"], strict=note["strict"], dry_run=dry_run,
                       filename=note["filename"], limits=_limits(ctx))


def _discard(ctx: Ctx, token: str, note: dict[str, Any] | None) -> None:
    folder = _uploads(ctx)
    (folder / f"{token}.json").unlink(missing_ok=True)
    if note is not None:
        (folder / f"{token}{note['ext']}").unlink(missing_ok=True)


@router.post("/preview")
async def preview(ctx: UserCtx) -> Response:
    """Receive the upload, dry-run it and show what an import would do."""
    form, token, note = None, None, None
    try:
        form = await _receive(ctx)
        check_form_csrf(ctx, str(form.get("csrf_token") or ""))
        token, note = _save(ctx, form)
        await form.close()
        report = await run_in_threadpool(_run, ctx, token, note, dry_run=True)
    except DomainError as exc:
        if token is not None:
            _discard(ctx, token, note)
        if isinstance(exc, CsrfFailed):
            raise
        error = translate(ctx.locale, exc.message)
        return await run_in_threadpool(_form_page, ctx, status=exc.status, error=error)
    finally:
        if form is not None:
            await form.close()  # the spooled upload: closing twice is harmless
    return render(ctx.request, "imports/preview.html", report=report, token=token, note=note,
                  fields=_preview_fields(report))


def _preview_fields(report: ImportReport) -> list[tuple[str, str]]:
    """(canonical field, file header) pairs in file order, the preview table's columns."""
    return [(name, header) for header, name in report.header_mapping.items()]


def _load_note(ctx: Ctx, token: str) -> dict[str, Any]:
    path = _uploads(ctx) / f"{token}.json"
    if not _TOKEN.match(token) or not path.exists():
        raise NotFound("This upload has expired or was already imported; upload it again.")
    note = json.loads(path.read_text(encoding="utf-8"))
    if note.get("user_id") != ctx.actor.user_id:  # someone else's upload: do not confirm it
        raise NotFound("This upload has expired or was already imported; upload it again.")
    return dict(note)


@router.post("/commit")
def commit(ctx: UserFormCtx) -> Response:
    """Import a previewed upload for real and show the result."""
    token = field(ctx, "token")
    note = _load_note(ctx, token)
    try:
        report = _run(ctx, token, note, dry_run=False)
    except DomainError as exc:
        return _form_page(ctx, status=exc.status, error=translate(ctx.locale, exc.message))
    finally:
        _discard(ctx, token, note)
    return render(ctx.request, "imports/result.html", report=report, note=note)
