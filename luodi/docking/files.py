"""Dossier files of a docking case (尽调资料): uploaded any time, read only after an NDA.

Files are stored under ``settings.data_dir / "dossiers"`` by a random name (the uploader's
filename never touches the file system) with their SHA-256 kept, so a read can tell a damaged
file from a good one. The parties, the broker and staff may upload before the NDA — preparing
the dossier is part of negotiating it — but nobody reads one until ``case.nda_at`` is set, and
every read is an audit line committed with it. The trail records that a file was added (its
id and size), never its name: the trail is open to the parties before the NDA.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import unicodedata
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.orm import Session

from luodi import audit
from luodi.auth.actor import Actor
from luodi.config import Settings
from luodi.docking.access import get_case_for
from luodi.docking.cases import atomic
from luodi.docking.models import DossierFile
from luodi.docking.trail import record_event
from luodi.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed

__all__ = ["SAFE_TYPES", "content_disposition", "dossier_dir", "read_file", "served_type",
           "upload_file"]

# Types served as themselves on download; anything else (HTML, SVG, scripts…) is served as
# application/octet-stream so a browser never renders an uploaded file inside the site.
SAFE_TYPES = frozenset({
    "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain",
    "text/csv", "application/zip", "application/msword", "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
})
FALLBACK_TYPE = "application/octet-stream"


class FileDamaged(DomainError):
    """A stored dossier file no longer matches the checksum taken when it was uploaded."""

    code = "file_damaged"
    status = 500


def dossier_dir(settings: Settings) -> Path:
    """Where dossier files live (created on first use, readable by the server only)."""
    folder = settings.data_dir / "dossiers"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def served_type(content_type: str | None) -> str:
    """The Content-Type to serve a stored file with: its own if safe, else octet-stream."""
    base = (content_type or "").split(";")[0].strip().lower()
    return base if base in SAFE_TYPES else FALLBACK_TYPE


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the UTF-8 name (RFC 6266 / 5987)."""
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_"
                         for c in filename) or "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _clean_filename(filename: str) -> str:
    # Keep the last path part only and drop control characters: the name is shown, not used.
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if not name or name in (".", ".."):
        raise ValidationFailed("请给文件一个名称 / The file needs a name.",
                               data={"field": "filename"})
    return name[-255:]


def _check_size(settings: Settings, data: bytes) -> None:
    if not data:
        raise ValidationFailed("文件是空的 / The file is empty.", data={"field": "file"})
    if len(data) > settings.dossier_max_mb * 2**20:
        raise ValidationFailed(
            f"文件超过 {settings.dossier_max_mb} MB / The file is larger than "
            f"{settings.dossier_max_mb} MB.", code="file_too_large", status=413,
            data={"field": "file", "max_mb": settings.dossier_max_mb})


def _store(settings: Settings, data: bytes) -> str:
    name = secrets.token_hex(20)
    # O_EXCL: never overwrite; 0o600: other local users have no business reading dossiers.
    fd = os.open(dossier_dir(settings) / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return name


def upload_file(session: Session, actor: Actor, settings: Settings, case_id: int, *,
                filename: str, content_type: str, data: bytes) -> DossierFile:
    """Add a file to a case's dossier (parties, broker, staff; not on a closed case).

    At most ``settings.dossier_max_mb``; the event and the audit line are written in the
    transaction that records the file, and the stored bytes are removed if it fails.
    """
    with atomic(session):
        case = get_case_for(session, actor, case_id)
        if case.state == "closed":
            raise Conflict("案件已关闭，不能再上传资料 / A closed case takes no more files.",
                           data={"state": case.state})
        name = _clean_filename(filename)
        _check_size(settings, data)
        stored = _store(settings, data)
        try:
            row = DossierFile(case_id=case.id, filename=name,
                              content_type=(content_type or FALLBACK_TYPE)[:120],
                              size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                              stored_as=stored, uploaded_by_id=actor.user_id)
            session.add(row)
            session.flush()
            record_event(session, case, actor, "file", action="upload",
                         detail={"file_id": row.id, "size": row.size})
            audit.record(session, actor, "cases.file_upload", obj=("case_files", row.id),
                         detail={"case_id": case.id, "filename": name, "sha256": row.sha256})
            session.commit()
        except Exception:
            (dossier_dir(settings) / stored).unlink(missing_ok=True)
            raise
    return row


def _load(settings: Settings, row: DossierFile) -> bytes:
    folder = dossier_dir(settings).resolve()
    path = (folder / row.stored_as).resolve()
    if path.parent != folder or not path.is_file():
        raise NotFound("资料文件已不存在 / The stored file is missing.")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise FileDamaged("资料文件已损坏 / The stored file is damaged.")
    return data


def read_file(session: Session, actor: Actor, settings: Settings, case_id: int,
              file_id: int) -> tuple[DossierFile, bytes]:
    """A dossier file and its bytes, once an NDA is recorded; every read is audited."""
    with atomic(session):
        case = get_case_for(session, actor, case_id)
        if case.nda_at is None:
            audit.record_now(session, actor, "cases.file_view", obj=("cases", case.id),
                             outcome="denied", detail={"file_id": file_id})
            raise PermissionDenied("签署保密协议后才能查看尽调资料 / Dossier files open once an "
                                   "NDA is recorded.")
        row = session.get(DossierFile, file_id)
        if row is None or row.case_id != case.id:
            raise NotFound("没有这个资料文件 / No such file.")
        data = _load(settings, row)
        audit.record(session, actor, "cases.file_view", obj=("case_files", row.id),
                     detail={"case_id": case.id, "filename": row.filename})
        session.commit()
    return row, data
