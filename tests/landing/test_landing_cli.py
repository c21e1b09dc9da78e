"""`luodi stats` and `luodi export deals`."""

from __future__ import annotations

import csv
import datetime as dt
import json

from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from luodi.audit import AuditEvent
from luodi.cli import app
from luodi.landing.exports import DEAL_HEADERS
from tests.landing.stats_fixtures import add_case, add_deal, at, ledger_world

runner = CliRunner()
FULL = [("accepted", 1), ("contacts_revealed", 2), ("negotiating", 5), ("agreed", 9),
        ("landed", 12)]


def _ledger(session) -> None:  # type: ignore[no-untyped-def]
    w = ledger_world(session)
    cases = [add_case(session, w, opened=at(2026, 1, 3), trail=FULL) for _ in range(3)]
    add_deal(session, w, cases[0], amount="120.5", signed_on=dt.date(2026, 1, 20),
             landing="120116", registration_no="1101082026000001")
    add_deal(session, w, cases[1], amount="80", signed_on=dt.date(2026, 2, 20),
             landing="310115", field_code=None)
    add_deal(session, w, cases[2], amount="40", signed_on=dt.date(2026, 1, 25),
             landing="130638", status="cancelled")


def test_stats_json_and_table(env, session) -> None:  # type: ignore[no-untyped-def]
    _ledger(session)
    result = runner.invoke(app, ["stats", "--from", "2026-01-01", "--to", "2026-01-31",
                                 "--today", "2026-03-01", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["period"] == {"from": "2026-01-01", "to": "2026-01-31", "today": "2026-03-01",
                              "days": "UTC"}
    assert body["landings"]["count"] == 1 and body["landings"]["value_wan"] == 120.5
    assert body["jjj_share_count"] == 1.0 and body["funnel"]["opened"] == 3
    assert body["funnel"]["landed_then_cancelled"] == 1
    table = runner.invoke(app, ["stats", "--today", "2026-03-01"])
    assert table.exit_code == 0, table.output
    assert "Landings: 2 deals, 200.50 万元" in table.output
    assert "京津冀 share: 50.0% by count, 60.1% by value" in table.output
    assert "天津市 滨海新区" in table.output and "negotiating" in table.output


def test_stats_rejects_a_bad_day(env) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["stats", "--from", "2026-13-01"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
    reversed_period = runner.invoke(app, ["stats", "--from", "2026-02-01", "--to", "2026-01-01"])
    assert reversed_period.exit_code == 1 and "validation" in reversed_period.output


def test_export_deals_csv_for_a_period_is_audited(env, session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _ledger(session)
    target = tmp_path / "deals.csv"
    result = runner.invoke(app, ["export", "deals", str(target), "--from", "2026-01-01",
                                 "--to", "2026-01-31"])
    assert result.exit_code == 0, result.output
    assert "Exported 2 deals" in result.output
    with target.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == DEAL_HEADERS
    assert [(r["amount"], r["status"], r["landing_region"]) for r in rows] == [
        ("120.50", "signed", "天津市 滨海新区"), ("40.00", "cancelled", "河北省 保定市 雄县")]
    assert rows[0]["registration_no"] == "1101082026000001"
    assert rows[0]["institution"].startswith("北京理工测试大学") and rows[0]["broker"]
    session.expire_all()
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "deals.export")).one()
    assert audit.detail == {"rows": 2, "file": "deals.csv", "from": "2026-01-01",
                            "to": "2026-01-31"}


def test_export_deals_xlsx_and_misplaced_options(env, session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _ledger(session)
    target = tmp_path / "deals.xlsx"
    result = runner.invoke(app, ["export", "deals", str(target)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(target, read_only=True)["deals"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == DEAL_HEADERS and len(rows) == 4
    assert sum(r[2] for r in rows[1:]) == 240.5  # amounts stay numbers, in 万元
    wrong = runner.invoke(app, ["export", "achievements", str(tmp_path / "a.csv"),
                                "--from", "2026-01-01"])
    assert wrong.exit_code == 2 and "deals only" in wrong.output
