"""In a real Chromium: an enterprise answers its pushes; the institution sees how they landed."""

from __future__ import annotations

import pytest

from tests.browser.people import SHOTS, login
from tests.push import ledger_factories as lf

pytestmark = pytest.mark.browser


def test_enterprise_feedback_reaches_the_institution(page, live_server, session, settings) -> None:  # type: ignore[no-untyped-def]
    buyer, tto = lf.enterprise_party(session, settings), lf.institution_party(session, settings)
    robot = lf.achievement(session, settings, tto.record, title="机械臂视觉抓取系统",
                           summary="面向仓储分拣的视觉定位。")
    wheat = lf.achievement(session, settings, tto.record, title="小麦抗旱品种选育方法")
    cycle = lf.cycle(session)
    lf.push(session, cycle, buyer.record, robot, rank=1, reason="共同关键词：视觉、抓取；领域一致")
    lf.push(session, cycle, buyer.record, wheat, rank=2, reason="与贵企业的需求语义相近")

    login(page, live_server, buyer.user.email)
    assert page.get_by_test_id("unread-badge").inner_text().startswith("2")
    page.get_by_test_id("nav-inbox").click()
    page.wait_for_url(f"{live_server}/inbox")
    first = page.locator(f'[data-testid="push-item"][data-achievement="{robot.id}"]')
    assert "共同关键词：视觉、抓取" in first.get_by_test_id("push-reason").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "inbox-zh.png"), full_page=True)

    first.get_by_test_id("fb-not-relevant").click()
    first.get_by_test_id("fb-reason").select_option("too_costly")
    first.get_by_test_id("fb-not-relevant-send").click()
    page.wait_for_load_state()
    first = page.locator(f'[data-testid="push-item"][data-achievement="{robot.id}"]')
    assert "价格过高" in first.get_by_test_id("feedback-not_relevant").inner_text()

    second = page.locator(f'[data-testid="push-item"][data-achievement="{wheat.id}"]')
    second.get_by_test_id("fb-interested").click()
    page.wait_for_load_state()
    second = page.locator(f'[data-testid="push-item"][data-achievement="{wheat.id}"]')
    assert second.get_by_test_id("feedback-interested").is_visible()
    assert page.get_by_test_id("unread-badge").count() == 0  # answering a push reads it

    page.get_by_test_id("logout").click()
    page.wait_for_url(f"{live_server}/login")
    login(page, live_server, tto.user.email)
    page.get_by_test_id("nav-push-reach").click()
    page.wait_for_url(f"{live_server}/institutions/{tto.record.id}/push-reach")
    assert page.get_by_test_id("reaction-not_relevant").count() == 1
    assert page.get_by_test_id("reaction-interested").count() == 1
    costly = page.get_by_test_id("why-passed").locator('[data-reason="too_costly"]')
    assert "价格过高" in costly.inner_text() and costly.get_by_test_id("why-count").inner_text() == "1"
    page.screenshot(path=str(SHOTS / "push-reach-zh.png"), full_page=True)
