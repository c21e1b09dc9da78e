"""The docking workflow (对接流程): a case's states and every allowed transition, in one table.

::

    interested ──accept──► accepted ──(both consent)──► contacts_revealed ──meet──► meeting
        │                                                      │                     │ meet
        │                                                      └──negotiate──► negotiating ◄┘
        │                                                                          │ agree
        └──── close (with a reason) from any open state ──► closed        agreed ◄─┘
                                                                            │ land (a deal
                                                                            ▼  is recorded)
                                                                          landed

Who may act is part of the table: the *seeker* (the organisation that showed interest), the
*owner* (the organisation that owns the record), the case's *broker*, and *staff* (operators).
``reveal`` is taken by the system when the second party consents, and ``land`` when a deal is
recorded for an agreed case (:mod:`luodi.landing.deals`); nobody calls them by hand. An
agreement that falls through before a deal is closed with a reason.
The service (:mod:`luodi.docking.cases`) looks every request up here; anything not listed is
refused with :class:`IllegalTransition`, which names the state and what is possible from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from luodi.errors import Conflict, PermissionDenied

__all__ = ["OPEN_STATES", "STATES", "TRANSITIONS", "IllegalTransition", "Transition",
           "actions_from", "check"]

STATES = ("interested", "accepted", "contacts_revealed", "meeting", "negotiating", "agreed",
          "landed", "closed")
OPEN_STATES = frozenset(STATES) - {"agreed", "landed", "closed"}
# The order of the funnel: a later state implies the earlier ones were passed.
RANK = {state: i for i, state in enumerate(STATES)}

SEEKER, OWNER, BROKER, STAFF, SYSTEM = "seeker", "owner", "broker", "staff", "system"
PARTIES = frozenset({SEEKER, OWNER})
HELPERS = frozenset({BROKER, STAFF})


@dataclass(frozen=True)
class Transition:
    """One allowed step: from a state, by an action, to a state, for some roles."""

    source: str
    action: str
    target: str
    roles: frozenset[str]
    needs_note: bool = False  # a reason is required (closing)


def _t(source: str, action: str, target: str, roles: frozenset[str],
       needs_note: bool = False) -> Transition:
    return Transition(source, action, target, roles, needs_note)


TRANSITIONS: tuple[Transition, ...] = (
    _t("interested", "accept", "accepted", frozenset({OWNER, STAFF})),
    _t("accepted", "reveal", "contacts_revealed", frozenset({SYSTEM})),
    _t("contacts_revealed", "meet", "meeting", PARTIES | HELPERS),
    _t("meeting", "meet", "meeting", PARTIES | HELPERS),  # a further meeting
    _t("contacts_revealed", "negotiate", "negotiating", PARTIES | HELPERS),
    _t("meeting", "negotiate", "negotiating", PARTIES | HELPERS),
    _t("negotiating", "agree", "agreed", PARTIES | HELPERS),
    _t("agreed", "land", "landed", frozenset({SYSTEM})),
    *(_t(state, "close", "closed", PARTIES | HELPERS, needs_note=True)
      for state in ("interested", "accepted", "contacts_revealed", "meeting", "negotiating",
                    "agreed")),
)
_BY_KEY = {(t.source, t.action): t for t in TRANSITIONS}
SYSTEM_ACTIONS = frozenset({"reveal", "land"})


class IllegalTransition(Conflict):
    """A transition the table does not allow from the case's current state."""

    code = "illegal_transition"


def actions_from(state: str, roles: frozenset[str]) -> list[str]:
    """The actions ``roles`` may take from ``state`` (for the page's buttons)."""
    return [t.action for t in TRANSITIONS
            if t.source == state and t.roles & roles and t.action not in SYSTEM_ACTIONS]


def check(state: str, action: str, roles: frozenset[str], note: str | None = None) -> Transition:
    """The transition for ``action`` from ``state`` by ``roles``, or a clear refusal."""
    transition = _BY_KEY.get((state, action))
    if transition is None:
        possible = ", ".join(sorted({t.action for t in TRANSITIONS if t.source == state
                                     and t.action not in SYSTEM_ACTIONS})) or "none"
        raise IllegalTransition(
            f"案件处于「{state}」状态，不能执行「{action}」；可执行：{possible} / A case in state "
            f"'{state}' cannot '{action}'; possible: {possible}.",
            data={"state": state, "action": action, "possible": possible})
    if not transition.roles & roles:
        raise PermissionDenied(
            f"您在此案件中无权执行「{action}」 / Your part in this case may not '{action}'.",
            data={"state": state, "action": action})
    if transition.needs_note and not (note or "").strip():
        raise IllegalTransition(
            f"「{action}」需要说明原因 / '{action}' needs a reason.",
            data={"state": state, "action": action})
    return transition
