"""The one place that answers "may this actor do this to this object?".

Every service calls :func:`authorize` (or :func:`can` for filtering) before it reads or writes;
views never decide on their own. Rules are plain functions in one table so the whole policy can be
read in one sitting and tested as a matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from luodi.auth.actor import Actor
from luodi.errors import NotAuthenticated, PermissionDenied

Rule = Callable[[Actor, Any], bool]

STAFF = frozenset({"admin", "operator"})


def is_staff(actor: Actor) -> bool:
    """Admins and operators curate everything (and the CLI/jobs act as admin)."""
    return actor.system or actor.role in STAFF


def _staff(actor: Actor, _obj: Any) -> bool:
    return is_staff(actor)


def is_admin(actor: Actor) -> bool:
    """Administrators (and the CLI/jobs acting as one)."""
    return actor.system or actor.role == "admin"


def _admin(actor: Actor, _obj: Any) -> bool:
    return is_admin(actor)


def _authenticated(actor: Actor, _obj: Any) -> bool:
    return actor.is_authenticated


def _self(actor: Actor, obj: Any) -> bool:
    return actor.user_id is not None and getattr(obj, "id", None) == actor.user_id


def _token_owner(actor: Actor, obj: Any) -> bool:
    return actor.user_id is not None and getattr(obj, "user_id", None) == actor.user_id


def _may_manage_user(actor: Actor, obj: Any) -> bool:
    """Admins manage anyone; operators manage users below operator rank."""
    if _admin(actor, obj):
        return True
    target_role = getattr(obj, "role", None)
    return actor.role == "operator" and target_role not in STAFF


def _may_read_user(actor: Actor, obj: Any) -> bool:
    return _self(actor, obj) or is_staff(actor)


# Record statuses anyone may see (the public teaser tier).
PUBLIC_STATUSES = frozenset({"published", "in_docking", "transferred"})


def _owner(actor: Actor, obj: Any) -> bool:
    """Members of the organisation that owns the record."""
    owner = getattr(obj, "owner_org_id", None)
    return actor.org_id is not None and owner is not None and owner == actor.org_id


def _expert_self(actor: Actor, obj: Any) -> bool:
    return actor.user_id is not None and getattr(obj, "user_id", None) == actor.user_id


def _staff_or_owner(actor: Actor, obj: Any) -> bool:
    return is_staff(actor) or _owner(actor, obj) or _expert_self(actor, obj)


def _may_add_achievement(actor: Actor, obj: Any) -> bool:
    """Institutions add achievements for themselves; operators for anyone."""
    return is_staff(actor) or (actor.role == "institution_member" and _owner(actor, obj))


def _may_add_demand(actor: Actor, obj: Any) -> bool:
    return is_staff(actor) or (actor.role == "enterprise_member" and _owner(actor, obj))


def _may_read_listing(actor: Actor, obj: Any) -> bool:
    """Published achievements and demands are public teasers; drafts only for their owners."""
    return getattr(obj, "status", None) in PUBLIC_STATUSES or _staff_or_owner(actor, obj)


def _may_see_matches(actor: Actor, obj: Any) -> bool:
    """Matches of a listing: for signed-in users who may read it (public records match public)."""
    return actor.is_authenticated and _may_read_listing(actor, obj)


def _may_read_party(actor: Actor, _obj: Any) -> bool:
    """Institution and enterprise directories: public registration data, for logged-in users."""
    return actor.is_authenticated


def _may_read_expert(actor: Actor, obj: Any) -> bool:
    """Experts appear to others only with their consent (PIPL)."""
    return _staff_or_owner(actor, obj) or (
        actor.is_authenticated and getattr(obj, "consent", None) == "granted")


def _may_list_parties(actor: Actor, _obj: Any) -> bool:
    return actor.is_authenticated


def _may_read_reminder(actor: Actor, obj: Any) -> bool:
    """An organisation's reminders go to its members; unowned records' reminders to staff."""
    org = getattr(obj, "organisation_id", None)
    if org is None:
        return is_staff(actor)
    return actor.org_id is not None and org == actor.org_id


def _member_of(actor: Actor, obj: Any) -> bool:
    """Members of the organisation the object belongs to (``owner_org_id``)."""
    return _owner(actor, obj)


def _staff_or_member(actor: Actor, obj: Any) -> bool:
    return is_staff(actor) or _owner(actor, obj)


def _has_inbox(actor: Actor, _obj: Any) -> bool:
    """Enterprise members read their organisation's pushes; staff read any inbox."""
    return is_staff(actor) or (actor.org_id is not None and actor.org_kind == "enterprise")


def _may_declare_conflict(actor: Actor, obj: Any) -> bool:
    """A conflict of interest is declared by staff, the enterprise, or the institution."""
    return is_staff(actor) or _owner(actor, obj) or (
        actor.org_id is not None and getattr(obj, "institution_org_id", None) == actor.org_id)


def _case_party(actor: Actor, obj: Any) -> bool:
    """A member of the seeking or the owning organisation of a docking case."""
    return actor.org_id is not None and actor.org_id in (
        getattr(obj, "seeker_org_id", None), getattr(obj, "owner_org_id", None))


def _case_broker(actor: Actor, obj: Any) -> bool:
    """The broker (技术经理人) assigned to the case."""
    return actor.role == "broker" and actor.user_id is not None and \
        getattr(obj, "broker_id", None) == actor.user_id


def _may_read_case(actor: Actor, obj: Any) -> bool:
    return is_staff(actor) or _case_party(actor, obj) or _case_broker(actor, obj)


def _may_open_case(actor: Actor, _obj: Any) -> bool:
    """Enterprise and institution members show interest for their organisation."""
    return actor.org_id is not None and actor.role in ("enterprise_member",
                                                        "institution_member")


def _may_register(actor: Actor, obj: Any) -> bool:
    """Staff register anyone; members register their own organisation."""
    return is_staff(actor) or (_owner(actor, obj) and actor.role in (
        "enterprise_member", "institution_member"))


RULES: dict[str, Rule] = {
    # organisations
    "org.create": _staff,
    "org.update": _staff,
    "org.read": _authenticated,
    "org.list": _authenticated,
    # users
    "user.create": _may_manage_user,
    "user.update": _may_manage_user,
    "user.read": _may_read_user,
    "user.list": _staff,
    "user.unlock": _may_manage_user,
    # one's own account
    "account.manage": _self,
    "token.manage": _token_owner,
    # inventory (清单) — confidential tiers: owners and staff now; consented parties later
    "achievements.create": _may_add_achievement,
    "achievements.update": _staff_or_owner,
    "achievements.read": _may_read_listing,
    "achievements.read_confidential": _staff_or_owner,
    "achievements.list": lambda actor, obj: True,
    "achievements.delete": _staff,
    "demands.create": _may_add_demand,
    "demands.update": _staff_or_owner,
    "demands.read": _may_read_listing,
    "demands.read_confidential": _staff_or_owner,
    "demands.list": lambda actor, obj: True,
    "demands.delete": _staff,
    "enterprises.create": _staff,
    "enterprises.update": _staff_or_owner,
    "enterprises.read": _may_read_party,
    "enterprises.read_confidential": _staff_or_owner,
    "enterprises.list": _may_list_parties,
    "enterprises.delete": _staff,
    "institutions.create": _staff,
    "institutions.update": _staff_or_owner,
    "institutions.read": lambda actor, obj: True,
    "institutions.read_confidential": _staff_or_owner,
    "institutions.list": lambda actor, obj: True,
    "institutions.delete": _staff,
    "experts.create": _staff,
    "experts.update": _staff_or_owner,
    "experts.read": _may_read_expert,
    "experts.read_confidential": _staff_or_owner,
    "experts.list": _may_list_parties,
    "experts.delete": _staff,
    # matching (推送): who may ask for the matches of a record
    "achievements.matches": _may_see_matches,  # → demands
    "demands.matches": _may_see_matches,  # → achievements
    "achievements.match_enterprises": _staff_or_owner,  # a prospect list: owner and staff only
    "enterprises.matches": _staff_or_owner,  # → achievements, through its demands and profile
    "experts.matches": _staff_or_owner,  # the expert themself and staff
    "matching.rebuild": _staff,
    # push cycles (推送): planning is staff work; recipients act on their own pushes
    "push.run": _staff,
    "push.read_cycles": _staff,
    "push.export": _staff,
    "push.inbox": _has_inbox,
    "push.read": _staff_or_member,  # obj: Push (the recipient organisation)
    "push.feedback": _member_of,  # only the recipient gives feedback, not staff on its behalf
    "push.institution_view": _staff_or_owner,  # obj: Institution
    "push.preferences": _authenticated,  # one's own choices (the service uses actor.user_id)
    "push.subscription": _staff_or_member,  # obj: Subscription
    "push.webhooks": _staff_or_member,  # obj: WebhookEndpoint
    "push.webhooks.allow_private": _staff,
    "push.opt_out": _staff_or_owner,  # obj: Enterprise
    "push.declare_conflict": _may_declare_conflict,  # obj: a ConflictTarget
    # docking (对接): cases are read by their two parties, their broker and staff
    "cases.open": _may_open_case,
    "cases.list": _authenticated,
    "cases.read": _may_read_case,
    "cases.act": _may_read_case,  # the workflow table decides which actions each part may take
    "cases.assign_broker": _staff,
    "cases.internal_notes": lambda actor, obj: is_staff(actor) or _case_broker(actor, obj),
    "cases.sweep": _staff,
    "events.manage": _staff,
    "events.read": _authenticated,
    "events.register": _may_register,  # obj: a probe with owner_org_id = the organisation
    "events.request": _staff_or_member,  # obj: the requesting EventParticipant
    "events.respond": _staff_or_member,  # obj: the requested EventParticipant
    "events.agenda": _staff_or_member,  # obj: the EventParticipant
    "events.schedule": _staff,
    # landing (落地): deals are read by their case's parties, its broker and staff; the
    # aggregated statistics by staff and government viewers
    "deals.record": _may_read_case,  # obj: the Case (parties, its broker, staff)
    "deals.read": _may_read_case,  # obj: the Deal's Case
    "deals.update": _may_read_case,  # obj: the Deal's Case
    "deals.list": _authenticated,  # the service scopes the rows
    "deals.export": _staff,
    "stats.read": lambda actor, obj: is_staff(actor) or actor.role == "viewer",
    "inventory.import": _staff,
    "inventory.export": _staff,
    "inventory.review_duplicates": _staff,
    "inventory.freshness_sweep": _staff,
    "reminders.read": _may_read_reminder,
    "catalogue.manage": _staff,
    "catalogue.read_draft": _staff,
    # operations
    "audit.read": _staff,
    "system.backup": _admin,
}


def require_login(actor: Actor) -> None:
    """Refuse anonymous callers before anything is looked up, so a missing object and a hidden
    one answer alike (401) and ids cannot be probed."""
    if not actor.is_authenticated:
        raise NotAuthenticated("Please log in first.")


def can(actor: Actor, action: str, obj: Any = None) -> bool:
    """Whether ``actor`` may perform ``action`` on ``obj``. Unknown actions are refused."""
    rule = RULES.get(action)
    if rule is None:
        return False
    return rule(actor, obj)


def authorize(session: Session, actor: Actor, action: str, obj: Any = None) -> None:
    """Raise unless ``actor`` may perform ``action`` on ``obj``; denials are audited.

    Anonymous actors get :class:`NotAuthenticated` (401) so clients know to log in; known actors
    get :class:`PermissionDenied` (403).
    """
    if can(actor, action, obj):
        return
    from luodi import audit  # local import: audit imports the actor module, not the policy

    audit.record_now(
        session,
        actor,
        action,
        obj=_describe(obj),
        outcome="denied",
    )
    if not actor.is_authenticated:
        raise NotAuthenticated("Please log in first.")
    raise PermissionDenied(f"You may not perform '{action}' here.")


def _describe(obj: Any) -> tuple[str, Any] | None:
    if obj is None:
        return None
    table = getattr(obj, "__tablename__", None) or type(obj).__name__
    return (table, getattr(obj, "id", None))
