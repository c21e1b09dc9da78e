"""Password hashing with Argon2id (argon2-cffi defaults, RFC 9106 low-memory profile)."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from luodi.errors import ValidationFailed

_hasher = PasswordHasher()
# A real hash to verify against when the account does not exist, so the response time does not
# reveal which e-mail addresses are registered.
_DUMMY_HASH = _hasher.hash("luodi-dummy-password-for-timing")


def use_cheap_hashing_for_tests() -> None:
    """Switch to argon2's CHEAPEST profile. Tests only: the default costs ~0.4 s per hash here."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    _DUMMY_HASH = _hasher.hash("luodi-dummy-password-for-timing")


def check_password_policy(password: str, *, min_length: int) -> None:
    """Enforce length only — no composition rules (NIST SP 800-63B §5.1.1.2)."""
    if len(password) < min_length:
        raise ValidationFailed(
            f"The password must be at least {min_length} characters long.",
            data={"field": "password", "min_length": min_length},
        )
    if len(password) > 1024:
        raise ValidationFailed("The password is too long (over 1024 characters).")


def hash_password(password: str) -> str:
    """Argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; constant-ish time when the hash is missing."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's defaults."""
    return _hasher.check_needs_rehash(stored_hash)
