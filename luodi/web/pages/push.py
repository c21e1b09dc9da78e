"""Pages of the push stage (推送): cycles, inbox, push reach, unsubscribe and notification
settings, plus the inbox's unread badge in the navigation.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from jinja2 import pass_context
from sqlalchemy.exc import SQLAlchemyError

from luodi.errors import DomainError
from luodi.push.inbox import unread_count
from luodi.web.pages import push_pages, push_settings
from luodi.web.templating import TEMPLATES

log = logging.getLogger(__name__)

router = APIRouter()
router.include_router(push_pages.router)
router.include_router(push_settings.router)


@pass_context
def inbox_unread(context: Any) -> int:
    """Unread pushes of the viewer's enterprise (one COUNT query); 0 for everyone else.

    Never fails a page: on an error page the request's session may already be unusable.
    """
    request = context.get("request")
    ctx = getattr(getattr(request, "state", None), "ctx", None)
    if ctx is None or ctx.user is None or ctx.actor.org_kind != "enterprise" or \
            context.get("error_page"):
        return 0
    if "unread" in context:  # the inbox page already counted
        return int(context["unread"] or 0)
    try:
        return unread_count(ctx.session, ctx.actor)
    except (DomainError, SQLAlchemyError) as exc:
        log.warning("unread badge unavailable: %s", exc)
        return 0


TEMPLATES.env.globals["inbox_unread"] = inbox_unread
