"""In a real Chromium: log in, switch language, log out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("LUODI_SCREENSHOTS", "build/screenshots"))


def test_login_switch_language_logout(page, live_server, session) -> None:  # type: ignore[no-untyped-def]
    user = make_user(session, "institution_member", email="tto@example.cn")
    page.goto(f"{live_server}/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.get_by_test_id("login-link").click()
    page.get_by_label("邮箱").fill(user.email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")
    assert page.get_by_test_id("current-user").inner_text() == user.display_name
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "home-zh.png"), full_page=True)

    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "From the list to the landed deal"
    page.screenshot(path=str(SHOTS / "home-en.png"), full_page=True)

    page.get_by_test_id("logout").click()
    page.wait_for_url(f"{live_server}/login")
    assert page.get_by_test_id("login-link").is_visible()
    page.goto(f"{live_server}/account")
    assert "/login" in page.url  # the session is gone server-side


def test_wrong_password_shows_error_in_page(page, live_server, session) -> None:  # type: ignore[no-untyped-def]
    user = make_user(session, "viewer")
    page.goto(f"{live_server}/login")
    page.get_by_label("邮箱").fill(user.email)
    page.get_by_label("密码").fill("this is not the password")
    page.get_by_role("button", name="登录").click()
    assert "邮箱或密码错误" in page.get_by_test_id("login-error").inner_text()


def test_operator_reaches_admin_pages_through_the_menu(page, live_server, session) -> None:  # type: ignore[no-untyped-def]
    user = make_user(session, "operator")
    page.goto(f"{live_server}/login")
    page.get_by_label("邮箱").fill(user.email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")
    page.get_by_test_id("admin-menu").locator("summary").click()
    page.get_by_role("link", name="审计日志").click()
    page.wait_for_url(f"{live_server}/admin/audit")
    assert page.get_by_test_id("audit-table").is_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "audit-zh.png"))
