"""In a real Chromium: the dashboard's plotly charts draw under the site's strict CSP.

plotly.js is served from the installed package, its injected styles as files (see
luodi/web/plotly_assets.py); the page must draw every chart as SVG without a single CSP
violation — a blocked ``<style>`` would show up as a ``securitypolicyviolation`` event.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from luodi.db import utcnow
from tests.factories import PASSWORD, make_user
from tests.landing import stats_fixtures as sf

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("LUODI_SCREENSHOTS", "build/screenshots"))

# Recorded before any page script runs: CSP violations and uncaught errors.
WATCH = """
window.__problems = [];
document.addEventListener("securitypolicyviolation", (e) => window.__problems.push(
  "csp " + e.violatedDirective + " " + e.blockedURI + " " + (e.sourceFile || "")));
window.addEventListener("error", (e) => window.__problems.push("error " + e.message));
"""


def _ledger(session) -> None:  # type: ignore[no-untyped-def]
    w = sf.ledger_world(session)
    today = utcnow().date()
    opened = dt.datetime.combine(today.replace(day=1), dt.time(1), tzinfo=dt.UTC)
    trail = [("accepted", 1), ("contacts_revealed", 3), ("meeting", 9), ("negotiating", 20)]
    for i, (landing, amount) in enumerate((("110108", "320"), ("120116", "150.5"),
                                           ("130638", "88"), ("310115", "60"))):
        case = sf.add_case(session, w, opened=opened - dt.timedelta(days=90 + i),
                           trail=trail[: 2 + i % 3])
        sf.add_deal(session, w, case, amount=amount, signed_on=today - dt.timedelta(days=i),
                    landing=landing, field_code=sf.FIELDS[i], category=sf.CATEGORIES[i],
                    institution=i % 2, broker=i % 2)
    for _ in range(3):  # idle cases for the stalled chart
        sf.add_case(session, w, opened=opened - dt.timedelta(days=60), trail=[("accepted", 1)])


def _login(page, live_server: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")


def test_charts_render_under_the_csp(page, live_server, session) -> None:  # type: ignore[no-untyped-def]
    _ledger(session)
    operator = make_user(session, "operator")
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.add_init_script(WATCH)
    _login(page, live_server, operator.email)
    page.get_by_test_id("nav-dashboard").click()
    page.wait_for_url(f"{live_server}/dashboard")
    page.goto(f"{live_server}/dashboard?period=all")
    charts = page.locator("[data-chart]")
    names = [charts.nth(i).get_attribute("data-testid") for i in range(charts.count())]
    assert {"chart-funnel", "chart-stage_days", "chart-stalled", "chart-district", "chart-field",
            "chart-institution", "chart-broker", "chart-category"} <= set(names)
    page.wait_for_function(
        "[...document.querySelectorAll('[data-chart]')].every(e => e.dataset.rendered)")
    for i, name in enumerate(names):
        chart = charts.nth(i)
        assert chart.get_attribute("data-rendered") == "true", name
        assert chart.locator("svg.main-svg").count() >= 1, name
        assert chart.locator("g.trace").count() >= 1, name  # bars / funnel drawn, not just axes
    assert page.locator("[data-testid=chart-funnel] g.trace path").count() >= 7
    # The district chart names its districts in Chinese (the CJK font renders them).
    assert "河北省 保定市 雄县" in page.get_by_test_id("chart-district").inner_text()
    # plotly's own stylesheet came from our file: its rule positions the SVG layers.
    position = page.eval_on_selector("[data-testid=chart-funnel] svg.main-svg",
                                     "e => getComputedStyle(e).position")
    assert position == "absolute"
    assert page.evaluate("document.querySelectorAll('head style').length") == 0
    problems = page.evaluate("window.__problems")
    assert problems == [], problems
    assert not [c for c in console if "Content Security Policy" in c or "strict CSP" in c], console
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "dashboard-zh.png"), full_page=True)


def test_viewer_sees_charts_in_english(page, live_server, session) -> None:  # type: ignore[no-untyped-def]
    _ledger(session)
    viewer = make_user(session, "viewer")
    page.add_init_script(WATCH)
    _login(page, live_server, viewer.email)
    page.goto(f"{live_server}/lang/en?next=/dashboard")
    page.wait_for_url(f"{live_server}/dashboard")
    page.wait_for_function(
        "[...document.querySelectorAll('[data-chart]')].every(e => e.dataset.rendered)")
    assert page.locator("[data-chart][data-rendered=true] svg.main-svg").count() >= 8
    assert "Technology transfer" in page.get_by_test_id("chart-category").inner_text()
    assert page.get_by_test_id("register-link").count() == 0
    assert page.evaluate("window.__problems") == []
    page.screenshot(path=str(SHOTS / "dashboard-en.png"), full_page=True)
