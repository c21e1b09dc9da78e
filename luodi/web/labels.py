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
    # record statuses (AchievementStatus; demands share them)
    N_("draft"), N_("published"), N_("in_docking"), N_("transferred"), N_("withdrawn"),
    N_("expired"),
    # transfer / cooperation modes (TransferMode)
    N_("self_implement"), N_("transfer"), N_("license"), N_("co_implement"),
    N_("equity_investment"), N_("development_service"),
    # enterprise sizes (EnterpriseSize) and qualifications (Qualification)
    N_("micro"), N_("small"), N_("medium"), N_("large"),
    N_("high_tech"), N_("specialised"), N_("little_giant"), N_("tech_sme"),
    # IP item kinds and statuses (schemas.IpItem)
    N_("invention"), N_("utility_model"), N_("design"), N_("software"), N_("pct"),
    N_("foreign"), N_("other"),
    N_("pending"), N_("granted"), N_("lapsed"),
]

# Parts of a match score (匹配得分的组成), as the "why this match" page names them.
# The two embedders are one idea to a reader: similar meaning.
PART_LABELS = {
    "lexical": N_("Shared keywords"), "meaning": N_("Similar meaning"),
    "field": N_("Same field"), "trl": N_("Maturity fit"), "region": N_("Region"),
    "mode": N_("Cooperation mode"), "freshness": N_("Up to date"),
    "company": N_("Close to the other best matches"), "leader": N_("Strongest direct match"),
}

# Push cycles (推送): feedback, why a push was not relevant, deliveries. Keys are the codes in
# luodi.push.ledger (FEEDBACK, NOT_RELEVANT_REASONS, OutboxMessage.channel and .status).
FEEDBACK_LABELS = {
    "relevant": N_("Useful"), "not_relevant": N_("Not relevant"),
    "interested": N_("Interested"), "no_reply": N_("No reaction yet"),
    "unread": N_("Not read yet"), "read": N_("Read"), "pushed": N_("Pushed"),
}
NOT_RELEVANT_LABELS = {
    "wrong_field": N_("Not our field"), "too_early": N_("Too early-stage for us"),
    "too_costly": N_("Too costly"), "have_it": N_("We already have this"),
    "too_far": N_("Too far away"), "not_now": N_("Not now"), "other": N_("Other reason"),
}
DELIVERY_LABELS = {
    "inbox": N_("In-app inbox"), "email": N_("E-mail"), "webhook": N_("Webhook"),
    "pending": N_("Waiting"), "sending": N_("Sending"), "sent": N_("Sent"),
    "failed": N_("Failed, will retry"), "dead": N_("Gave up"),
    "suppressed": N_("Not sent (opted out or over the cap)"),
    "delivering": N_("Delivering"), "delivered": N_("Delivered"),
}
FIGURE_LABELS = {
    "pushes": N_("Pushes"), "recipients": N_("Recipients"),
    "coverage": N_("Coverage of catalogue achievements"),
    "exposure_gini": N_("Unevenness of exposure (Gini)"), "mean_score": N_("Mean match score"),
}

# Docking (对接): a case's states and the actions that move it (luodi.docking.workflow), the parts
# people play in a case, and the kinds of line in its trail (CaseEvent.kind and .action).
CASE_STATE_LABELS = {
    "interested": N_("Interest shown"), "accepted": N_("Accepted"),
    "contacts_revealed": N_("Contacts shared"), "meeting": N_("Meeting"),
    "negotiating": N_("Negotiating"), "agreed": N_("Agreed"), "landed": N_("Landed"),
    "closed": N_("Closed"),
}
CASE_ACTION_LABELS = {
    "accept": N_("Accept the interest"), "meet": N_("Record a meeting"),
    "negotiate": N_("Start negotiating"), "agree": N_("Agreement reached"),
    "close": N_("Close the case"),
}
CASE_ROLE_LABELS = {
    "seeker": N_("Interested party"), "owner": N_("Owner"), "broker": N_("Broker"),
    "staff": N_("Operator"), "system": N_("Platform"), "former_user": N_("Former user"),
    "other": N_("Other"),
}
CASE_EVENT_LABELS = {
    "open": N_("Case opened"), "accept": N_("Interest accepted"),
    "reveal": N_("Contacts revealed to both sides"), "meet": N_("Meeting scheduled"),
    "negotiate": N_("Negotiation started"), "agree": N_("Agreement reached"),
    "close": N_("Case closed"), "note": N_("Note"), "consent": N_("Agreed to share contacts"),
    "nda": N_("NDA recorded"), "file": N_("File added to the dossier"),
    "meeting": N_("Meeting scheduled"), "cancel": N_("Meeting cancelled"),
    "reschedule": N_("Meeting changed"), "broker": N_("Broker assigned"),
    "broker_removed": N_("Broker removed"), "message": N_("Message posted"),
    "transition": N_("State changed"),
}
CASE_MEETING_LABELS = {
    "scheduled": N_("Scheduled"), "held": N_("Held"), "cancelled": N_("Cancelled"),
}

# Landing (落地): a deal's parties, milestones and status (luodi.landing.models), and the lines
# a deal writes into its case's trail. Contract categories and transfer modes take their zh / en
# labels from luodi.inventory.codes (ContractCategory, TransferMode) instead.
DEAL_PARTY_ROLE_LABELS = {
    "seller": N_("Seller"), "buyer": N_("Buyer"), "intermediary": N_("Intermediary"),
}
DEAL_PARTY_TYPE_LABELS = {
    "university": N_("University"), "institute": N_("Research institute"),
    "enterprise": N_("Enterprise"), "hospital": N_("Hospital"), "individual": N_("Individual"),
    "other": N_("Other"),
}
MILESTONE_LABELS = {
    "pilot": N_("Pilot production"), "production": N_("Mass production"),
    "revenue": N_("Revenue"),
}
DEAL_STATUS_LABELS = {"signed": N_("Signed"), "cancelled": N_("Cancelled")}
CASE_EVENT_LABELS.update({
    "land": N_("Case landed"), "deal": N_("Deal recorded"), "deal_update": N_("Deal updated"),
    "milestone": N_("Milestone added"), "deal_cancel": N_("Deal cancelled"),
})
