"""Pydantic shapes of the account API (request bodies and responses)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class ErrorOut(BaseModel):
    """The one error shape."""

    ok: bool = False
    code: str
    error: str
    status: int


class LoginIn(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)
    totp_code: str | None = Field(None, max_length=10)


class OrgOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    name_en: str | None
    kind: str
    region_code: str | None


class OrgIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: str
    name_en: str | None = Field(None, max_length=200)
    region_code: str | None = Field(None, pattern=r"^\d{6}$")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    email: str
    display_name: str
    role: str
    organisation_id: int | None
    is_active: bool
    totp_enabled: bool
    locale: str | None


class UserIn(BaseModel):
    email: str = Field(max_length=254)
    display_name: str = Field("", max_length=120)
    role: str
    password: str = Field(max_length=1024)
    organisation_id: int | None = None
    locale: str | None = Field(None, pattern=r"^(zh_CN|en)$")


class MeOut(BaseModel):
    user: UserOut
    organisation: OrgOut | None
    csrf_token: str | None = None


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    days: int | None = Field(90, ge=1, le=3650)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret; shown once, store it now.")


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: dt.datetime
    actor_id: int | None
    actor_label: str | None
    action: str
    object_type: str | None
    object_id: str | None
    client_addr: str | None
    outcome: str


class ActiveIn(BaseModel):
    active: bool
