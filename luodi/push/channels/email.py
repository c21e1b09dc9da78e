"""The e-mail digest (邮件摘要): rendering in Chinese or English, and sending over SMTP.

A digest is one outbox message: plain text plus an HTML alternative, in the recipient's locale.
Its ``Message-ID`` is the outbox row's (``<luodi-outbox-{id}@host>``), so a resend after a crash
is the same message to the receiving side. Every digest carries a one-click unsubscribe
(``List-Unsubscribe`` + ``List-Unsubscribe-Post``, RFC 8058) and the same links in its body.

The strings live here rather than in the gettext catalogues because an e-mail is rendered by a
worker for someone else's locale, not for the request's.
"""

from __future__ import annotations

import email.policy
import smtplib
import ssl
from collections.abc import Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from html import escape
from typing import Any

from luodi.config import Settings
from luodi.db import utcnow
from luodi.push.channels import DeliveryFailed, DeliveryRefused, message_host
from luodi.push.unsubscribe import unsubscribe_url

__all__ = ["STRINGS", "message_id", "render_digest", "send_digest", "send_message"]

SMTP_TIMEOUT_SECONDS = 30.0
# Headers we set raw (List-Unsubscribe, longer than 78 characters) are written as given instead
# of being refolded into encoded words, which would hide the URL from mail clients.
_POLICY = email.policy.default.clone(refold_source="none")

STRINGS: dict[str, dict[str, str]] = {
    "zh_CN": {
        "subject_digest": "落地 · 本周为您推荐 {n} 项成果",
        "subject_announcements": "落地 · 新发布的成果清单",
        "greeting": "{name}，您好：",
        "intro_digest": "根据贵单位的需求和关注领域，本周为您推荐以下成果：",
        "intro_announcements": "平台发布了新的成果清单：",
        "why": "推荐理由：",
        "view": "查看详情",
        "announcements": "新发布的清单",
        "announcement": "{title}（{items} 项成果）",
        "inbox": "在站内查看全部推送",
        "footer": "您收到这封邮件，是因为您在落地平台开启了邮件推送。",
        "manage": "管理推送设置",
        "unsubscribe": "退订邮件推送",
    },
    "en": {
        "subject_digest": "luodi · {n} achievements for you this week",
        "subject_digest_one": "luodi · 1 achievement for you this week",
        "subject_announcements": "luodi · newly published catalogues",
        "greeting": "Hello {name},",
        "intro_digest": "Based on your organisation's needs and fields, these achievements "
                        "were picked for you this week:",
        "intro_announcements": "New catalogues were published on the platform:",
        "why": "Why: ",
        "view": "View details",
        "announcements": "Newly published catalogues",
        "announcement": "{title} ({items} achievements)",
        "inbox": "See all your pushes on the platform",
        "footer": "You receive this e-mail because e-mail digests are on in your luodi account.",
        "manage": "Manage notification settings",
        "unsubscribe": "Unsubscribe from e-mail digests",
    },
}


def message_id(settings: Settings, outbox_id: int) -> str:
    """The Message-ID of an outbox row's e-mail: the same on every attempt."""
    return f"<luodi-outbox-{outbox_id}@{message_host(settings.base_url)}>"


def _strings(payload: Mapping[str, Any]) -> dict[str, str]:
    return STRINGS["en"] if payload.get("locale") == "en" else STRINGS["zh_CN"]


def _subject(s: dict[str, str], payload: Mapping[str, Any]) -> str:
    n = len(payload.get("items") or [])
    if payload.get("kind") == "announcements" or n == 0:
        return s["subject_announcements"]
    if n == 1 and "subject_digest_one" in s:
        return s["subject_digest_one"]
    return s["subject_digest"].format(n=n)


def _links(settings: Settings, user_id: int, payload: Mapping[str, Any]) -> dict[str, str]:
    base = settings.base_url.rstrip("/")
    return {"inbox": _safe_url(payload.get("inbox_url")) or f"{base}/inbox",
            "manage": f"{base}/account/notifications",
            "unsubscribe": unsubscribe_url(settings, user_id)}


def _safe_url(url: Any) -> str:
    """Only absolute http(s) links reach an href: anything else (``javascript:``…) is dropped."""
    text = str(url or "")
    return text if text.startswith(("https://", "http://")) else ""


def _reason(item: Mapping[str, Any], locale: str | None) -> str:
    if locale == "en":
        return str(item.get("reason_en") or item.get("reason") or "")
    return str(item.get("reason") or "")


def _text_body(s: dict[str, str], payload: Mapping[str, Any], links: dict[str, str]) -> str:
    items = payload.get("items") or []
    lines = [s["greeting"].format(name=payload.get("name") or ""), ""]
    lines += [s["intro_digest"] if items else s["intro_announcements"], ""]
    for n, item in enumerate(items, 1):
        lines.append(f"{n}. {item.get('title', '')}")
        if item.get("summary"):
            lines.append(f"   {item['summary']}")
        lines.append(f"   {s['why']}{_reason(item, payload.get('locale'))}")
        lines += [f"   {s['view']}: {_safe_url(item.get('url'))}", ""]
    if payload.get("announcements"):
        lines += [s["announcements"], ""] if items else []
        for ann in payload["announcements"]:
            label = s["announcement"].format(title=ann.get("title", ""), items=ann.get("items", 0))
            lines.append(f"- {label} {_safe_url(ann.get('url'))}")
        lines.append("")
    lines += [f"{s['inbox']}: {links['inbox']}", "", "-- ", s["footer"],
              f"{s['manage']}: {links['manage']}", f"{s['unsubscribe']}: {links['unsubscribe']}"]
    return "\n".join(lines) + "\n"


def _a(url: Any, label: str) -> str:
    href = _safe_url(url)
    if not href:
        return escape(label)
    return f'<a href="{escape(href, quote=True)}">{escape(label)}</a>'


def _html_items(s: dict[str, str], payload: Mapping[str, Any]) -> list[str]:
    parts = []
    for item in payload.get("items") or []:
        parts.append('<li style="margin-bottom:1em">')
        parts.append(f"<strong>{_a(item.get('url'), str(item.get('title', '')))}</strong>")
        if item.get("summary"):
            parts.append(f"<br>{escape(str(item['summary']))}")
        reason = escape(_reason(item, payload.get("locale")))
        parts.append(f'<br><span style="color:#555">{escape(s["why"])}{reason}</span>')
        parts.append(f"<br>{_a(item.get('url'), s['view'])}</li>")
    return parts


def _html_body(s: dict[str, str], payload: Mapping[str, Any], links: dict[str, str]) -> str:
    items = payload.get("items") or []
    lang = "en" if payload.get("locale") == "en" else "zh-CN"
    parts = [f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"></head>',
             '<body style="font-family:sans-serif;line-height:1.5">',
             f"<p>{escape(s['greeting'].format(name=payload.get('name') or ''))}</p>",
             f"<p>{escape(s['intro_digest'] if items else s['intro_announcements'])}</p>"]
    if items:
        parts += ["<ol>", *_html_items(s, payload), "</ol>"]
    if payload.get("announcements"):
        parts += [f"<h3>{escape(s['announcements'])}</h3>"] if items else []
        parts.append("<ul>")
        for ann in payload["announcements"]:
            label = s["announcement"].format(title=ann.get("title", ""), items=ann.get("items", 0))
            parts.append(f"<li>{_a(ann.get('url'), label)}</li>")
        parts.append("</ul>")
    parts += [f"<p>{_a(links['inbox'], s['inbox'])}</p>",
              '<hr><p style="color:#777;font-size:small">',
              f"{escape(s['footer'])}<br>{_a(links['manage'], s['manage'])} · "
              f"{_a(links['unsubscribe'], s['unsubscribe'])}</p></body></html>"]
    return "\n".join(parts) + "\n"


def _single_line(value: Any) -> str:
    return " ".join(str(value or "").split())


def render_digest(
    settings: Settings, *, outbox_id: int, user_id: int, to: str, payload: Mapping[str, Any]
) -> EmailMessage:
    """The digest e-mail of one outbox row, with every header, ready for :func:`send_message`.

    Raises :class:`DeliveryRefused` when the address cannot be written in a header at all.
    """
    s = _strings(payload)
    links = _links(settings, user_id, payload)
    msg = EmailMessage(policy=_POLICY)
    try:
        msg["To"] = Address(display_name=_single_line(payload.get("name")), addr_spec=to)
    except (ValueError, IndexError) as exc:
        raise DeliveryRefused(f"invalid recipient address {to!r}") from exc
    msg["From"] = settings.smtp_from
    msg["Subject"] = _subject(s, payload)
    msg["Message-ID"] = message_id(settings, outbox_id)
    msg["Date"] = format_datetime(utcnow())
    # Raw, so the long URL is never RFC 2047-encoded: mail clients must read it as is.
    msg.set_raw("List-Unsubscribe", f"<{links['unsubscribe']}>")
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: keeps vacation replies away
    # base64 parts: safe through any relay, whether or not it announces 8BITMIME.
    msg.set_content(_text_body(s, payload, links), cte="base64")
    msg.add_alternative(_html_body(s, payload, links), subtype="html", cte="base64")
    return msg


def send_message(settings: Settings, msg: EmailMessage) -> None:
    """Send one message with the configured SMTP server (STARTTLS and login if set).

    A recipient refused with a 5xx code is final (:class:`DeliveryRefused`); anything else —
    connection errors, 4xx, other server errors — may pass later (:class:`DeliveryFailed`).
    """
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port,
                          timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                password = settings.smtp_password.get_secret_value() if settings.smtp_password \
                    else ""
                smtp.login(settings.smtp_username, password)
            smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        error = f"recipient refused: {exc.recipients}"
        raise (DeliveryRefused(error) if all(c >= 500 for c in codes)
               else DeliveryFailed(error)) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"SMTP: {type(exc).__name__}: {exc}") from exc


def send_digest(
    settings: Settings, *, outbox_id: int, user_id: int, to: str, payload: Mapping[str, Any]
) -> str:
    """Render and send one digest; returns its Message-ID."""
    msg = render_digest(settings, outbox_id=outbox_id, user_id=user_id, to=to, payload=payload)
    send_message(settings, msg)
    return str(msg["Message-ID"])
