"""API: push cycles (推送) — operators' cycles, the recipients' inbox, choices, blocks, webhooks.

Handlers only shape what the services in :mod:`luodi.push` return; the services authorise,
audit and commit. A pushed achievement is shown by its public teaser alone (as an anonymous
visitor sees it, :func:`luodi.web.api.matches.teaser_of`), never its description or contacts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from luodi.push import consent, cycles, inbox, reports, webhooks
from luodi.push.ledger import FEEDBACK, NOT_RELEVANT_REASONS, Push
from luodi.web.api.matches import Teaser, teaser_of
from luodi.web.deps import CtxDep, UserCtx

router = APIRouter(tags=["push"])


# --- shapes -------------------------------------------------------------------------------

class PushedAchievement(BaseModel):
    id: int
    title: str
    url: str
    teaser: Teaser = Field(description="The public teaser only: no description, no contacts")


class PushOut(BaseModel):
    """One push as its recipient sees it."""

    id: int
    cycle: int = Field(description="The push cycle's id")
    created_at: dt.datetime
    score: float
    rank: int = Field(description="1 = the recipient's best push of the cycle")
    reason: str = Field(description="Why it was pushed (zh-CN)")
    reason_en: str
    read: bool
    feedback: str | None = Field(None, description=" | ".join(FEEDBACK))
    feedback_reason: str | None = Field(None, description=" | ".join(NOT_RELEVANT_REASONS))
    achievement: PushedAchievement


class AnnouncementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    catalogue_id: int
    catalogue_version: int
    title: str
    items: int
    created_at: dt.datetime


class InboxOut(BaseModel):
    items: list[PushOut]
    total: int
    page: int
    per_page: int
    personalised: bool = Field(description="False: personalised pushes are off (PIPL art. 24)")
    unread: int
    announcements: list[AnnouncementOut]


class FeedbackIn(BaseModel):
    feedback: str = Field(description=" | ".join(FEEDBACK))
    reason: str | None = Field(None, description="With not_relevant: "
                               + " | ".join(NOT_RELEVANT_REASONS))
    note: str | None = Field(None, description="Required with reason 'other'; ≤ 500 characters")


class PreferencesIO(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    personalised: bool
    email: bool
    email_max_per_week: int | None = Field(None, description="0–14; null: the platform's cap")


class PreferencesOut(PreferencesIO):
    unsubscribed_at: dt.datetime | None = None


class SubscriptionIn(BaseModel):
    fields: list[str] = Field(default_factory=list, description="Industry-field codes")
    keywords: list[str] = Field(default_factory=list, description="At most 20, 2–20 characters")
    max_per_cycle: int | None = Field(None, description="1 to the platform's k; null: k")
    paused: bool = False


class SubscriptionOut(SubscriptionIn):
    model_config = ConfigDict(from_attributes=True)
    organisation_id: int
    updated_at: dt.datetime | None = None


class BlockOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    enterprise_id: int
    kind: str = Field(description="opt_out | conflict")
    achievement_id: int | None
    institution_id: int | None
    reason: str | None
    created_at: dt.datetime


class OptOutIn(BaseModel):
    achievement_id: int | None = None
    institution_id: int | None = None
    reason: str | None = None


class ConflictIn(BaseModel):
    institution_id: int
    reason: str


class CycleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    period: str | None
    status: str
    cap_per_recipient: int
    min_recipients: int
    min_score: float
    figures: dict[str, Any]
    created_at: dt.datetime
    finished_at: dt.datetime | None


class CyclePushOut(BaseModel):
    id: int
    achievement_id: int
    achievement_title: str
    score: float
    rank: int
    read: bool
    feedback: str | None
    feedback_reason: str | None


class RecipientOut(BaseModel):
    enterprise_id: int
    enterprise_name: str
    organisation_id: int
    pushes: list[CyclePushOut]


class AchievementRef(BaseModel):
    id: int
    title: str
    url: str


class CycleDetailOut(BaseModel):
    cycle: CycleOut
    recipients: list[RecipientOut]
    deliveries: dict[str, dict[str, int]] = Field(
        description="channel → status → count; 'inbox' → delivered and read")
    feedback: dict[str, int]
    uncovered: list[AchievementRef] = Field(description="Catalogue items nobody was pushed")


class RunIn(BaseModel):
    dry_run: bool = False


class PartyRef(BaseModel):
    id: int
    name: str


class ReachRecipientOut(BaseModel):
    """Who received an achievement, when, and how they reacted (a reason only in aggregate)."""

    enterprise: PartyRef
    pushed_at: str
    read: bool
    reaction: str | None = Field(description="relevant, not_relevant, interested or null")


class ReachOut(BaseModel):
    achievement: AchievementRef
    counts: dict[str, int] = Field(description=", ".join(reports.REACH_KEYS))
    recipients: list[ReachRecipientOut]
    interested: list[PartyRef] = Field(description="Enterprises that said they are interested")


class InstitutionReachOut(BaseModel):
    institution: PartyRef
    achievements: list[ReachOut]
    why_passed: dict[str, int] = Field(description="not_relevant reason → count")
    notes: list[str] = Field(description="Notes given with reason 'other', anonymous")
    totals: dict[str, int]


class WebhookIn(BaseModel):
    url: str = Field(max_length=500)
    description: str | None = Field(None, max_length=200)


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    organisation_id: int
    url: str
    description: str | None
    active: bool
    allow_private: bool
    created_at: dt.datetime


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="Shown this once: keep it to verify signatures")


class AllowPrivateIn(BaseModel):
    allow: bool


class WebhookTestOut(BaseModel):
    outbox_id: int = Field(description="The queued message; the dispatcher sends it")
    status: str


def _ref(achievement: Any) -> AchievementRef:
    return AchievementRef(id=achievement.id, title=achievement.title,
                          url=f"/achievements/{achievement.id}")


def push_out(push: Push) -> PushOut:
    """One push with its achievement's public teaser (the pages reuse this)."""
    ach = push.achievement
    return PushOut(id=push.id, cycle=push.cycle_id, created_at=push.created_at,
                   score=round(push.score, 4), rank=push.rank, reason=push.reason,
                   reason_en=push.reason_en, read=push.read_at is not None,
                   feedback=push.feedback, feedback_reason=push.feedback_reason,
                   achievement=PushedAchievement(**_ref(ach).model_dump(),
                                                 teaser=teaser_of("achievements", ach)))


def _cycle_detail_out(detail: reports.CycleDetail) -> CycleDetailOut:
    recipients = [RecipientOut(
        enterprise_id=row.enterprise.id, enterprise_name=row.enterprise.name,
        organisation_id=row.organisation_id,
        pushes=[CyclePushOut(id=p.id, achievement_id=p.achievement_id,
                             achievement_title=p.achievement.title, score=round(p.score, 4),
                             rank=p.rank, read=p.read_at is not None, feedback=p.feedback,
                             feedback_reason=p.feedback_reason) for p in row.pushes])
        for row in detail.recipients]
    return CycleDetailOut(cycle=CycleOut.model_validate(detail.cycle), recipients=recipients,
                          deliveries=detail.deliveries, feedback=detail.feedback,
                          uncovered=[_ref(a) for a in detail.uncovered])


# --- cycles (operators) -------------------------------------------------------------------

@router.get("/push/cycles", response_model=list[CycleOut], summary="Push cycles, newest first")
def list_cycles(ctx: CtxDep, limit: int = Query(50, ge=1, le=500)) -> list[CycleOut]:
    return [CycleOut.model_validate(c)
            for c in reports.list_cycles(ctx.session, ctx.actor, limit=limit)]


@router.get("/push/cycles/{cycle_id}", response_model=CycleDetailOut, summary="One push cycle")
def get_cycle(cycle_id: int, ctx: CtxDep) -> CycleDetailOut:
    return _cycle_detail_out(reports.cycle_detail(ctx.session, ctx.actor, cycle_id))


@router.post("/push/cycles", response_model=dict[str, Any],
             summary="Run a push cycle now (dry_run: plan and report, write nothing)")
def run_cycle(body: RunIn, ctx: UserCtx) -> dict[str, Any]:
    result = cycles.run_cycle(ctx.session, ctx.actor, ctx.settings, dry_run=body.dry_run)
    return dict(result.as_json())


# --- the inbox ----------------------------------------------------------------------------

@router.get("/inbox", response_model=InboxOut, summary="My organisation's pushes")
def get_inbox(ctx: CtxDep, page: int = Query(1, ge=1, le=100000),
              per_page: int = Query(20, ge=1, le=inbox.MAX_PER_PAGE),
              unread_only: bool = False,
              feedback: str | None = Query(None, description=" | ".join(
                  (*FEEDBACK, inbox.NO_REPLY))),
              organisation_id: int | None = Query(None, description="Staff: another inbox"),
              ) -> InboxOut:
    result = inbox.inbox(ctx.session, ctx.actor, page=page, per_page=per_page,
                         unread_only=unread_only, feedback=feedback,
                         organisation_id=organisation_id)
    return InboxOut(items=[push_out(p) for p in result.items], total=result.total,
                    page=result.page, per_page=result.per_page,
                    personalised=result.personalised, unread=result.unread,
                    announcements=[AnnouncementOut.model_validate(a)
                                   for a in result.announcements])


@router.get("/pushes/{push_id}", response_model=PushOut, summary="Open one push (marks it read)")
def open_push(push_id: int, ctx: CtxDep) -> PushOut:
    return push_out(inbox.open_push(ctx.session, ctx.actor, push_id))


@router.post("/pushes/{push_id}/feedback", response_model=PushOut,
             summary="Say whether a push is relevant, not (and why), or interesting")
def give_feedback(push_id: int, body: FeedbackIn, ctx: UserCtx) -> PushOut:
    return push_out(inbox.give_feedback(ctx.session, ctx.actor, push_id, feedback=body.feedback,
                                        reason=body.reason, note=body.note))


# --- choices: preferences and subscriptions -----------------------------------------------

@router.get("/push/preferences", response_model=PreferencesOut, summary="My push choices")
def get_preferences(ctx: CtxDep) -> PreferencesOut:
    return PreferencesOut.model_validate(consent.get_preferences(ctx.session, ctx.actor))


@router.put("/push/preferences", response_model=PreferencesOut, summary="Change my push choices")
def put_preferences(body: PreferencesIO, ctx: UserCtx) -> PreferencesOut:
    row = consent.set_preferences(ctx.session, ctx.actor, personalised=body.personalised,
                                  email=body.email, email_max_per_week=body.email_max_per_week)
    return PreferencesOut.model_validate(row)


@router.get("/organisations/{organisation_id}/push-subscription", response_model=SubscriptionOut,
            summary="What an enterprise wants pushed")
def get_subscription(organisation_id: int, ctx: CtxDep) -> SubscriptionOut:
    row = consent.get_subscription(ctx.session, ctx.actor, organisation_id)
    return SubscriptionOut.model_validate(row)


@router.put("/organisations/{organisation_id}/push-subscription", response_model=SubscriptionOut,
            summary="Change what an enterprise wants pushed")
def put_subscription(organisation_id: int, body: SubscriptionIn, ctx: UserCtx) -> SubscriptionOut:
    row = consent.set_subscription(ctx.session, ctx.actor, ctx.settings, organisation_id,
                                   fields=body.fields, keywords=body.keywords,
                                   max_per_cycle=body.max_per_cycle, paused=body.paused)
    return SubscriptionOut.model_validate(row)


# --- forbidden arcs: opt-outs and conflicts -----------------------------------------------

@router.get("/enterprises/{enterprise_id}/push-blocks", response_model=list[BlockOut],
            summary="An enterprise's opt-outs and declared conflicts")
def list_blocks(enterprise_id: int, ctx: CtxDep) -> list[BlockOut]:
    return [BlockOut.model_validate(b)
            for b in consent.list_blocks(ctx.session, ctx.actor, enterprise_id)]


@router.post("/enterprises/{enterprise_id}/push-blocks", response_model=BlockOut,
             status_code=201, summary="Opt out of an achievement or an institution (idempotent)")
def opt_out(enterprise_id: int, body: OptOutIn, ctx: UserCtx) -> BlockOut:
    block = consent.opt_out(ctx.session, ctx.actor, enterprise_id,
                            achievement_id=body.achievement_id,
                            institution_id=body.institution_id, reason=body.reason)
    return BlockOut.model_validate(block)


@router.post("/enterprises/{enterprise_id}/push-conflicts", response_model=BlockOut,
             status_code=201, summary="Declare a conflict of interest with an institution")
def declare_conflict(enterprise_id: int, body: ConflictIn, ctx: UserCtx) -> BlockOut:
    block = consent.declare_conflict(ctx.session, ctx.actor, enterprise_id, body.institution_id,
                                     reason=body.reason)
    return BlockOut.model_validate(block)


@router.delete("/push-blocks/{block_id}", status_code=204,
               summary="Lift an opt-out (conflicts: operators only)")
def remove_block(block_id: int, ctx: UserCtx) -> Response:
    consent.remove_block(ctx.session, ctx.actor, block_id)
    return Response(status_code=204)


# --- webhooks -----------------------------------------------------------------------------

@router.get("/organisations/{organisation_id}/webhooks", response_model=list[WebhookOut],
            summary="An organisation's webhook endpoints (secrets never shown)")
def list_webhooks(organisation_id: int, ctx: CtxDep) -> list[WebhookOut]:
    return [WebhookOut.model_validate(e)
            for e in webhooks.list_endpoints(ctx.session, ctx.actor, organisation_id)]


@router.post("/organisations/{organisation_id}/webhooks", response_model=WebhookCreatedOut,
             status_code=201, summary="Add a webhook endpoint; the secret is returned this once")
def create_webhook(organisation_id: int, body: WebhookIn, ctx: UserCtx) -> WebhookCreatedOut:
    endpoint, secret = webhooks.create_endpoint(
        ctx.session, ctx.actor, ctx.settings, organisation_id=organisation_id, url=body.url,
        description=body.description)
    return WebhookCreatedOut(**WebhookOut.model_validate(endpoint).model_dump(), secret=secret)


@router.delete("/webhooks/{endpoint_id}", status_code=204, summary="Remove a webhook endpoint")
def delete_webhook(endpoint_id: int, ctx: UserCtx) -> Response:
    webhooks.delete_endpoint(ctx.session, ctx.actor, endpoint_id)
    return Response(status_code=204)


@router.post("/webhooks/{endpoint_id}/allow-private", response_model=WebhookOut,
             summary="Allow or refuse private-network targets (operators)")
def allow_private(endpoint_id: int, body: AllowPrivateIn, ctx: UserCtx) -> WebhookOut:
    endpoint = webhooks.set_allow_private(ctx.session, ctx.actor, endpoint_id, body.allow)
    return WebhookOut.model_validate(endpoint)


@router.post("/webhooks/{endpoint_id}/test", response_model=WebhookTestOut, status_code=202,
             summary="Queue a signed test call (ping) to the endpoint")
def test_webhook(endpoint_id: int, ctx: UserCtx) -> WebhookTestOut:
    message = webhooks.send_test(ctx.session, ctx.actor, ctx.settings, endpoint_id)
    return WebhookTestOut(outbox_id=message.id, status=message.status)


# --- institutions: reach and why passed ---------------------------------------------------

def _reach_recipient(push: Push) -> ReachRecipientOut:
    return ReachRecipientOut(enterprise=PartyRef(id=push.enterprise_id, name=push.enterprise.name),
                             pushed_at=push.created_at.isoformat(),
                             read=push.read_at is not None, reaction=push.feedback)


@router.get("/institutions/{institution_id}/push-reach", response_model=InstitutionReachOut,
            summary="Whom an institution's achievements reached, and why others passed")
def push_reach(institution_id: int, ctx: CtxDep) -> InstitutionReachOut:
    view = reports.institution_view(ctx.session, ctx.actor, institution_id)
    return InstitutionReachOut(
        institution=PartyRef(id=view.institution.id, name=view.institution.name),
        achievements=[ReachOut(achievement=_ref(r.achievement), counts=r.counts,
                               recipients=[_reach_recipient(p) for p in r.pushes],
                               interested=[PartyRef(id=e.id, name=e.name)
                                           for e in r.interested_enterprises])
                      for r in view.achievements],
        why_passed=view.why_passed, notes=view.notes, totals=view.totals)
