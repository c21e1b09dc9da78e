"""Account services: organisations and users.

Each write is authorised, audited and committed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from luodi import audit
from luodi.auth.actor import Actor
from luodi.auth.models import ROLE_ORG_KINDS, Organisation, OrgKind, Role, User
from luodi.auth.passwords import check_password_policy, hash_password
from luodi.auth.policy import authorize
from luodi.errors import Conflict, NotFound, ValidationFailed


@dataclass(frozen=True)
class NewUser:
    """What it takes to create a user (also the object the policy judges for ``user.create``)."""

    email: str
    display_name: str
    role: str
    password: str
    organisation_id: int | None = None
    locale: str | None = None


def actor_for(user: User, *, client_addr: str | None = None, via: str = "web") -> Actor:
    """The :class:`Actor` a logged-in user acts as."""
    org = user.organisation
    return Actor(
        user_id=user.id,
        role=user.role,
        org_id=user.organisation_id,
        org_kind=org.kind if org else None,
        email=user.email,
        client_addr=client_addr,
        via=via,
    )


def normalise_email(email: str) -> str:
    """Trim and lowercase an e-mail address, and check its basic shape."""
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email or len(email) > 254:
        raise ValidationFailed("Please give a valid e-mail address.", data={"field": "email"})
    return email


def create_organisation(
    session: Session, actor: Actor, *, name: str, kind: str, name_en: str | None = None,
    region_code: str | None = None,
) -> Organisation:
    """Register an organisation (operator or admin only)."""
    authorize(session, actor, "org.create")
    try:
        kind = OrgKind(kind).value
    except ValueError:
        raise ValidationFailed(
            f"Unknown organisation kind '{kind}'.",
            data={"field": "kind", "allowed": [k.value for k in OrgKind]},
        ) from None
    name = name.strip()
    if not name:
        raise ValidationFailed("The organisation needs a name.", data={"field": "name"})
    if session.scalar(select(Organisation.id).where(Organisation.name == name)):
        raise Conflict(f"An organisation named '{name}' already exists.")
    org = Organisation(name=name, kind=kind, name_en=name_en, region_code=region_code)
    session.add(org)
    session.flush()
    audit.record(session, actor, "org.create", obj=("organisations", org.id),
                 detail={"name": name, "kind": kind})
    session.commit()
    return org


def create_user(session: Session, actor: Actor, new: NewUser, *, min_password: int) -> User:
    """Create a user after checking role, organisation kind and password policy."""
    authorize(session, actor, "user.create", new)
    try:
        role = Role(new.role)
    except ValueError:
        allowed = [r.value for r in Role]
        raise ValidationFailed(f"Unknown role '{new.role}'.",
                               data={"field": "role", "allowed": allowed}) from None
    email = normalise_email(new.email)
    check_password_policy(new.password, min_length=min_password)
    org = _organisation_for_role(session, role, new.organisation_id)
    if session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise Conflict(f"A user with e-mail {email} already exists.")
    user = User(
        email=email, display_name=new.display_name.strip() or email, role=role.value,
        organisation_id=org.id if org else None, password_hash=hash_password(new.password),
        locale=new.locale,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"A user with e-mail {email} already exists.") from None
    audit.record(session, actor, "user.create", obj=("users", user.id),
                 detail={"email": email, "role": role.value, "org": user.organisation_id})
    session.commit()
    return user


def _organisation_for_role(
    session: Session, role: Role, organisation_id: int | None
) -> Organisation | None:
    allowed = ROLE_ORG_KINDS[role]
    if organisation_id is None:
        if allowed is None:
            return None
        raise ValidationFailed(
            f"A user with role '{role.value}' must belong to an organisation "
            f"({', '.join(sorted(allowed))}).",
            data={"field": "organisation_id"},
        )
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise ValidationFailed("No such organisation.", data={"field": "organisation_id"})
    if allowed is not None and org.kind not in allowed:
        raise ValidationFailed(
            f"Role '{role.value}' cannot belong to a '{org.kind}' organisation.",
            data={"field": "organisation_id"},
        )
    return org


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    """A user the actor may see, or NotFound (also when not allowed, to avoid probing)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    authorize(session, actor, "user.read", user)
    return user


def list_users(session: Session, actor: Actor, *, limit: int = 200, offset: int = 0) -> list[User]:
    """All users, newest first (staff only)."""
    authorize(session, actor, "user.list")
    stmt = select(User).order_by(User.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))


def list_organisations(session: Session, actor: Actor) -> list[Organisation]:
    """All organisations by name (any logged-in user)."""
    authorize(session, actor, "org.list")
    return list(session.scalars(select(Organisation).order_by(Organisation.name)))


def set_active(session: Session, actor: Actor, user_id: int, active: bool) -> User:
    """Deactivate or reactivate a user; deactivation ends their sessions at the next request."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    authorize(session, actor, "user.update", user)
    user.is_active = active
    audit.record(session, actor, "user.activate" if active else "user.deactivate",
                 obj=("users", user.id))
    session.commit()
    return user


def unlock_user(session: Session, actor: Actor, user_id: int) -> User:
    """Clear a lockout after repeated failed logins."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    authorize(session, actor, "user.unlock", user)
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, actor, "user.unlock", obj=("users", user.id))
    session.commit()
    return user


def bootstrap_admin(session: Session, settings: object) -> tuple[str, str] | None:
    """Create ``admin@luodi.local`` with a random password when no admin exists yet.

    Returns the credentials once so the installer can show them; None when an admin exists.
    """
    import secrets

    from luodi.auth.actor import system_actor

    if session.scalar(select(User.id).where(User.role == Role.ADMIN.value).limit(1)):
        return None
    password = secrets.token_urlsafe(12)
    min_length = getattr(settings, "password_min_length", 12)
    create_user(session, system_actor(), NewUser(
        email="admin@luodi.local", display_name="管理员 Admin", role="admin", password=password,
    ), min_password=min_length)
    return "admin@luodi.local", password
