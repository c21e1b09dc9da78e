"""Bulk import, database side: what the database already holds, looked up once per import.

A :class:`Directory` loads the kind's record keys (source, external id) and credit codes, and the
names of the institutions and enterprises rows link to, in a few queries, so a 100,000-row file
does not cost 100,000 lookups. It creates a linked institution or enterprise that does not exist
yet (an achievement's 完成单位, a demand's 企业), and journals every cache change of the row being
written so a row rolled back to its savepoint leaves the caches as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from luodi.auth.actor import Actor
from luodi.config import Settings
from luodi.errors import ValidationFailed
from luodi.inventory.import_rows import Prepared, RowContext
from luodi.inventory.importers import RowError
from luodi.inventory.kinds import kind_of
from luodi.inventory.models import Enterprise, Institution
from luodi.inventory.records import create_record

_PARTIES = ("enterprises", "institutions")  # kinds whose records carry a unique credit code


class Directory:
    """Keys, credit codes and link names of one import, with a per-row undo journal."""

    def __init__(self, session: Session, kind_name: str) -> None:
        """Load the keys (and for parties the credit codes) of ``kind_name``."""
        model: Any = kind_of(kind_name).model
        self.kind = kind_name
        self._session = session
        self._keys: dict[tuple[str, str], int] = {
            (source, ext): rid for rid, source, ext in session.execute(
                select(model.id, model.source, model.external_id)
                .where(model.external_id.is_not(None)))}
        self._codes: dict[str, int] = {}
        if kind_name in _PARTIES:
            self._codes = {code: rid for rid, code in session.execute(
                select(model.id, model.credit_code).where(model.credit_code.is_not(None)))}
        self._institutions: dict[str, int] | None = None
        self._enterprise_codes: dict[str, int] | None = None
        self._enterprise_names: dict[str, int] | None = None
        self._planned: dict[tuple[str, str], int] = {}  # link to create → first row
        self._journal: list[Callable[[], object]] = []
        self._pinned: dict[tuple[type, int], Any] = {}
        self.created_links: list[dict[str, Any]] = []

    # --- keys and identity ---------------------------------------------------------------

    def key_of(self, prepared: Prepared) -> int | None:
        """The id of the stored record with this row's (source, external id), if any."""
        return self._keys.get((prepared.source, prepared.external_id))

    def remember_key(self, prepared: Prepared, record_id: int) -> None:
        """Note a record created for this row (undone if the row rolls back)."""
        key = (prepared.source, prepared.external_id)
        self._keys[key] = record_id
        self._journal.append(lambda: self._keys.pop(key, None))

    def identity_problems(self, prepared: Prepared, ctx: RowContext,
                          seen: dict[tuple[str, str], int],
                          seen_codes: dict[str, int]) -> list[RowError]:
        """A row repeating an earlier row's record, or a credit code owned by another record."""
        errors = []
        key = (prepared.source, prepared.external_id)
        if key in seen:
            header = ctx.header_of.get("external_id")
            what = "编号 / id" if header else "名称与单位 / name and owner"
            errors.append(RowError(prepared.number, header, prepared.external_id if header
                                   else None, f"与第 {seen[key]} 行是同一条记录（{what}相同）/ "
                                   f"Row {seen[key]} already has this record (same {what})."))
        else:
            seen[key] = prepared.number
        code = prepared.values.get("credit_code") if self.kind in _PARTIES else None
        if code and not errors:
            errors.extend(self._code_problems(prepared, ctx, code, seen_codes))
        return errors

    def _code_problems(self, prepared: Prepared, ctx: RowContext, code: str,
                       seen_codes: dict[str, int]) -> list[RowError]:
        header = ctx.header_of.get("credit_code")
        owner = self._codes.get(code)
        if owner is not None and owner != self.key_of(prepared):
            return [RowError(prepared.number, header, code,
                             f"该信用代码已属于记录 #{owner}（另一来源）/ This credit code already "
                             f"belongs to record #{owner} from another source; edit that record "
                             "or import with its source and id.")]
        if code in seen_codes:
            return [RowError(prepared.number, header, code,
                             f"与第 {seen_codes[code]} 行信用代码相同 / Same credit code as row "
                             f"{seen_codes[code]}.")]
        seen_codes[code] = prepared.number
        return []

    # --- links ---------------------------------------------------------------------------

    def _institution_names(self) -> dict[str, int]:
        if self._institutions is None:
            rows = self._session.execute(select(Institution.name, Institution.id)
                                         .order_by(Institution.id.desc()))
            # Highest id first, so the lowest id wins when two institutions share a name.
            self._institutions = {name: rid for name, rid in rows}
        return self._institutions

    def _enterprise_maps(self) -> tuple[dict[str, int], dict[str, int]]:
        if self._enterprise_codes is None or self._enterprise_names is None:
            rows = self._session.execute(select(Enterprise.id, Enterprise.name,
                                                Enterprise.credit_code)
                                         .order_by(Enterprise.id.desc())).all()
            self._enterprise_codes = {code: rid for rid, _name, code in rows if code}
            self._enterprise_names = {name: rid for rid, name, _code in rows}
        return self._enterprise_codes, self._enterprise_names

    def _find_enterprise(self, name: str | None, code: str | None) -> int | None:
        by_code, by_name = self._enterprise_maps()
        if code:  # the code identifies the enterprise; a name match with another code does not
            return by_code.get(code)
        return by_name.get(name) if name else None

    def plan_links(self, prepared: Prepared) -> None:
        """Check pass: note a linked institution or enterprise an import would create."""
        links = prepared.links
        if self.kind == "achievements" and links.institution:
            if links.institution not in self._institution_names():
                self._planned.setdefault(("institutions", links.institution), prepared.number)
        if self.kind == "demands" and (links.enterprise or links.credit_code):
            if self._find_enterprise(links.enterprise, links.credit_code) is None:
                name = links.enterprise or links.credit_code or ""
                self._planned.setdefault(("enterprises", name), prepared.number)

    def planned_links(self) -> list[dict[str, Any]]:
        """What :meth:`plan_links` found, as ``{kind, id: None, name, row}`` dicts."""
        return [{"kind": k, "id": None, "name": n, "row": row}
                for (k, n), row in self._planned.items()]

    def resolve_links(self, session: Session, actor: Actor, prepared: Prepared,
                      settings: Settings, *, filename: str) -> dict[str, Any]:
        """The row's values with links as ids, creating a missing institution or enterprise."""
        values = dict(prepared.values)
        links = prepared.links
        provenance = f"导入 / imported from {filename}, row {prepared.number}"[:500]
        if self.kind == "achievements" and links.institution:
            found = self._institution_names().get(links.institution)
            if found is None:
                found = self._create(session, actor, settings, prepared, "institutions",
                                     {"name": links.institution, "provenance": provenance})
                self._cache(self._institution_names(), links.institution, found)
            values["institution_id"] = self._pin(session, Institution, found)
        elif self.kind == "experts" and links.institution:
            found = self._institution_names().get(links.institution)
            if found is not None:  # a listed institution: link it instead of the free text
                values["institution_id"] = found
                values.pop("affiliation", None)
        elif self.kind == "demands" and (links.enterprise or links.credit_code):
            found = self._enterprise_id(session, actor, settings, prepared, provenance)
            values["enterprise_id"] = self._pin(session, Enterprise, found)
        return values

    def _pin(self, session: Session, model: type, record_id: int) -> int:
        # The session's identity map holds objects weakly: without a reference kept here, the
        # record services would SELECT the same institution again for every row.
        key = (model, record_id)
        if key not in self._pinned:
            self._pinned[key] = session.get(model, record_id)
            self._journal.append(lambda: self._pinned.pop(key, None))
        return record_id

    def _enterprise_id(self, session: Session, actor: Actor, settings: Settings,
                       prepared: Prepared, provenance: str) -> int:
        name, code = prepared.links.enterprise, prepared.links.credit_code
        found = self._find_enterprise(name, code)
        if found is not None:
            return found
        if not name:
            raise ValidationFailed(
                f"没有信用代码为 {code} 的企业，请同时填写企业名称 / No enterprise has the credit "
                f"code {code}; give the enterprise's name so it can be created.",
                data={"field": "credit_code"})
        found = self._create(session, actor, settings, prepared, "enterprises",
                             {"name": name, "credit_code": code, "provenance": provenance})
        by_code, by_name = self._enterprise_maps()
        if code:
            self._cache(by_code, code, found)
        self._cache(by_name, name, found)
        return found

    def _create(self, session: Session, actor: Actor, settings: Settings, prepared: Prepared,
                kind: str, data: dict[str, Any]) -> int:
        data = {k: v for k, v in data.items() if v is not None} | {"source": prepared.source}
        obj = create_record(session, actor, kind, data, settings=settings, commit=False)
        entry = {"kind": kind, "id": obj.id, "name": data["name"], "row": prepared.number}
        self.created_links.append(entry)
        self._journal.append(lambda: self.created_links.remove(entry))
        return int(obj.id)

    def _cache(self, table: dict[str, int], key: str, value: int) -> None:
        table[key] = value
        self._journal.append(lambda: table.pop(key, None))

    # --- the per-row journal -------------------------------------------------------------

    def keep_row(self) -> None:
        """The row was written: keep its cache changes."""
        self._journal.clear()

    def forget_row(self) -> None:
        """The row rolled back to its savepoint: undo its cache changes, newest first."""
        while self._journal:
            self._journal.pop()()
