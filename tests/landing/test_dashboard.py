"""The landing dashboard, the monthly report and its workbook, and the plotly assets.

Ledger rows come from tests/landing/stats_fixtures.py (cases, trail events and deals written
directly through the models at chosen dates). Every figure the pages and the workbook show is
compared with :func:`compute_stats` for the same period: nothing is counted twice.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest
from openpyxl import load_workbook

from luodi.auth.service import actor_for
from luodi.db import utcnow
from luodi.landing import charts, report
from luodi.landing.stats import compute_stats
from luodi.web.app import CSP
from luodi.web.plotly_assets import GLOBAL_ID, parse_rules, plotly_js_path, plotly_js_version
from tests.factories import login, make_user
from tests.landing import stats_fixtures as sf

TODAY = utcnow().date()
YEAR = TODAY.year
THIS_MONTH = TODAY.replace(day=1)
LAST_MONTH_END = THIS_MONTH - dt.timedelta(days=1)


def _as(client, user, locale: str = "zh_CN") -> None:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    login(client, user.email)
    client.cookies.set("luodi_locale", locale)


def _ok(client, url: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, response.text[:800]
    html = response.text
    assert ' style="' not in html and "<script>" not in html  # nothing the CSP would block
    return html


def _figures(html: str) -> dict[str, dict]:
    blocks = re.findall(r'<script type="application/json" id="fig-([a-z_]+)">(.*?)</script>',
                        html, re.S)
    return {name: json.loads(body) for name, body in blocks}


@pytest.fixture
def ledger(session):  # type: ignore[no-untyped-def]
    """This month: two landings (海淀, 滨海新区), one elsewhere (浦东), one cancelled;
    last month: one landing in 雄县. Cases opened this month, one stalled for 40 days."""
    w = sf.ledger_world(session)
    opened = dt.datetime.combine(THIS_MONTH, dt.time(8), tzinfo=dt.UTC)
    deals = []
    for landing, amount, seller in (("110108", "100.00", "110108"), ("120116", "300.00", "110108"),
                                    ("310115", "50.50", "320508")):
        case = sf.add_case(session, w, opened=opened, trail=[("accepted", 0.1)])
        deals.append(sf.add_deal(session, w, case, amount=amount, signed_on=THIS_MONTH,
                                 landing=landing, seller=seller))
    cancelled = sf.add_case(session, w, opened=opened)
    sf.add_deal(session, w, cancelled, amount="999", signed_on=THIS_MONTH, landing="110108",
                status="cancelled")
    earlier = sf.add_case(session, w, opened=opened - dt.timedelta(days=60))
    sf.add_deal(session, w, earlier, amount="20", signed_on=LAST_MONTH_END, landing="130638",
                category="license", field_code="health", institution=1, broker=1)
    sf.add_case(session, w, opened=opened - dt.timedelta(days=80), trail=[("accepted", 1)])
    return w


@pytest.fixture
def operator(session):  # type: ignore[no-untyped-def]
    return make_user(session, "operator")


@pytest.fixture
def viewer(session):  # type: ignore[no-untyped-def]
    return make_user(session, "viewer")


# --- who may see it ---------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["enterprise_member", "institution_member", "broker", "expert"])
def test_other_roles_are_refused(client, session, role) -> None:  # type: ignore[no-untyped-def]
    _as(client, make_user(session, role))
    for url in ("/dashboard", "/dashboard/report?month=2025-01", "/dashboard/report.xlsx",
                "/dashboard/deals.xlsx"):
        assert client.get(url).status_code == 403, url


def test_anonymous_is_sent_to_log_in(client) -> None:  # type: ignore[no-untyped-def]
    for url in ("/dashboard", "/dashboard/report", "/dashboard/deals.xlsx"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_nav_link_for_staff_and_viewers_only(client, session, operator, viewer) -> None:  # type: ignore[no-untyped-def]
    for user, shown in ((operator, True), (viewer, True),
                        (make_user(session, "enterprise_member"), False)):
        _as(client, user)
        assert ('data-testid="nav-dashboard"' in client.get("/").text) is shown


# --- the dashboard ----------------------------------------------------------------------------

@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_operator_sees_the_figures_of_this_year(client, session, ledger, operator,
                                                locale) -> None:  # type: ignore[no-untyped-def]
    _as(client, operator, locale)
    html = _ok(client, "/dashboard")
    assert f'<html lang="{"zh-CN" if locale == "zh_CN" else "en"}">' in html
    stats = compute_stats(session, actor_for(operator), date_from=dt.date(YEAR, 1, 1),
                          date_to=TODAY).as_json()
    kpi = dict(re.findall(r'data-testid="kpi-([a-z-]+)">.*?kpi-value mono">([^<]*)<', html, re.S))
    assert kpi["opened"] == str(stats["funnel"]["opened"])
    assert kpi["landings"] == str(stats["landings"]["count"])
    assert kpi["value"] == f'{stats["landings"]["value_wan"]:,.2f}'
    assert kpi["jjj-count"] == charts.percent(stats["jjj_share_count"])
    assert kpi["jjj-value"] == charts.percent(stats["jjj_share_value"])
    assert kpi["beijing"] == charts.percent(stats["beijing_to_tianjin_hebei"]["share_count"])
    figures = _figures(html)
    assert {"funnel", "district", "field", "institution", "broker", "category"} <= set(figures)
    district = figures["district"]["data"][0]
    assert sum(district["x"]) == stats["landings"]["count"]
    assert 'data-testid="register-link"' in html  # staff may export the register
    assert 'id="def-jjj"' in html and 'href="#def-jjj"' in html
    if locale == "en":
        assert "Tianjin" in html and "Technology transfer" in html  # relabelled groups
    else:
        assert "天津市 滨海新区" in html and "技术转让" in html


def test_jjj_shares_and_absolute_numbers(client, session, ledger, operator) -> None:  # type: ignore[no-untyped-def]
    _as(client, operator, "en")
    html = _ok(client, "/dashboard?period=month")
    # This month: 海淀 100 + 滨海新区 300 in 京津冀, 浦东 50.50 outside; the cancelled one never counts.
    assert "66.7 %" in html and "2 of 3 landings" in html
    assert "88.8 %" in html and "400.00 of 450.50 万元" in html
    # Two landings have a Beijing seller; one of them landed in Tianjin.
    assert "1 of 2 landings with a Beijing seller" in html and "50.0 %" in html


def test_viewer_sees_the_dashboard_without_the_register(client, ledger, viewer) -> None:  # type: ignore[no-untyped-def]
    _as(client, viewer)
    html = _ok(client, "/dashboard?period=all")
    assert 'data-testid="kpi-landings"' in html and 'data-testid="register-link"' not in html
    assert client.get("/dashboard/deals.xlsx").status_code == 403


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_empty_period_shows_dashes_not_zero_percent(client, operator, locale) -> None:  # type: ignore[no-untyped-def]
    _as(client, operator, locale)
    html = _ok(client, "/dashboard?from=2001-01-01&to=2001-12-31")
    kpi = dict(re.findall(r'data-testid="kpi-([a-z-]+)">.*?kpi-value mono">([^<]*)<', html, re.S))
    assert kpi["jjj-count"] == kpi["jjj-value"] == kpi["beijing"] == "—"
    assert kpi["landings"] == "0" and not re.search(r">\s*0(\.0)? %", html)
    assert _figures(html) == {}  # nothing to draw: the page says so instead
    assert 'data-testid="empty-funnel"' in html
    assert 'value="2001-01-01"' in html and 'value="2001-12-31"' in html


def test_presets_choose_the_period(client, operator) -> None:  # type: ignore[no-untyped-def]
    _as(client, operator)
    html = _ok(client, "/dashboard?period=last_month")
    assert f"{LAST_MONTH_END.replace(day=1)} – {LAST_MONTH_END}" in html
    assert 'data-testid="preset-last_month" aria-current="page"' in html
    html = _ok(client, "/dashboard")
    assert f"{dt.date(YEAR, 1, 1)} – {TODAY}" in html
    assert 'data-testid="preset-year" aria-current="page"' in html
    assert "… – …" in _ok(client, "/dashboard?period=all")


def test_bad_dates_are_refused(client, operator) -> None:  # type: ignore[no-untyped-def]
    _as(client, operator)
    assert client.get("/dashboard?from=2026-13-01").status_code == 422
    assert client.get("/dashboard?from=2026-05-01&to=2026-04-01").status_code == 422


def test_dashboard_keeps_the_strict_csp(client, operator) -> None:  # type: ignore[no-untyped-def]
    _as(client, operator)
    response = client.get("/dashboard")
    assert response.headers["content-security-policy"] == CSP
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    html = response.text
    assert f'<link rel="stylesheet" id="{GLOBAL_ID}" class="no-inline-styles"' in html
    assert f'/vendor/plotly/{plotly_js_version()}/plotly.min.js' in html


def test_figures_are_valid_plotly(session, ledger, operator) -> None:  # type: ignore[no-untyped-def]
    import plotly.graph_objects as go

    stats = compute_stats(session, actor_for(operator)).as_json()
    figures = charts.build_figures(stats)
    assert all(figures.values()), figures
    for figure in figures.values():
        go.Figure(data=figure["data"], layout=figure["layout"])  # raises on an invalid key
    assert figures["funnel"]["data"][0]["x"] == [s["reached"] for s in stats["funnel"]["stages"]]


# --- the monthly report -----------------------------------------------------------------------

@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_report_page(client, session, ledger, operator, viewer, locale) -> None:  # type: ignore[no-untyped-def]
    month = THIS_MONTH.strftime("%Y-%m")
    _as(client, operator, locale)
    html = _ok(client, f"/dashboard/report?month={month}")
    assert 'data-testid="report-deals"' in html and html.count("data-deal=") == 3
    values = dict(re.findall(r'<tr data-key="([^"]+)">.*?data-testid="month-value">([^<]*)<',
                             html, re.S))
    assert values["landings.count"] == "3" and values["landings.value_wan"] == "450.50"
    _as(client, viewer, locale)
    html = _ok(client, f"/dashboard/report?month={month}")
    assert 'data-testid="report-deals"' not in html  # viewers read figures, not deal rows


def test_report_defaults_to_last_month_and_refuses_bad_months(client, operator) -> None:  # type: ignore[no-untyped-def]
    _as(client, operator)
    assert f"{LAST_MONTH_END.replace(day=1)} – {LAST_MONTH_END}" in _ok(client, "/dashboard/report")
    future = (TODAY.replace(day=1) + dt.timedelta(days=40)).strftime("%Y-%m")
    for month in ("2026-13", "26-01", future):
        assert client.get(f"/dashboard/report?month={month}").status_code == 422, month


def _sheet_rows(sheet) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [tuple(c.value for c in row) for row in sheet.iter_rows()]


@pytest.mark.parametrize("month_start", [THIS_MONTH, LAST_MONTH_END.replace(day=1)])
def test_report_workbook_equals_the_statistics(client, session, ledger, operator,
                                               month_start) -> None:  # type: ignore[no-untyped-def]
    month = month_start.strftime("%Y-%m")
    _as(client, operator)
    response = client.get(f"/dashboard/report.xlsx?month={month}")
    assert response.status_code == 200
    assert response.headers["content-disposition"].endswith(f'luodi-report-{month}.xlsx"')
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["摘要", "按落地区县", "按技术领域", "按机构", "按技术经理人",
                               "按合同类别", "本月落地合同"]
    actor = actor_for(operator)
    first, last = report.month_bounds(month)
    as_of = min(TODAY, last)
    expected = compute_stats(session, actor, date_from=first, date_to=last, today=as_of).as_json()
    ytd = compute_stats(session, actor, date_from=first.replace(month=1), date_to=last,
                        today=as_of).as_json()
    rows = {r[1]: r for r in _sheet_rows(book["摘要"])[1:] if r[1]}
    assert set(rows) == {row.path for row in report.SUMMARY}
    for path, (_label, _key, month_value, ytd_value, _definition) in rows.items():
        for got, stats in ((month_value, expected), (ytd_value, ytd)):
            want = report.dig(stats, path)
            assert got == ("—" if want is None else want), path
    districts = _sheet_rows(book["按落地区县"])[1:]
    assert sum(r[2] for r in districts) == expected["landings"]["count"]
    assert sum(r[4] for r in districts) == ytd["landings"]["count"]
    assert sum(r[5] for r in districts) == pytest.approx(ytd["landings"]["value_wan"])
    deals = _sheet_rows(book["本月落地合同"])
    assert len(deals) - 1 == expected["landings"]["count"]
    assert book["摘要"].freeze_panes == "A2"


def test_viewer_report_workbook_has_no_deal_rows(client, ledger, viewer) -> None:  # type: ignore[no-untyped-def]
    _as(client, viewer, "en")
    response = client.get(f"/dashboard/report.xlsx?month={THIS_MONTH:%Y-%m}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[0] == "Summary" and "Landings of the month" not in book.sheetnames
    summary = {r[1]: r for r in _sheet_rows(book["Summary"])[1:] if r[1]}
    assert summary["jjj_share_count"][2] == pytest.approx(2 / 3, abs=1e-4)


def test_empty_month_report_has_dashes(client, session, operator) -> None:  # type: ignore[no-untyped-def]
    _as(client, operator)
    book = load_workbook(io.BytesIO(client.get("/dashboard/report.xlsx?month=2001-02").content))
    summary = {r[1]: r for r in _sheet_rows(book["摘要"])[1:] if r[1]}
    assert summary["jjj_share_count"][2:4] == ("—", "—")
    assert summary["landings.count"][2:4] == (0, 0)
    assert _sheet_rows(book["本月落地合同"])[1:] == []


# --- plotly, served from the installed package ------------------------------------------------

def test_plotly_js_is_served_from_the_package_with_long_caching(client) -> None:  # type: ignore[no-untyped-def]
    url = f"/vendor/plotly/{plotly_js_version()}/plotly.min.js"
    response = client.get(url, headers={"accept-encoding": "identity"})
    assert response.status_code == 200 and response.content == plotly_js_path().read_bytes()
    assert "immutable" in response.headers["cache-control"]
    assert response.headers["content-type"].startswith("text/javascript")
    zipped = client.get(url, headers={"accept-encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"  # httpx decompresses it again
    assert zipped.status_code == 200 and zipped.content == plotly_js_path().read_bytes()
    assert client.get("/vendor/plotly/0.0.1/plotly.min.js").status_code == 404


def test_plotly_stylesheets_come_from_the_bundle(client) -> None:  # type: ignore[no-untyped-def]
    rules = parse_rules(plotly_js_path().read_text(encoding="utf-8"))
    assert len(rules) > 40 and any(".modebar" in key for key, _ in rules)
    response = client.get(f"/vendor/plotly/{plotly_js_version()}/{GLOBAL_ID}.css")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/css")
    assert ".js-plotly-plot .plotly .modebar{" in response.text
    assert "immutable" in response.headers["cache-control"]
    assert client.get(f"/vendor/plotly/{plotly_js_version()}/nope.css").status_code == 404
