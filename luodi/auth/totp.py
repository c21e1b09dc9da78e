"""Optional TOTP second factor (RFC 6238): enrol, confirm with a first code, disable."""

from __future__ import annotations

import pyotp
import segno
from sqlalchemy.orm import Session

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.models import User
from luodi.auth.passwords import verify_password
from luodi.auth.policy import authorize
from luodi.errors import NotAuthenticated, ValidationFailed

ISSUER = "luodi"


def begin_enrolment(session: Session, actor: Actor, user: User) -> str:
    """Give the user a fresh secret (not yet active); returns the otpauth:// URI."""
    authorize(session, actor, "account.manage", user)
    user.totp_secret = pyotp.random_base32()
    user.totp_enabled = False
    session.commit()
    return provisioning_uri(user)


def provisioning_uri(user: User) -> str:
    """The otpauth:// URI authenticator apps scan."""
    return pyotp.TOTP(user.totp_secret or "").provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """An inline SVG QR code for ``uri`` (drawn locally — nothing is fetched)."""
    return segno.make(uri, error="m").svg_inline(scale=4)


def confirm_enrolment(session: Session, actor: Actor, user: User, code: str) -> None:
    """Turn TOTP on once the user proves the app shows the right code."""
    authorize(session, actor, "account.manage", user)
    if not user.totp_secret or not pyotp.TOTP(user.totp_secret).verify(code.strip(),
                                                                        valid_window=1):
        raise ValidationFailed("That code does not match. Check the time on your phone.",
                               data={"field": "code"})
    user.totp_enabled = True
    audit.record(session, actor, "totp.enable", obj=("users", user.id))
    session.commit()


def disable(session: Session, actor: Actor, user: User, password: str) -> None:
    """Turn TOTP off; asks for the password again so a borrowed session cannot do it."""
    authorize(session, actor, "account.manage", user)
    if not verify_password(user.password_hash, password):
        raise NotAuthenticated("Wrong password.", code="bad_credentials")
    user.totp_enabled = False
    user.totp_secret = None
    user.totp_last_step = None
    audit.record(session, actor, "totp.disable", obj=("users", user.id))
    session.commit()
