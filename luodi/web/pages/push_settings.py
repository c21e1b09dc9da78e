"""Page: notification settings (通知设置) — consent to personalised pushes (PIPL art. 24), e-mail
digests and how often; for enterprise members also the organisation's subscription (订阅), its
opt-outs (禁推) and its webhook endpoints.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from luodi.errors import DomainError, PermissionDenied, ValidationFailed
from luodi.inventory.models import Achievement, Enterprise, Institution
from luodi.inventory.taxonomy import active_taxonomy
from luodi.push import consent, webhooks
from luodi.push.ledger import PushBlock
from luodi.web.deps import Ctx, UserCtx
from luodi.web.i18n import translate
from luodi.web.pages.forms import UserFormCtx, field, redirect
from luodi.web.templating import render

router = APIRouter(prefix="/account/notifications")

HERE = "/account/notifications"
_SPLIT = re.compile(r"[,，;；、\n]+")


def _org_id(ctx: Ctx) -> int | None:
    """The organisation whose subscription and webhooks this page manages (enterprises only)."""
    return ctx.actor.org_id if ctx.actor.org_kind == "enterprise" else None


def _enterprise(ctx: Ctx, org_id: int) -> Enterprise | None:
    return ctx.session.scalars(select(Enterprise).where(Enterprise.organisation_id == org_id)
                               .order_by(Enterprise.id)).first()


def _block_rows(ctx: Ctx, blocks: list[PushBlock]) -> list[tuple[PushBlock, str]]:
    """Each block with what it forbids, by name (one achievement, or a whole institution)."""
    if not blocks:
        return []
    inst_ids = {b.institution_id for b in blocks if b.institution_id}
    ach_ids = {b.achievement_id for b in blocks if b.achievement_id}
    names: dict[tuple[str, int | None], str] = {}
    for i, name in ctx.session.execute(
            select(Institution.id, Institution.name).where(Institution.id.in_(inst_ids))):
        names["institution", i] = name
    for i, title in ctx.session.execute(
            select(Achievement.id, Achievement.title).where(Achievement.id.in_(ach_ids))):
        names["achievement", i] = title
    return [(b, names.get(("achievement", b.achievement_id) if b.achievement_id
                          else ("institution", b.institution_id), "")) for b in blocks]


def _page(ctx: Ctx, *, status: int = 200, **extra: Any) -> Response:
    org_id = _org_id(ctx)
    org: dict[str, Any] = {}
    if org_id is not None:
        enterprise = _enterprise(ctx, org_id)
        org = {"subscription": consent.get_subscription(ctx.session, ctx.actor, org_id),
               "enterprise": enterprise,
               "blocks": _block_rows(ctx, consent.list_blocks(ctx.session, ctx.actor,
                                                              enterprise.id))
               if enterprise else [],
               "endpoints": webhooks.list_endpoints(ctx.session, ctx.actor, org_id)}
    return render(ctx.request, "push/notifications.html", status_code=status,
                  prefs=consent.get_preferences(ctx.session, ctx.actor), org_id=org_id,
                  fields=active_taxonomy(), platform_cap=ctx.settings.push_email_max_per_week,
                  cap_per_cycle=ctx.settings.push_cap_per_recipient, **org, **extra)


def _attempt(ctx: Ctx, call: Callable[[], object], done: str = "saved") -> Response:
    """Run one change; a refusal re-renders the page with the reason (PRG on success)."""
    try:
        call()
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        ctx.session.rollback()
        return _page(ctx, status=exc.status, error=translate(ctx.locale, exc.message))
    return redirect(f"{HERE}?done={done}")


def _optional_int(ctx: Ctx, name: str) -> int | None:
    raw = field(ctx, name)
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationFailed("Enter a whole number, or leave it empty.")
    return int(raw)


def _checked(ctx: Ctx, name: str) -> bool:
    return field(ctx, name) not in ("", "0", "false", "off")


def _require_org(ctx: Ctx) -> int:
    org_id = _org_id(ctx)
    if org_id is None:
        raise PermissionDenied("Only enterprise members manage a subscription and webhooks.")
    return org_id


DONE = ("saved", "removed", "deleted", "tested")


@router.get("")
def notifications(ctx: UserCtx, done: str = "") -> Response:
    return _page(ctx, done=done if done in DONE else "")


@router.post("/preferences")
def save_preferences(ctx: UserFormCtx) -> Response:
    return _attempt(ctx, lambda: consent.set_preferences(
        ctx.session, ctx.actor, personalised=_checked(ctx, "personalised"),
        email=_checked(ctx, "email"), email_max_per_week=_optional_int(ctx, "email_max_per_week")))


@router.post("/subscription")
def save_subscription(ctx: UserFormCtx) -> Response:
    org_id = _require_org(ctx)
    form = ctx.extra["form"]
    fields = [str(v) for v in form.getlist("fields") if str(v).strip()]
    keywords = [k.strip() for k in _SPLIT.split(field(ctx, "keywords")) if k.strip()]
    return _attempt(ctx, lambda: consent.set_subscription(
        ctx.session, ctx.actor, ctx.settings, org_id, fields=fields, keywords=keywords,
        max_per_cycle=_optional_int(ctx, "max_per_cycle"), paused=_checked(ctx, "paused")))


@router.post("/blocks/{block_id}/remove")
def remove_block(block_id: int, ctx: UserFormCtx) -> Response:
    return _attempt(ctx, lambda: consent.remove_block(ctx.session, ctx.actor, block_id),
                    "removed")


@router.post("/webhooks")
def create_webhook(ctx: UserFormCtx) -> Response:
    org_id = _require_org(ctx)
    try:
        endpoint, secret = webhooks.create_endpoint(
            ctx.session, ctx.actor, ctx.settings, organisation_id=org_id, url=field(ctx, "url"),
            description=field(ctx, "description") or None)
    except DomainError as exc:
        if exc.status in (401, 403):
            raise
        ctx.session.rollback()
        return _page(ctx, status=exc.status, error=translate(ctx.locale, exc.message),
                     webhook_url=field(ctx, "url"))
    return _page(ctx, new_secret=secret, new_endpoint_id=endpoint.id)


@router.post("/webhooks/{endpoint_id}/delete")
def delete_webhook(endpoint_id: int, ctx: UserFormCtx) -> Response:
    return _attempt(ctx, lambda: webhooks.delete_endpoint(ctx.session, ctx.actor, endpoint_id),
                    "deleted")


@router.post("/webhooks/{endpoint_id}/test")
def test_webhook(endpoint_id: int, ctx: UserFormCtx) -> Response:
    """Queue a signed ping; the dispatcher sends it like any delivery."""
    return _attempt(ctx, lambda: webhooks.send_test(ctx.session, ctx.actor, ctx.settings,
                                                    endpoint_id), "tested")
