"""In a real Chromium, a pushed achievement goes all the way: a real push cycle puts a Beijing
university's achievement in a Tianjin enterprise's inbox; the enterprise is interested, the
institution accepts, both share contacts, the broker meets them, they negotiate and agree, the
broker records the deal, and the operator's dashboard shows one landing, 100 % in 京津冀.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from luodi.auth.actor import system_actor
from luodi.db import utcnow
from luodi.inventory import catalogues
from luodi.push.cycles import run_cycle
from luodi.push.ledger import Push
from tests.browser.people import SHOTS, case_state, open_as
from tests.factories import make_org, make_user
from tests.inventory import factories as inv
from tests.push import ledger_factories as lf
from tests.push.world import loose

pytestmark = pytest.mark.browser
TITLE = "基于深度学习的机械臂视觉抓取系统"


def _world(session, settings):  # type: ignore[no-untyped-def]
    """A Beijing institution with a listed achievement, a Tianjin enterprise wanting it, a
    broker and an operator; then a real push cycle (loose settings: a tiny corpus)."""
    tto = lf.institution_party(session, settings, name="北京示范理工大学")  # region 110108
    buyer = lf.enterprise_party(session, settings, name="天津示范机器人有限公司")  # 120116
    robot = inv.achievement(session, settings, tto.record, title=TITLE,
                            summary="面向仓储物流分拣的视觉定位与抓取，抓取成功率99%。")
    inv.demand(session, settings, buyer.record, title="寻求仓储分拣机械臂视觉定位技术",
               summary="用于仓储分拣的机械臂视觉定位与抓取。")
    actor = system_actor()
    cat = catalogues.create_catalogue(session, actor, name="示范重点成果清单",
                                      kind="achievements")
    catalogues.add_items(session, actor, cat.id, [robot.id])
    catalogues.submit_for_review(session, actor, cat.id)
    catalogues.approve_and_publish(session, actor, cat.id)
    run_cycle(session, system_actor(), loose(settings))
    push = session.scalar(select(Push).where(Push.enterprise_id == buyer.record.id,
                                             Push.achievement_id == robot.id))
    assert push is not None, "the cycle did not push the achievement to the enterprise"
    broker = make_user(session, "broker", org=make_org(session, "broker_agency"))
    return tto, buyer, push, broker, make_user(session, "operator")


def _act(page, action: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id(f"action-{action}").click()
    page.wait_for_load_state()


def test_a_pushed_achievement_lands_and_the_dashboard_counts_it(browser, live_server, session,  # type: ignore[no-untyped-def]
                                                               settings) -> None:
    tto, buyer, push, broker, operator = _world(session, settings)
    contexts = []
    try:
        # The enterprise: 感兴趣 in the inbox opens the case.
        ctx, ent = open_as(browser, live_server, buyer.user.email)
        contexts.append(ctx)
        ent.get_by_test_id("nav-inbox").click()
        ent.wait_for_url(f"{live_server}/inbox")
        ent.locator(f'[data-testid="push-item"][data-push="{push.id}"]').get_by_test_id(
            "fb-interested").click()
        ent.wait_for_load_state()
        ent.locator(f'[data-testid="push-item"][data-push="{push.id}"]').get_by_test_id(
            "open-case").click()
        ent.wait_for_url(f"{live_server}/cases/*")
        case_url = ent.url.split("#")[0]
        assert case_state(ent) == "interested"

        # The institution accepts and consents; the enterprise consents: contacts are shown.
        ctx, inst = open_as(browser, live_server, tto.user.email)
        contexts.append(ctx)
        inst.goto(case_url)
        _act(inst, "accept")
        assert case_state(inst) == "accepted"
        inst.get_by_test_id("consent-send").click()
        inst.wait_for_load_state()
        ent.goto(case_url)
        ent.get_by_test_id("consent-send").click()
        ent.wait_for_load_state()
        assert case_state(ent) == "contacts_revealed"
        assert ent.get_by_test_id("contact-owner").inner_text().strip()
        inst.goto(case_url)
        assert buyer.user.email in inst.get_by_test_id("contact-seeker").inner_text()

        # The operator assigns the broker, who schedules a meeting and opens negotiation.
        ctx, op = open_as(browser, live_server, operator.email)
        contexts.append(ctx)
        op.goto(case_url)
        op.get_by_test_id("broker-select").select_option(str(broker.id))
        op.get_by_test_id("broker-send").click()
        op.wait_for_load_state()
        ctx, brk = open_as(browser, live_server, broker.email)
        contexts.append(ctx)
        brk.goto(case_url)
        day = (dt.date.today() + dt.timedelta(days=7)).isoformat()  # noqa: DTZ011 — the form's day
        brk.get_by_test_id("meeting-date").fill(day)
        brk.get_by_test_id("meeting-time").fill("10:00")
        brk.get_by_test_id("meeting-place").fill("示范大学技术转移中心 201")
        brk.get_by_test_id("meeting-send").click()
        brk.wait_for_load_state()
        assert case_state(brk) == "meeting"
        _act(brk, "negotiate")
        assert case_state(brk) == "negotiating"

        # The enterprise agrees; the broker records the deal through the case page's form.
        ent.goto(case_url)
        _act(ent, "agree")
        assert case_state(ent) == "agreed"
        brk.goto(case_url)
        form = brk.get_by_test_id("deal-form")
        assert form.get_by_test_id("deal-region").input_value() == "120116"  # the buyer's
        form.get_by_test_id("deal-category").select_option("license")
        form.get_by_test_id("deal-title").fill(f"{TITLE}技术许可合同")
        form.get_by_test_id("deal-amount").fill("180")
        form.get_by_test_id("deal-signed-on").fill(utcnow().date().isoformat())
        form.get_by_test_id("deal-send").click()
        brk.wait_for_load_state()
        assert case_state(brk) == "landed"
        assert brk.get_by_test_id("deal-summary").is_visible()

        # The operator's dashboard (this year by default): one landing, all of it in 京津冀.
        op.goto(f"{live_server}/dashboard")
        assert op.get_by_test_id("kpi-landings").locator(".kpi-value").inner_text() == "1"
        for kpi in ("kpi-jjj-count", "kpi-jjj-value"):
            value = op.get_by_test_id(kpi).locator(".kpi-value").inner_text()
            assert value.replace("\u00a0", " ") == "100.0 %", (kpi, value)
        landed = op.get_by_test_id("funnel").locator('tr[data-stage="landed"] td').first
        assert landed.inner_text() == "1"
        opened = op.get_by_test_id("kpi-opened").locator(".kpi-value").inner_text()
        assert opened == "1"
        SHOTS.mkdir(parents=True, exist_ok=True)
        op.screenshot(path=str(SHOTS / "dashboard-landing-zh.png"), full_page=True)
        for page in (ent, inst, op, brk):
            assert not page.csp_errors, page.csp_errors  # type: ignore[attr-defined]
    finally:
        for context in contexts:
            context.close()
