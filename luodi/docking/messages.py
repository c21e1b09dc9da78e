"""Messages of a docking case (对接留言): what the two parties, their broker and staff write.

A message is signed with the part its author plays in the case (意向方, 发布方, 技术经理人,
平台运营), never with a name or an e-mail address: before both sides consent to exchange
contacts (:mod:`luodi.docking.workflow`), a signature must not reveal who they are.

Posting a message adds an event of kind ``message`` to the case's trail so the case counts as
active for the stale-case reminders; the event carries the message's id but never its body,
because the trail is exported and shown in places the conversation is not.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from luodi.auth.actor import Actor
from luodi.docking import workflow
from luodi.docking.access import get_case_for, roles_in
from luodi.docking.models import Case, CaseMessage
from luodi.docking.trail import record_event
from luodi.errors import Conflict, NotFound, ValidationFailed

__all__ = ["MAX_BODY", "PART_LABELS", "author_label", "list_messages", "post_message"]

MAX_BODY = 5000
# Most specific part first: a staff member who also belongs to a party signs as that party.
PART_LABELS = {
    workflow.SEEKER: "意向方 / Interested party",
    workflow.OWNER: "发布方 / Owner",
    workflow.BROKER: "技术经理人 / Broker",
    workflow.STAFF: "平台运营 / Operator",
}


def author_label(roles: frozenset[str]) -> str:
    """The signature of a message written by someone playing ``roles`` in the case."""
    for part, label in PART_LABELS.items():
        if part in roles:
            return label
    return PART_LABELS[workflow.STAFF]


def _readable_case(session: Session, actor: Actor, case_id: int) -> tuple[Case, frozenset[str]]:
    """The case and the actor's parts in it; NotFound when the actor plays no part."""
    case = get_case_for(session, actor, case_id)
    roles = roles_in(actor, case)
    if not roles:
        raise NotFound("没有这个对接案件 / No such case.")
    return case, roles


def _clean_body(body: str) -> str:
    text = (body or "").strip()
    if not text:
        raise ValidationFailed("留言不能为空 / A message cannot be empty.",
                               data={"field": "body"})
    if len(text) > MAX_BODY:
        raise ValidationFailed(
            f"留言最多 {MAX_BODY} 字 / A message has at most {MAX_BODY} characters.",
            data={"field": "body", "max": MAX_BODY})
    return text


def post_message(session: Session, actor: Actor, case_id: int, body: str) -> CaseMessage:
    """Post a message to a case (parties, its broker, staff); refused once the case is closed."""
    case, roles = _readable_case(session, actor, case_id)
    if case.state == "closed":
        raise Conflict("案件已关闭，不能再留言 / The case is closed: no more messages.",
                       data={"state": case.state})
    text = _clean_body(body)
    message = CaseMessage(case_id=case.id, author_id=actor.user_id,
                          author_label=author_label(roles), body=text)
    session.add(message)
    session.flush()
    # Only the id: the body stays out of the trail (see the module docstring).
    record_event(session, case, actor, "message", action="post",
                 detail={"message_id": message.id})
    session.commit()
    return message


def list_messages(session: Session, actor: Actor, case_id: int) -> list[CaseMessage]:
    """A case's messages, oldest first (for those who may read the case)."""
    case, _roles = _readable_case(session, actor, case_id)
    return list(session.scalars(select(CaseMessage).where(CaseMessage.case_id == case.id)
                                .order_by(CaseMessage.at, CaseMessage.id)))
