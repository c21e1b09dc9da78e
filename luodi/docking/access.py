"""Reading a case for an actor: the one accessor every docking service and view goes through.

:func:`get_case_for` refuses with NotFound — not Forbidden — when the actor may not read the
case, so a case's existence is not confirmed to outsiders. :func:`roles_in` says which part(s)
the actor plays in it, which the workflow table and the disclosure tiers use.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from luodi.auth.actor import Actor
from luodi.auth.policy import can, is_staff
from luodi.docking import workflow
from luodi.docking.models import Case
from luodi.errors import NotAuthenticated, NotFound

__all__ = ["get_case_for", "roles_in"]


def roles_in(actor: Actor, case: Case) -> frozenset[str]:
    """The parts ``actor`` plays in ``case``: seeker, owner, broker and/or staff."""
    roles = set()
    if actor.org_id is not None and actor.org_id == case.seeker_org_id:
        roles.add(workflow.SEEKER)
    if actor.org_id is not None and actor.org_id == case.owner_org_id:
        roles.add(workflow.OWNER)
    if actor.role == "broker" and actor.user_id is not None and case.broker_id == actor.user_id:
        roles.add(workflow.BROKER)
    if is_staff(actor):
        roles.add(workflow.STAFF)
    return frozenset(roles)


def get_case_for(session: Session, actor: Actor, case_id: int, *,
                 for_update: bool = False) -> Case:
    """The case, if ``actor`` may read it; NotFound otherwise (NotAuthenticated if anonymous)."""
    if not actor.is_authenticated:
        raise NotAuthenticated("Please log in first.")
    case = session.get(Case, case_id, with_for_update=for_update or None)
    if case is None or not can(actor, "cases.read", case):
        raise NotFound("没有这个对接案件 / No such case.")
    return case
