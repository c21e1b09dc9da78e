"""The demo data set: loads every sample row through the real import path, once, honestly."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import itertools
import json
import re
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from luodi.auth.actor import system_actor
from luodi.auth.models import Organisation, User
from luodi.cli import app as cli_app
from luodi.config import Settings
from luodi.errors import ValidationFailed
from luodi.inventory import demo
from luodi.inventory.models import Achievement, Demand, Enterprise, Institution
from luodi.inventory.profiles import get_profile
from tests.conftest import SECRET
from tests.factories import login

runner = CliRunner()
DEMO_EMAILS = ("operator@demo.luodi", "tto@demo.luodi", "ent@demo.luodi", "gov@demo.luodi",
               "e01@demo.luodi", "e18@demo.luodi")


def _one(session, model, source, external_id):  # type: ignore[no-untyped-def]
    return session.scalars(select(model).where(model.source == source,
                                               model.external_id == external_id)).one()


@pytest.mark.slow
def test_full_demo_loads_every_sample_row_once(session, settings, client) -> None:
    started = time.perf_counter()
    summary = demo.load_demo(session, settings)
    first_load = time.perf_counter() - started
    assert summary is not None
    assert summary.rejected == 0, {n: r.errors[:5] for n, r in summary.reports.items()}
    assert summary.counts == {
        "institutions": {"demo": 13, "nasa": 1}, "enterprises": {"demo": 18},
        "achievements": {"csl": 1000, "nasa": 1393}, "demands": {"demo": 26}}

    paper = _one(session, Achievement, "csl", "csl-dev-0000")
    assert paper.status == "published" and paper.trl is None and paper.price_wan is None
    assert paper.institution.name.startswith("京华示范大学·工学部（样例机构")
    assert paper.institution.illustrative and "illustrative" in paper.institution.provenance
    assert paper.region_code == paper.institution.region_code == "110108"
    assert "CSL" in paper.provenance and "兵器科学与技术" in paper.provenance
    assert "Lyapunov函数" in paper.keywords and not paper.illustrative
    with_field = session.scalar(select(func.count()).select_from(Achievement).where(
        Achievement.source == "csl", Achievement.field_code.is_not(None)))
    assert with_field > 900  # suggested by enrichment, never typed in

    patent = _one(session, Achievement, "nasa", "ARC-14048-1")
    assert patent.language == "en" and patent.transfer_modes == ["license"]
    assert patent.institution.country == "US" and patent.region_code is None
    assert patent.ip_items == [{"number": "5694939", "kind": "foreign", "status": "expired",
                                "expires_on": "2015-10-03"}]
    assert "NASA Ames Research Center" in patent.provenance
    application = _one(session, Achievement, "nasa", "KSC-12871")
    assert application.ip_items == [{"number": "US 13/033,085", "kind": "foreign",
                                     "status": "pending"}]

    demands = session.scalars(select(Demand)).all()
    assert {d.status for d in demands} == {"published"}
    assert all(d.illustrative and d.enterprise.illustrative for d in demands)
    assert sum(d.confidential for d in demands) == 4
    assert sum(d.language == "en" for d in demands) == 3
    assert sum(d.trl_wanted is not None for d in demands) == 25
    assert all(d.summary and d.budget_max_wan and d.deadline for d in demands)
    regions = {e.region_code[:2] for e in session.scalars(select(Enterprise))}
    assert {"11", "12", "13"} <= regions and len(regions) > 3

    for email in DEMO_EMAILS:
        client.cookies.clear()  # a fresh visitor each time
        login(client, email, demo.DEMO_PASSWORD)
        assert client.get("/api/v1/me").json()["user"]["email"] == email
    tto = session.scalar(select(User).where(User.email == "tto@demo.luodi"))
    assert paper.institution.organisation_id == tto.organisation_id
    ent = session.scalar(select(User).where(User.email == "ent@demo.luodi"))
    assert _one(session, Enterprise, "demo", "DEMO-E02").organisation_id == ent.organisation_id

    started = time.perf_counter()
    again = demo.load_demo(session, settings)
    second_load = time.perf_counter() - started
    assert again is not None and again.counts == summary.counts
    assert all(r.created == 0 and r.rejected == 0 for r in again.reports.values())
    assert again.completed == {"csl": 0, "nasa": 0, "demands": 0, "illustrative": 0}
    # the four role accounts, a member for each of the 17 other demo enterprises (push) and
    # the broker (docking)
    assert session.scalar(select(func.count()).select_from(User)) == 22
    assert session.scalar(select(func.count()).select_from(Organisation)) == 22
    from luodi.docking.models import Case

    interested = session.scalar(select(Case).where(Case.state == "interested"))
    assert "机器人" in interested.achievement.title  # ent@ (a robot maker) wants a robot paper
    assert session.scalar(select(func.count()).select_from(Enterprise).where(
        Enterprise.source == "demo", Enterprise.organisation_id.is_(None))) == 0
    from luodi.inventory.catalogue_models import Catalogue
    from luodi.push.demo import CATALOGUE_NAME

    [listed] = session.scalars(select(Catalogue)).all()
    assert listed.name == CATALOGUE_NAME and listed.published_version == 1
    assert demo.load_demo(session, settings, if_empty=True) is None
    print(f"\ndemo load: first {first_load:.1f} s, again {second_load:.1f} s")


def _small_sample(target: Path, rows: int = 25) -> Path:
    """The first rows of each sample file (the whole set is tested above)."""
    target.mkdir()
    with (demo.SAMPLE_DIR / demo.CSL_FILE).open(encoding="utf-8") as fh:
        (target / demo.CSL_FILE).write_text("".join(itertools.islice(fh, rows)), "utf-8")
    with (demo.SAMPLE_DIR / demo.NASA_FILE).open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        with (target / demo.NASA_FILE).open("w", encoding="utf-8", newline="") as out:
            csv.writer(out).writerows(itertools.islice(reader, rows + 1))
    return target


def test_cli_demo_if_empty_and_rerun(env, session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sample = _small_sample(tmp_path / "sample")
    first = runner.invoke(cli_app, ["demo", "--if-empty", "--sample-dir", str(sample)])
    assert first.exit_code == 0, first.output
    assert demo.DEMO_PASSWORD in first.output and "achievements: 50" in first.output
    assert "rejected 0" in first.output and "rejected 1" not in first.output
    skipped = runner.invoke(cli_app, ["demo", "--if-empty", "--sample-dir", str(sample)])
    assert skipped.exit_code == 0 and "not loaded" in skipped.output
    again = runner.invoke(cli_app, ["demo", "--sample-dir", str(sample)])
    assert again.exit_code == 0, again.output
    assert "created 0" in again.output and "created 25" not in again.output
    assert session.scalar(select(func.count()).select_from(Achievement)) == 50
    assert session.scalar(select(func.count()).select_from(Institution)) == 14
    assert session.scalar(select(func.count()).select_from(User)) == 22


def test_profiles_are_saved_through_the_service(session, settings, tmp_path) -> None:
    demo.load_demo(session, settings, _small_sample(tmp_path / "sample", rows=3))
    for name in demo.PROFILES:
        assert get_profile(session, system_actor(), name) == demo.demo_profile(name)


def test_demo_refuses_production(session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    production = Settings(env="production", secret_key=SECRET, database_url="sqlite://",
                          data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValidationFailed, match="published password"):
        demo.load_demo(session, production)
    assert session.scalar(select(func.count()).select_from(Institution)) == 0


def test_nasa_ip_items() -> None:
    today = dt.date(2026, 1, 1)
    issued = {"Patent Number": "8424941", "Application SN": "12/564085",
              "Patent Expiration Date": "06/16/2030"}
    assert demo.nasa_ip_items(issued, today) == [
        {"number": "8424941", "kind": "foreign", "status": "granted", "expires_on": "2030-06-16"}]
    design = {"Patent Number": "D628,609", "Patent Expiration Date": ""}
    assert demo.nasa_ip_items(design, today) == [
        {"number": "D628,609", "kind": "design", "status": "granted"}]
    placeholder = {"Patent Number": "0", "Application SN": "13/485,721",
                   "Patent Expiration Date": "0000-00-00"}
    assert demo.nasa_ip_items(placeholder, today) == [
        {"number": "US 13/485,721", "kind": "foreign", "status": "pending"}]
    assert demo.nasa_ip_items({"Patent Number": "", "Application SN": ""}, today) == []


def test_packaged_sample_matches_its_attribution() -> None:
    note = (demo.SAMPLE_DIR / "ATTRIBUTION.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"`([\w.]+)` \| `([0-9a-f]{64})`", note))
    assert set(listed) == {demo.CSL_FILE, demo.NASA_FILE}
    for name, digest in listed.items():
        assert hashlib.sha256((demo.SAMPLE_DIR / name).read_bytes()).hexdigest() == digest
    assert "Apache-2.0" in note and "public domain" in note


def test_demo_files_are_labelled_illustrative() -> None:
    rows = list(csv.DictReader((demo.DEMO_DIR / "enterprises.csv").open(encoding="utf-8")))
    assert all(r["企业名称"].endswith("（示例）") and "示例企业" in r["企业简介"] for r in rows)
    demands = json.loads((demo.DEMO_DIR / "demands.json").read_text(encoding="utf-8"))
    names = {r["企业名称"] for r in rows}
    assert len(demands) == 26 and all(d["需求方"] in names for d in demands)
