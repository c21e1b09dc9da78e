"""`luodi push run`, `luodi push tick`, `luodi export pushes|judgments` and the schedule."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from luodi.cli import app
from luodi.push.exports import PUSH_HEADERS
from luodi.push.ledger import OutboxMessage, Push, PushCycle
from luodi.push.schedule import due_period, tick
from tests.push.delivery_fixtures import SmtpSink
from tests.push.world import build, loose

runner = CliRunner()
REQUIRED = {"cycle", "pushes", "recipients", "cap_per_recipient", "coverage", "exposure_gini",
            "mean_score"}


@pytest.fixture
def cli_env(env, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name, value in {"MATCH_EMBEDDERS": "usem3", "PUSH_MIN_SCORE": "-100",
                        "PUSH_CAP_PER_RECIPIENT": "2", "PUSH_MIN_RECIPIENTS": "1",
                        "JOBS_URL": "immediate", "SMTP_PORT": "9"}.items():
        monkeypatch.setenv(f"LUODI_{name}", value)
    return env


def test_run_prints_the_plan_and_greedy_as_json(cli_env, session, settings) -> None:  # type: ignore[no-untyped-def]
    build(session, settings)
    dry = runner.invoke(app, ["push", "run", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    figures = json.loads(dry.output)
    assert REQUIRED <= set(figures) and REQUIRED - {"cycle"} <= set(figures["greedy"]) | {
        "cap_per_recipient"}
    assert figures["cycle"] is None and figures["cap_per_recipient"] == 2
    assert session.scalar(select(func.count()).select_from(Push)) == 0
    real = runner.invoke(app, ["push", "run", "--json"])
    assert real.exit_code == 0, real.output
    written = json.loads(real.output)
    assert written["cycle"] and written["pushes"] == figures["pushes"]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Push)) == figures["pushes"]
    table = runner.invoke(app, ["push", "run", "--dry-run"])
    assert "greedy top-k" in table.output and "coverage" in table.output


def test_export_pushes_and_judgments(cli_env, session, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    build(session, settings)
    assert runner.invoke(app, ["push", "run"]).exit_code == 0
    target = tmp_path / "pushes.csv"
    result = runner.invoke(app, ["export", "pushes", str(target), "--locale", "en"])
    assert result.exit_code == 0, result.output
    with target.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert set(PUSH_HEADERS) >= {"cycle", "recipient", "item", "score", "channel", "status",
                                 "reason"}
    assert list(rows[0]) == PUSH_HEADERS
    assert {r["channel"] for r in rows} == {"inbox", "email"}
    assert rows[0]["reason"][0].isascii()  # --locale en
    folder = tmp_path / "judged"
    result = runner.invoke(app, ["export", "judgments", str(folder)])
    assert result.exit_code == 0 and "0 judgments" in result.output
    assert (folder / "qrels.tsv").read_text(encoding="utf-8") == "query-id\tcorpus-id\tscore\n"


def test_due_period_is_the_latest_firing() -> None:
    monday = "0 1 * * 1"
    sunday = dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC)
    assert due_period(monday, sunday) == "2026-11-23T01:00Z"
    assert due_period(monday, dt.datetime(2026, 11, 30, 1, 0, 30, tzinfo=dt.UTC)) == \
        "2026-11-30T01:00Z"
    assert due_period("*/15 * * * *", sunday + dt.timedelta(minutes=7)) == "2026-11-29T10:00Z"
    assert due_period("", sunday) is None
    with pytest.raises(ValueError, match="5-field"):
        due_period("daily", sunday)


def test_the_tick_plans_a_due_period_once_and_delivers(session, settings) -> None:  # type: ignore[no-untyped-def]
    build(session, settings)
    with SmtpSink() as smtp:
        s = loose(smtp.settings(settings))
        first = tick(s)
        assert first["planned"] is not None and first["settled"] == 1
        second = tick(s)
    assert second["planned"] is None
    assert session.scalar(select(func.count()).select_from(PushCycle)) == 1
    cycle = session.scalar(select(PushCycle))
    assert cycle.period == due_period(s.push_schedule, dt.datetime.now(dt.UTC))
    assert cycle.status == "delivered"
    statuses = set(session.scalars(select(OutboxMessage.status)))
    assert statuses == {"sent"} and len(smtp.messages) == 3
