"""The demo data set (演示数据): real public records plus a small illustrative set, and accounts.

What is loaded, and how honest each part is (docs/demo.md says the same for users):

- **CSL papers** (real, Apache-2.0): 1,000 Chinese papers as stand-ins for achievements. CSL has
  no affiliations, so papers are grouped by their CSL category (13 学科门类) into fictional
  faculties of three fictional universities in Beijing, Tianjin and Hebei. Those institutions
  and their regions are illustrative, and their provenance says so.
- **NASA patents** (real, public domain): 1,393 English licensing offers of one US institution.
- **Enterprises and demands** in ``luodi/data/demo/``: written for the demo, fictional, flagged
  ``illustrative`` and named with （示例）.
- **Accounts** with one published password, for a newcomer to log in: refused in production.

Everything goes through the real import path: mapping profiles are saved with the profiles
service and the files are imported with :func:`import_file`. What the mapping layer cannot
express yet (per-record provenance, IP status and expiry, a demand's teaser, keywords and TRL
wanted) is completed afterwards from the same files, see ``_complete_*``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from luodi import audit
from luodi.auth import service as accounts
from luodi.auth.actor import Actor, system_actor
from luodi.auth.models import Organisation, User
from luodi.config import Settings
from luodi.db import utcnow
from luodi.errors import ValidationFailed
from luodi.inventory.importers.mapping import MappingProfile
from luodi.inventory.importing import ImportReport, import_file
from luodi.inventory.kinds import KINDS
from luodi.inventory.models import Achievement, Demand, Enterprise, Institution
from luodi.inventory.profiles import save_profile
from luodi.inventory.records import create_record, update_record
from luodi.inventory.schemas import IpItem

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SAMPLE_DIR = DATA_DIR / "sample"
DEMO_DIR = DATA_DIR / "demo"
DEMO_PASSWORD = "luodi-demo-2026"  # noqa: S105 — published in docs/demo.md; demo only
CSL_FILE, NASA_FILE = "csl_papers_dev.jsonl", "nasa_patents.csv"
PROFILES = ("demo-enterprises", "demo-demands", "csl-papers", "nasa-patents")  # import order
# Columns of the demand file that the demand mapping has no field for yet (see _complete_demands).
DEMAND_ID, DEMAND_SUMMARY = "需求编号", "需求简介"
DEMAND_KEYWORDS, DEMAND_TRL = "关键词", "期望技术成熟度"


@dataclass(frozen=True)
class DemoAccount:
    """A demo login; ``link`` is the record (kind, source, external id) its organisation owns."""

    email: str
    role: str
    display_name: str
    org_name: str | None
    org_kind: str
    link: tuple[str, str, str] | None = None


DEMO_ACCOUNTS = (
    DemoAccount("operator@demo.luodi", "operator", "演示运营人员 Demo operator",
                "落地平台运营中心（示例）", "operator"),
    DemoAccount("tto@demo.luodi", "institution_member", "演示技术转移办公室 Demo TTO",
                "京华示范大学·工学部（样例机构，按CSL学科门类归组）", "institution",
                ("institutions", "demo", "csl-category:工学")),
    DemoAccount("ent@demo.luodi", "enterprise_member", "演示企业用户 Demo enterprise",
                "燕栖智能机器人有限公司（示例）", "enterprise",
                ("enterprises", "demo", "DEMO-E02")),
    DemoAccount("gov@demo.luodi", "viewer", "演示政府用户 Demo government viewer",
                "示例区科技主管部门（演示）", "government"),
)

CSL_PROVENANCE = (
    "CSL 中文科技文献数据集 dev 划分（Li et al., COLING 2022；github.com/ydli-ai/CSL；"
    "Apache-2.0），"
    "论文 {id}，学科：{discipline}（{category}）。这是一篇论文，作为成果的示例替身，并非转化要约；"
    "所属机构按学科门类归组，为演示而设。 / CSL dev split (Li et al., COLING 2022; Apache-2.0), "
    "paper {id}, discipline {discipline}. A paper standing in for an achievement, not a transfer "
    "offer; its institution is a demo grouping by CSL category, not the authors' affiliation."
)
NASA_PROVENANCE = (
    "NASA Patents, data.nasa.gov export (US Government work, public domain). {center}, case "
    "{case}, status in source: {status}. Title only; see technology.nasa.gov for the offer."
)
DEMO_PROVENANCE = (
    "示例数据：由 luodi 项目为演示编写，虚构，不代表任何真实企业或需求（luodi/data/demo/）。 / "
    "Illustrative: written by the luodi project for the demo; fictional."
)


@dataclass
class DemoSummary:
    """What :func:`load_demo` did: one import report per file, record counts and accounts."""

    reports: dict[str, ImportReport]
    counts: dict[str, dict[str, int]]  # kind → source → records
    accounts: list[tuple[str, str, str | None]]  # e-mail, role, organisation
    password: str = DEMO_PASSWORD
    completed: dict[str, int] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        """Rows refused across all demo files (expected: none)."""
        return sum(r.rejected for r in self.reports.values())


def load_demo(session: Session, settings: Settings, sample_dir: Path = SAMPLE_DIR, *,
              if_empty: bool = False) -> DemoSummary | None:
    """Load the demo; None when ``if_empty`` and achievements exist already.

    Safe to run again: every record has a (source, external id), so a second run updates the
    records of the first (nothing is duplicated) and accounts that exist are left alone.
    """
    if if_empty and session.scalar(select(Achievement.id).limit(1)) is not None:
        return None
    if settings.env == "production":
        raise ValidationFailed("The demo creates accounts with a published password; it runs "
                               "only with LUODI_ENV=development or test.")
    sample_dir = Path(sample_dir)
    actor = system_actor()
    for name in PROFILES:
        save_profile(session, actor, demo_profile(name))
    _ensure_institutions(session, actor, settings)
    files = {
        "demo-enterprises": ("enterprises", DEMO_DIR / "enterprises.csv", "demo"),
        "demo-demands": ("demands", DEMO_DIR / "demands.json", "demo"),
        "csl-papers": ("achievements", sample_dir / CSL_FILE, "csl"),
        "nasa-patents": ("achievements", sample_dir / NASA_FILE, "nasa"),
    }
    reports = {
        name: import_file(session, actor, kind, path, settings=settings, mapping=name,
                          source=source)
        for name, (kind, path, source) in files.items()
    }
    completed = {
        "csl": _complete_csl(session, files["csl-papers"][1]),
        "nasa": _complete_nasa(session, files["nasa-patents"][1]),
        "demands": _complete_demands(session, actor, settings, files["demo-demands"][1]),
        "illustrative": _mark_illustrative(session),
    }
    audit.record(session, actor, "demo.load", detail={
        "files": {n: {"accepted": r.accepted, "rejected": r.rejected} for n, r in
                  reports.items()}, "completed": completed})
    session.commit()
    made = _ensure_accounts(session, actor, settings)
    from luodi.push.demo import ensure_push_demo  # push builds on inventory, not the reverse

    made += ensure_push_demo(session, actor, settings, DEMO_PASSWORD)
    from luodi.docking.demo import ensure_docking_demo  # docking builds on push and inventory

    made += ensure_docking_demo(session, actor, settings, DEMO_PASSWORD)
    from luodi.landing.demo import ensure_landing_demo  # landing builds on docking

    ensure_landing_demo(session, actor, settings, DEMO_PASSWORD)
    return DemoSummary(reports, _counts(session), made, completed=completed)


def demo_profile(name: str) -> MappingProfile:
    """One of the demo's mapping profiles, kept as JSON in ``luodi/data/demo/profiles/``."""
    path = DEMO_DIR / "profiles" / f"{name}.json"
    return MappingProfile.from_dict(json.loads(path.read_text(encoding="utf-8")))


def _get_by_key(session: Session, model: Any, source: str, external_id: str) -> Any:
    return session.scalar(select(model).where(model.source == source,
                                              model.external_id == external_id))


def _ensure_institutions(session: Session, actor: Actor, settings: Settings) -> None:
    """Create (or refresh) the institutions the achievement files link to by name."""
    path = DEMO_DIR / "institutions.json"
    for data in json.loads(path.read_text(encoding="utf-8")):
        obj = _get_by_key(session, Institution, data["source"], data["external_id"])
        if obj is None:
            obj = create_record(session, actor, "institutions", data, settings=settings,
                                commit=False)
        elif patch := {k: v for k, v in data.items() if getattr(obj, k) != v}:
            update_record(session, actor, "institutions", obj.id, patch, settings=settings,
                          commit=False)
        obj.illustrative = data["source"] == "demo"  # not a schema field: set beside it
    session.commit()


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _by_external_id(session: Session, model: Any, source: str) -> dict[str, Any]:
    return {o.external_id: o for o in session.scalars(select(model).where(model.source == source))}


def _complete_csl(session: Session, path: Path) -> int:
    """Provenance per paper, and the region of its (illustrative) institution."""
    stored = _by_external_id(session, Achievement, "csl")
    regions = dict(session.execute(select(Institution.id, Institution.region_code)).all())
    changed = 0
    for row in _read_jsonl(path):
        obj = stored.get(row["id"])
        if obj is None:
            continue  # a rejected row: reported by the import already
        values = {"provenance": CSL_PROVENANCE.format(**row),
                  "region_code": regions.get(obj.institution_id)}
        changed += _set(obj, values)
    session.flush()
    return changed


def _set(obj: Any, values: dict[str, Any]) -> int:
    """Assign the values that differ; 1 when something changed (so a re-run reports 0)."""
    diff = {k: v for k, v in values.items() if getattr(obj, k) != v}
    for name, value in diff.items():
        setattr(obj, name, value)
    return 1 if diff else 0


def nasa_ip_items(row: dict[str, str], today: dt.date) -> list[dict[str, Any]]:
    """IP items of one NASA row: the patent when it has a number, else the application.

    The number kept is the file's own text, so a re-import (which lists numbers only) matches it
    and keeps the status and dates set here. Expiry dates are read only for patents: the
    application rows carry placeholder dates such as 1933.
    """
    patent = (row.get("Patent Number") or "").strip()
    if patent and patent != "0":
        expires = _us_date(row.get("Patent Expiration Date") or "")
        item = IpItem(number=patent, expires_on=expires,
                      kind="design" if patent.upper().startswith("D") else "foreign",
                      status="expired" if expires and expires < today else "granted")
    elif (application := (row.get("Application SN") or "").strip()):
        item = IpItem(number=f"US {application}", kind="foreign", status="pending")
    else:
        return []
    return [item.model_dump(mode="json", exclude_none=True)]


def _us_date(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text.strip(), "%m/%d/%Y").date()  # noqa: DTZ007 — a date
    except ValueError:
        return None  # empty or the export's 0000-00-00 placeholder


def _complete_nasa(session: Session, path: Path) -> int:
    """IP items with status and expiry, and the centre and case in the provenance."""
    stored = _by_external_id(session, Achievement, "nasa")
    today = utcnow().date()
    changed = 0
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            obj = stored.get(row["Case Number"].strip())
            if obj is None:
                continue
            provenance = NASA_PROVENANCE.format(center=row["Center"], case=row["Case Number"],
                                                status=row["Status"])
            changed += _set(obj, {"provenance": provenance,
                                  "ip_items": nasa_ip_items(row, today)})
    session.flush()
    return changed


def _complete_demands(session: Session, actor: Actor, settings: Settings, path: Path) -> int:
    """Teaser, keywords and TRL wanted from the demand file; publish drafts."""
    stored = _by_external_id(session, Demand, "demo")
    changed = 0
    for row in json.loads(path.read_text(encoding="utf-8")):
        obj = stored.get(row[DEMAND_ID])
        if obj is None:
            continue
        patch: dict[str, Any] = {}
        if obj.summary != row[DEMAND_SUMMARY]:
            patch["summary"] = row[DEMAND_SUMMARY]
        if not set(row[DEMAND_KEYWORDS]) <= set(obj.keywords or []):
            patch["keywords"] = row[DEMAND_KEYWORDS]  # enrichment adds its own after these
        trl = row.get(DEMAND_TRL)
        if trl and obj.trl_wanted != int(trl.removeprefix("TRL")):
            patch["trl_wanted"] = trl
        if obj.status == "draft":  # never undo a workflow status (expired, in docking …)
            patch["status"] = "published"
        if patch:
            update_record(session, actor, "demands", obj.id, patch, settings=settings,
                          commit=False)
            changed += 1
    return changed


def _mark_illustrative(session: Session) -> int:
    """Flag everything written by us; the UI shows the flag as 示例 / illustrative."""
    changed = 0
    for model in (Enterprise, Demand):
        for obj in session.scalars(select(model).where(model.source == "demo")):
            changed += _set(obj, {"illustrative": True, "provenance": DEMO_PROVENANCE})
    session.flush()
    return changed


def _ensure_accounts(session: Session, actor: Actor,
                     settings: Settings) -> list[tuple[str, str, str | None]]:
    """Demo organisations (linked to one institution and one enterprise) and demo users."""
    made = []
    for spec in DEMO_ACCOUNTS:
        org = _ensure_org(session, actor, spec.org_name, spec.org_kind)
        if spec.link is not None:
            _link_record(session, actor, settings, spec.link, org)
        if session.scalar(select(User.id).where(func.lower(User.email) == spec.email)) is None:
            accounts.create_user(session, actor, accounts.NewUser(
                email=spec.email, display_name=spec.display_name, role=spec.role,
                password=DEMO_PASSWORD, organisation_id=org.id if org else None),
                min_password=settings.password_min_length)
        made.append((spec.email, spec.role, spec.org_name))
    return made


def _ensure_org(session: Session, actor: Actor, name: str | None,
                kind: str) -> Organisation | None:
    if name is None:
        return None
    org = session.scalar(select(Organisation).where(Organisation.name == name))
    return org or accounts.create_organisation(session, actor, name=name, kind=kind)


def _link_record(session: Session, actor: Actor, settings: Settings,
                 link: tuple[str, str, str], org: Organisation | None) -> None:
    kind_name, source, external_id = link
    obj = _get_by_key(session, KINDS[kind_name].model, source, external_id)
    if obj is not None and org is not None and obj.organisation_id != org.id:
        update_record(session, actor, kind_name, obj.id, {"organisation_id": org.id},
                      settings=settings)


def _counts(session: Session) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for name in ("institutions", "enterprises", "achievements", "demands"):
        model: Any = KINDS[name].model
        rows = session.execute(select(model.source, func.count()).group_by(model.source))
        counts[name] = {source: n for source, n in rows.all()}
    return counts


def summary_lines(summary: DemoSummary) -> list[str]:
    """The summary the CLI prints: imports, records per kind and source, accounts."""
    lines = ["Demo data loaded (real: CSL papers, NASA patents; illustrative: demo enterprises, "
             "demands and the CSL institutions — see docs/demo.md)."]
    for name, report in summary.reports.items():
        lines.append(f"  import {name}: accepted {report.accepted}, rejected {report.rejected}, "
                     f"created {report.created}, updated {report.updated}, "
                     f"unchanged {report.unchanged}")
        lines.extend(f"    row {e['row']} {e['column'] or ''}: {e['reason']}"
                     for e in report.errors[:20])
    for kind, by_source in summary.counts.items():
        parts = ", ".join(f"{source} {n}" for source, n in sorted(by_source.items()))
        lines.append(f"  {kind}: {sum(by_source.values())} ({parts})")
    lines.append(f"Demo accounts (password for all: {summary.password}):")
    lines.extend(f"  {email:<22} {role:<18} {org or ''}" for email, role, org in summary.accounts)
    return lines
