"""Pages for staff: users, organisations and the audit log."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from luodi import audit
from luodi.auth import service
from luodi.auth.models import OrgKind, Role
from luodi.errors import DomainError
from luodi.web.deps import UserCtx
from luodi.web.i18n import translate
from luodi.web.pages.forms import UserFormCtx, field, redirect
from luodi.web.templating import render

router = APIRouter(prefix="/admin")


def _users_page(ctx, *, status: int = 200, **extra) -> Response:  # type: ignore[no-untyped-def]
    return render(ctx.request, "admin/users.html", status_code=status,
                  users=service.list_users(ctx.session, ctx.actor),
                  organisations=service.list_organisations(ctx.session, ctx.actor),
                  roles=[r.value for r in Role], **extra)


@router.get("/users")
def users(ctx: UserCtx) -> Response:
    return _users_page(ctx)


@router.post("/users")
def create_user(ctx: UserFormCtx) -> Response:
    org = field(ctx, "organisation_id")
    new = service.NewUser(email=field(ctx, "email"), display_name=field(ctx, "display_name"),
                          role=field(ctx, "role"), password=field(ctx, "password"),
                          organisation_id=int(org) if org.isdigit() else None)
    try:
        service.create_user(ctx.session, ctx.actor, new,
                            min_password=ctx.settings.password_min_length)
    except DomainError as exc:
        return _users_page(ctx, status=exc.status, error=translate(ctx.locale, exc.message))
    return redirect("/admin/users")


@router.post("/users/{user_id}/unlock")
def unlock_user(user_id: int, ctx: UserFormCtx) -> Response:
    service.unlock_user(ctx.session, ctx.actor, user_id)
    return redirect("/admin/users")


@router.post("/users/{user_id}/active")
def set_active(user_id: int, ctx: UserFormCtx) -> Response:
    service.set_active(ctx.session, ctx.actor, user_id, field(ctx, "active") == "1")
    return redirect("/admin/users")


def _orgs_page(ctx, *, status: int = 200, **extra) -> Response:  # type: ignore[no-untyped-def]
    return render(ctx.request, "admin/organisations.html", status_code=status,
                  organisations=service.list_organisations(ctx.session, ctx.actor),
                  kinds=[k.value for k in OrgKind], **extra)


@router.get("/organisations")
def organisations(ctx: UserCtx) -> Response:
    return _orgs_page(ctx)


@router.post("/organisations")
def create_organisation(ctx: UserFormCtx) -> Response:
    try:
        service.create_organisation(ctx.session, ctx.actor, name=field(ctx, "name"),
                                    kind=field(ctx, "kind"),
                                    name_en=field(ctx, "name_en") or None,
                                    region_code=field(ctx, "region_code") or None)
    except DomainError as exc:
        return _orgs_page(ctx, status=exc.status, error=translate(ctx.locale, exc.message))
    return redirect("/admin/organisations")


@router.get("/audit")
def audit_log(ctx: UserCtx, action: str | None = None) -> Response:
    events = audit.recent(ctx.session, ctx.actor, limit=200, action=action or None)
    return render(ctx.request, "admin/audit.html", events=events, action=action or "")
