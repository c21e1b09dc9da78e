"""The CLI through Typer's runner, on the test database named by LUODI_* variables."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, text
from typer.testing import CliRunner

from luodi import __version__
from luodi.auth.models import Organisation, User
from luodi.cli import app
from luodi.db import Database
from tests.factories import make_org, make_user

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.stdout


def test_db_upgrade_and_current(env) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["db", "current"])
    assert result.exit_code == 0 and result.stdout.strip() not in ("", "(empty)")


def test_user_create_with_new_org(env, session) -> None:
    result = runner.invoke(app, ["user", "create", "li@example.cn", "--role", "institution_member",
                                 "--name", "李四", "--org", "北京理工示范研究院",
                                 "--org-kind", "institution", "--generate"])
    assert result.exit_code == 0, result.output
    assert "Password:" in result.stdout
    user = session.scalar(select(User).where(User.email == "li@example.cn"))
    assert user and user.organisation.name == "北京理工示范研究院"


def test_user_create_reports_domain_errors(env) -> None:
    result = runner.invoke(app, ["user", "create", "bad@example.cn", "--role", "enterprise_member",
                                 "--password", "long enough password"])
    assert result.exit_code == 1
    assert "must belong to an organisation" in result.output


def test_init_creates_admin_once(env) -> None:
    first = runner.invoke(app, ["init"])
    assert first.exit_code == 0 and "admin@luodi.local" in first.stdout
    assert (env.data_dir / "initial-admin.txt").exists()
    second = runner.invoke(app, ["init"])
    assert second.exit_code == 0 and "exists already" in second.stdout


def _snapshot(db: Database) -> dict[str, list[tuple]]:
    with db.engine.connect() as conn:
        return {
            table: [tuple(r) for r in conn.execute(text(f"select * from {table} order by id"))]
            for table in ("organisations", "users", "audit_events")
        }


def test_backup_restore_round_trip(env, session, db, tmp_path: Path) -> None:
    org = make_org(session, "institution", "清华大学")
    make_user(session, "institution_member", org=org, email="wang@example.cn")
    before = _snapshot(db)
    backup = tmp_path / "luodi.backup"
    result = runner.invoke(app, ["backup", str(backup)])
    assert result.exit_code == 0, result.output
    assert backup.stat().st_size > 0
    # change everything after the backup: a new org, a renamed org, a deleted user
    make_org(session, "enterprise", "后来的企业")
    session.get(Organisation, org.id).name = "改名"
    session.execute(text("delete from users where email = 'wang@example.cn'"))
    session.commit()
    session.close()
    result = runner.invoke(app, ["restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    db.dispose()
    after = _snapshot(db)
    # the restore itself is audited after the copy, so compare everything up to it
    assert after["organisations"] == before["organisations"]
    assert after["users"] == before["users"]
    assert after["audit_events"][: len(before["audit_events"])] == before["audit_events"]


def test_restore_refuses_garbage(env, tmp_path: Path) -> None:
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"this is not a backup")
    result = runner.invoke(app, ["restore", str(junk), "--yes"])
    assert result.exit_code == 2
    assert "Error" in result.output


def test_bad_settings_give_a_clear_message(monkeypatch) -> None:
    monkeypatch.setenv("LUODI_ENV", "production")
    monkeypatch.setenv("LUODI_SECRET_KEY", "changethis")
    result = runner.invoke(app, ["db", "current"])
    assert result.exit_code == 2
    assert "LUODI_SECRET_KEY" in result.output
