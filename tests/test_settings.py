"""Settings refuse unsafe secrets, and every setting is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from luodi.config import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


@pytest.mark.parametrize("secret", ["", "changethis", "luodi", "short-but-not-default"])
def test_refuses_unsafe_secret_outside_development(secret: str) -> None:
    with pytest.raises(ValidationError, match="LUODI_SECRET_KEY"):
        Settings(env="production", secret_key=secret, _env_file=None)  # type: ignore[call-arg]


def test_development_tolerates_missing_secret() -> None:
    settings = Settings(env="development", _env_file=None)  # type: ignore[call-arg]
    assert len(settings.secret_key.get_secret_value()) >= 32


def test_reads_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUODI_ENV", "development")
    monkeypatch.setenv("LUODI_DEFAULT_LOCALE", "en")
    monkeypatch.setenv("LUODI_DATABASE_URL", "postgresql+psycopg://u@h/db")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.default_locale == "en"
    assert settings.resolved_database_url == "postgresql+psycopg://u@h/db"


def test_sqlite_default_lives_in_data_dir(tmp_path: Path) -> None:
    settings = Settings(env="development", data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    assert settings.resolved_database_url == f"sqlite:///{tmp_path}/luodi.db"


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"`(LUODI_[A-Z0-9_]+)`", DOCS.read_text(encoding="utf-8")))
    expected = {f"LUODI_{name.upper()}" for name in Settings.model_fields}
    missing = expected - documented
    assert not missing, f"add to docs/configuration.md: {sorted(missing)}"
    stale = documented - expected
    assert not stale, f"docs/configuration.md lists unknown settings: {sorted(stale)}"


def test_every_setting_has_a_description() -> None:
    assert all(f.description for f in Settings.model_fields.values())
