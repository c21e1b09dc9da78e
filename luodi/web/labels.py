"""Codes shown to people (roles, organisation kinds, outcomes), marked for translation.

Templates translate them with ``_(code)``; listing them here lets Babel extract them.
"""


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a string for extraction without translating it here."""
    return message


LABELS = [
    # roles
    N_("admin"), N_("operator"), N_("institution_member"), N_("enterprise_member"),
    N_("broker"), N_("viewer"), N_("expert"),
    # organisation kinds
    N_("institution"), N_("enterprise"), N_("broker_agency"), N_("government"),
    # audit outcomes
    N_("success"), N_("denied"), N_("failure"),
]
