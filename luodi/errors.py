"""One error type for the whole platform.

Services raise :class:`DomainError` (or a subclass); the web layer renders it either as the JSON
error shape ``{"ok": false, "code", "error", "status"}`` or as an error page, and the CLI prints it.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A failure a user can understand: a stable ``code``, a message, an HTTP status, extra data."""

    code = "error"
    status = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.data = data or {}


class ValidationFailed(DomainError):
    """Input that breaks a rule of the domain (a bad credit code, an unknown region…)."""

    code = "validation_failed"
    status = 422


class NotFound(DomainError):
    """The object does not exist, or the actor may not know that it exists."""

    code = "not_found"
    status = 404


class NotAuthenticated(DomainError):
    """No valid session or token."""

    code = "not_authenticated"
    status = 401


class PermissionDenied(DomainError):
    """The actor is known but may not do this."""

    code = "permission_denied"
    status = 403


class Conflict(DomainError):
    """The request clashes with the current state (duplicate name, illegal transition…)."""

    code = "conflict"
    status = 409


class RateLimited(DomainError):
    """Too many attempts in a window (login throttling)."""

    code = "rate_limited"
    status = 429


class FileUnreadable(DomainError):
    """An uploaded or imported file cannot be read at all (encoding, corrupt archive, limits)."""

    code = "file_unreadable"
    status = 400
