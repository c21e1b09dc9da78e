"""Account records: organisations, users, login sessions and personal API tokens."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from luodi.db import Base, UTCDateTime, utcnow


class OrgKind(enum.StrEnum):
    """Kinds of organisation on the platform."""

    OPERATOR = "operator"  # 科委 / 技术转移机构: runs the platform
    INSTITUTION = "institution"  # university, institute or hospital TTO
    ENTERPRISE = "enterprise"
    BROKER_AGENCY = "broker_agency"  # 技术经理人 agency
    GOVERNMENT = "government"


class Role(enum.StrEnum):
    """What a user does on the platform; the policy module decides what each role may do."""

    ADMIN = "admin"
    OPERATOR = "operator"
    INSTITUTION_MEMBER = "institution_member"
    ENTERPRISE_MEMBER = "enterprise_member"
    BROKER = "broker"
    VIEWER = "viewer"  # government viewer: dashboards, read-only
    EXPERT = "expert"


# Which organisation kinds a role may belong to (None: no organisation required).
ROLE_ORG_KINDS: dict[Role, set[OrgKind] | None] = {
    Role.ADMIN: None,
    Role.OPERATOR: {OrgKind.OPERATOR},
    Role.INSTITUTION_MEMBER: {OrgKind.INSTITUTION},
    Role.ENTERPRISE_MEMBER: {OrgKind.ENTERPRISE},
    Role.BROKER: {OrgKind.BROKER_AGENCY, OrgKind.OPERATOR},
    Role.VIEWER: {OrgKind.GOVERNMENT, OrgKind.OPERATOR},
    Role.EXPERT: None,
}


class Organisation(Base):
    """An organisation (机构/企业/政府部门) that users belong to and records are owned by."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    region_code: Mapped[str | None] = mapped_column(String(6))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")


class User(Base):
    """A person who logs in. Passwords are Argon2 hashes; TOTP is optional."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(30), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # refuses replay of a used code
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship(back_populates="users")


class LoginSession(Base):
    """A server-side browser session. The cookie holds a random token; only its hash is stored."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    client_addr: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """A personal API token for ``/api/v1`` (``Authorization: Bearer luodi_…``)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists so users can tell tokens apart
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship()
