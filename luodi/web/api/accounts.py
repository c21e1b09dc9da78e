"""API: organisations, users and the audit log (staff), through the account services."""

from __future__ import annotations

from fastapi import APIRouter, Query

from luodi import audit
from luodi.auth import service
from luodi.web.api.schemas import ActiveIn, AuditOut, OrgIn, OrgOut, UserIn, UserOut
from luodi.web.deps import UserCtx

router = APIRouter(tags=["accounts"])


@router.get("/organisations", response_model=list[OrgOut], summary="List organisations")
def list_organisations(ctx: UserCtx) -> list[OrgOut]:
    return [OrgOut.model_validate(o) for o in service.list_organisations(ctx.session, ctx.actor)]


@router.post("/organisations", response_model=OrgOut, status_code=201,
             summary="Register an organisation (operators)")
def create_organisation(body: OrgIn, ctx: UserCtx) -> OrgOut:
    org = service.create_organisation(ctx.session, ctx.actor, name=body.name, kind=body.kind,
                                      name_en=body.name_en, region_code=body.region_code)
    return OrgOut.model_validate(org)


@router.get("/users", response_model=list[UserOut], summary="List users (operators)")
def list_users(ctx: UserCtx, limit: int = Query(100, ge=1, le=500),
               offset: int = Query(0, ge=0)) -> list[UserOut]:
    users = service.list_users(ctx.session, ctx.actor, limit=limit, offset=offset)
    return [UserOut.model_validate(u) for u in users]


@router.post("/users", response_model=UserOut, status_code=201, summary="Create a user")
def create_user(body: UserIn, ctx: UserCtx) -> UserOut:
    new = service.NewUser(email=body.email, display_name=body.display_name, role=body.role,
                          password=body.password, organisation_id=body.organisation_id,
                          locale=body.locale)
    user = service.create_user(ctx.session, ctx.actor, new,
                               min_password=ctx.settings.password_min_length)
    return UserOut.model_validate(user)


@router.get("/users/{user_id}", response_model=UserOut, summary="One user")
def get_user(user_id: int, ctx: UserCtx) -> UserOut:
    return UserOut.model_validate(service.get_user(ctx.session, ctx.actor, user_id))


@router.post("/users/{user_id}/active", response_model=UserOut,
             summary="Deactivate or reactivate a user")
def set_active(user_id: int, body: ActiveIn, ctx: UserCtx) -> UserOut:
    return UserOut.model_validate(service.set_active(ctx.session, ctx.actor, user_id, body.active))


@router.post("/users/{user_id}/unlock", response_model=UserOut, summary="Clear a login lockout")
def unlock(user_id: int, ctx: UserCtx) -> UserOut:
    return UserOut.model_validate(service.unlock_user(ctx.session, ctx.actor, user_id))


@router.get("/audit", response_model=list[AuditOut], summary="Recent audit events (operators)")
def audit_log(ctx: UserCtx, limit: int = Query(100, ge=1, le=1000),
              action: str | None = Query(None, max_length=80)) -> list[AuditOut]:
    events = audit.recent(ctx.session, ctx.actor, limit=limit, action=action)
    return [AuditOut.model_validate(e) for e in events]
