"""In a real Chromium, four people in four browsers dock one pushed achievement: the enterprise
shows interest from its inbox, the institution accepts, both share contacts, the operator
assigns a broker and the broker schedules a meeting; the trail shows every step and who took it.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.people import SHOTS, case_state, open_as
from tests.factories import make_org, make_user
from tests.push import ledger_factories as lf

pytestmark = pytest.mark.browser
SECRET = "保密工艺XYZ-0815"
OWNER_CONTACT = "tto-contact-0815@example.cn"


def test_four_people_dock_a_pushed_achievement(browser, live_server, session, settings) -> None:  # type: ignore[no-untyped-def]
    buyer, tto = lf.enterprise_party(session, settings), lf.institution_party(session, settings)
    robot = lf.achievement(session, settings, tto.record, title="机械臂视觉抓取系统",
                           summary="面向仓储分拣的视觉定位。", description=SECRET,
                           contact_name="转化办李老师", contact_email=OWNER_CONTACT)
    push = lf.push(session, lf.cycle(session), buyer.record, robot,
                   reason="共同关键词：视觉、抓取")
    broker = make_user(session, "broker", org=make_org(session, "broker_agency"))
    operator = make_user(session, "operator")
    contexts = []
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        # The enterprise: 感兴趣 in the inbox opens the case; the push links to it.
        ctx, ent = open_as(browser, live_server, buyer.user.email)
        contexts.append(ctx)
        ent.get_by_test_id("nav-inbox").click()
        item = ent.locator(f'[data-testid="push-item"][data-push="{push.id}"]')
        item.get_by_test_id("fb-interested").click()
        ent.wait_for_load_state()
        ent.locator(f'[data-testid="push-item"][data-push="{push.id}"]').get_by_test_id(
            "open-case").click()
        ent.wait_for_url(f"{live_server}/cases/*")
        case_url = ent.url.split("#")[0]
        assert case_state(ent) == "interested"
        assert ent.get_by_test_id("contacts-hidden").is_visible()
        assert SECRET not in ent.content() and OWNER_CONTACT not in ent.content()

        # The institution accepts from its case list, and consents with its record's contact.
        ctx, inst = open_as(browser, live_server, tto.user.email)
        contexts.append(ctx)
        inst.get_by_test_id("nav-cases").click()
        inst.get_by_role("link", name="机械臂视觉抓取系统").click()
        inst.wait_for_url(case_url)
        inst.get_by_test_id("action-accept").click()
        inst.wait_for_load_state()
        assert case_state(inst) == "accepted"
        assert inst.get_by_test_id("consent-email").input_value() == OWNER_CONTACT
        inst.get_by_test_id("consent-send").click()
        inst.wait_for_load_state()
        assert inst.get_by_test_id("consent-form").count() == 0

        # The enterprise now reads the detail, consents, and both contacts appear.
        ent.goto(case_url)
        assert SECRET in ent.get_by_test_id("case-detail").inner_text()
        assert ent.get_by_test_id("consent-email").input_value() == buyer.user.email
        ent.get_by_test_id("consent-send").click()
        ent.wait_for_load_state()
        assert case_state(ent) == "contacts_revealed"
        assert OWNER_CONTACT in ent.get_by_test_id("contact-owner").inner_text()
        inst.goto(case_url)
        assert buyer.user.email in inst.get_by_test_id("contact-seeker").inner_text()

        # The operator assigns the broker.
        ctx, op = open_as(browser, live_server, operator.email)
        contexts.append(ctx)
        op.goto(case_url)
        op.get_by_test_id("broker-select").select_option(str(broker.id))
        op.get_by_test_id("broker-send").click()
        op.wait_for_load_state()
        assert broker.display_name in op.get_by_test_id("broker-name").inner_text()

        # The broker finds the case in the list and schedules a meeting.
        ctx, brk = open_as(browser, live_server, broker.email)
        contexts.append(ctx)
        brk.get_by_test_id("nav-cases").click()
        brk.locator('[data-testid="case-row"] a.record-title').click()
        brk.wait_for_url(case_url)
        day = (dt.date.today() + dt.timedelta(days=7)).isoformat()  # noqa: DTZ011 — the form's day
        brk.get_by_test_id("meeting-date").fill(day)
        brk.get_by_test_id("meeting-time").fill("10:00")
        brk.get_by_test_id("meeting-place").fill("示范大学技术转移中心 201")
        brk.get_by_test_id("meeting-agenda").fill("技术介绍与应用场景")
        brk.get_by_test_id("meeting-send").click()
        brk.wait_for_load_state()
        assert case_state(brk) == "meeting"
        meeting = brk.get_by_test_id("meeting")
        assert f"{day} 10:00" in meeting.inner_text()
        assert meeting.get_by_test_id("meeting-ics").get_attribute("href").endswith(".ics")
        brk.get_by_test_id("nav-cases").click()
        assert brk.get_by_test_id("case-row").get_attribute("data-state") == "meeting"
        brk.screenshot(path=str(SHOTS / "cases-zh.png"), full_page=True)

        # The full trail, for the enterprise too: every step with the part of who took it.
        ent.goto(case_url)
        steps = ent.get_by_test_id("trail-item")
        seen = []
        for i in range(steps.count()):
            kind = steps.nth(i).get_attribute("data-kind")
            action = steps.nth(i).get_attribute("data-action") if kind == "transition" else ""
            seen.append((kind, action, steps.nth(i).get_attribute("data-side")))
        assert seen == [("transition", "open", "seeker"), ("transition", "accept", "owner"),
                        ("consent", "", "owner"), ("consent", "", "seeker"),
                        ("transition", "reveal", "system"), ("broker", "", "staff"),
                        ("transition", "meet", "broker")], seen
        trail = ent.get_by_test_id("trail").inner_text()
        assert buyer.org.name in trail and tto.record.name in trail
        assert broker.display_name in trail
        ent.screenshot(path=str(SHOTS / "case-zh.png"), full_page=True)
        for page in (ent, inst, op, brk):
            assert not page.csp_errors, page.csp_errors  # type: ignore[attr-defined]
    finally:
        for context in contexts:
            context.close()
