"""Who is acting: the identity every service call carries, whether from the web, API or CLI."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Actor:
    """The identity a service call is made for.

    ``role`` is None for anonymous visitors; ``system`` is set for the CLI and jobs, which act with
    operator rights on the operator's behalf.
    """

    user_id: int | None = None
    role: str | None = None
    org_id: int | None = None
    org_kind: str | None = None
    email: str | None = None
    client_addr: str | None = None
    via: str = "web"  # web | api | cli | job
    system: bool = False

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None or self.system

    @property
    def label(self) -> str:
        if self.system:
            return f"system:{self.via}"
        return self.email or "anonymous"

    def with_addr(self, client_addr: str | None) -> Actor:
        return replace(self, client_addr=client_addr)


ANONYMOUS = Actor()


def system_actor(via: str = "cli") -> Actor:
    """The actor for CLI commands and jobs run by whoever operates the server."""
    return Actor(role="admin", via=via, system=True, client_addr="local")
