"""Helpers for the browser tests: logging people in, each in a context of their own."""

from __future__ import annotations

import os
from pathlib import Path

from tests.factories import PASSWORD

SHOTS = Path(os.environ.get("LUODI_SCREENSHOTS", "build/screenshots"))


def login(page, live_server: str, email: str) -> None:  # type: ignore[no-untyped-def]
    """Log ``page`` in as ``email`` through the login form (zh-CN labels)."""
    page.goto(f"{live_server}/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")


def open_as(browser, live_server: str, email: str):  # type: ignore[no-untyped-def]
    """A fresh browser context (its own cookies) logged in as ``email``; CSP errors collected."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.csp_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda msg: page.csp_errors.append(msg.text)  # type: ignore[attr-defined]
            if "Content Security Policy" in msg.text else None)
    login(page, live_server, email)
    return context, page


def case_state(page) -> str:  # type: ignore[no-untyped-def]
    """The state shown in the head of a case page."""
    return page.locator('.page-head [data-testid="case-state"]').get_attribute("data-state")
