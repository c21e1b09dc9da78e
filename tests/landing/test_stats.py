"""compute_stats: each figure against a ledger small enough to count by hand."""

from __future__ import annotations

import datetime as dt
import statistics

import pytest

from luodi.auth.actor import ANONYMOUS, system_actor
from luodi.auth.service import actor_for
from luodi.errors import NotAuthenticated, PermissionDenied, ValidationFailed
from luodi.landing.stats import compute_stats, region_label, share
from tests.factories import make_user
from tests.landing.stats_fixtures import add_case, add_deal, at, ledger_world

SYSTEM = system_actor()
TODAY = dt.date(2026, 6, 30)
FULL = [("accepted", 1), ("contacts_revealed", 3), ("meeting", 5), ("negotiating", 8),
        ("agreed", 12), ("landed", 15)]


def _stats(session, **kw):  # type: ignore[no-untyped-def]
    return compute_stats(session, SYSTEM, today=kw.pop("today", TODAY), **kw)


def test_funnel_counts_reached_stages_treats_skips_as_passed_and_closes_apart(session) -> None:  # type: ignore[no-untyped-def]
    w = ledger_world(session)
    jan = at(2026, 1, 10)
    add_case(session, w, opened=jan, trail=FULL)
    # Skips the meeting: counts as having reached it, because negotiating comes later.
    add_case(session, w, opened=jan, trail=[("accepted", 1), ("contacts_revealed", 2),
                                            ("negotiating", 4)])
    add_case(session, w, opened=jan, trail=[("accepted", 1), ("closed", 6)])
    add_case(session, w, opened=jan, trail=[("closed", 2)])
    add_case(session, w, opened=jan)
    add_case(session, w, opened=at(2025, 12, 31, 23), trail=FULL)  # before the period
    st = _stats(session, date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 3, 31))
    reached = {s.stage: s.reached for s in st.funnel}
    assert st.opened == 5
    assert reached == {"interested": 5, "accepted": 3, "contacts_revealed": 2, "meeting": 2,
                       "negotiating": 2, "agreed": 1, "landed": 1}
    rates = {s.stage: (s.step_rate, s.overall_rate) for s in st.funnel}
    assert rates["accepted"] == (0.6, 0.6)
    assert rates["contacts_revealed"] == (0.6667, 0.4)
    assert rates["agreed"] == (0.5, 0.2)
    assert st.closed == {"accepted": 1, "interested": 1}
    body = st.as_json()["funnel"]
    assert body["closed"]["total"] == 2 and body["closed"]["by_state"]["meeting"] == 0


def test_empty_cohort_gives_no_rates_rather_than_zero(session) -> None:  # type: ignore[no-untyped-def]
    st = _stats(session)
    assert st.opened == 0
    assert all(s.reached == 0 and s.step_rate is None and s.overall_rate is None
               for s in st.funnel)
    body = st.as_json()
    assert body["jjj_share_count"] is None and body["jjj_share_value"] is None
    assert body["beijing_to_tianjin_hebei"]["share_count"] is None
    assert all(d["median"] is None and d["stays"] == 0 for d in body["stage_days"])


def test_stage_days_are_the_linear_median_and_p90_of_stays_ended_in_the_period(session) -> None:  # type: ignore[no-untyped-def]
    w = ledger_world(session)
    waits = [0.5, 1, 2, 2, 3.25, 7, 11, 30]
    for i, days in enumerate(waits):
        add_case(session, w, opened=at(2026, 2, 1 + i), trail=[("accepted", days)])
    # A further meeting (meeting → meeting) does not end the stay in "meeting": 2 + 4 days.
    add_case(session, w, opened=at(2026, 2, 1), trail=[
        ("accepted", 1), ("contacts_revealed", 2), ("meeting", 3), ("meeting", 5),
        ("negotiating", 9)])
    # Its stay in "interested" ended on 2026-01-31, before the period.
    add_case(session, w, opened=at(2026, 1, 20), trail=[("accepted", 11)])
    st = _stats(session, date_from=dt.date(2026, 2, 1))
    days = {d.stage: d for d in st.stage_days}
    expected = sorted([*waits, 1])
    q = statistics.quantiles(expected, n=10, method="inclusive")
    assert days["interested"].stays == 9
    assert days["interested"].median == pytest.approx(statistics.median(expected), abs=0.005)
    assert days["interested"].p90 == pytest.approx(q[8], abs=0.005)
    assert (days["meeting"].stays, days["meeting"].median) == (1, pytest.approx(6.0))
    assert days["negotiating"].stays == 0 and days["negotiating"].p90 is None


def test_trail_figures_ignore_events_after_the_as_of_day(session) -> None:  # type: ignore[no-untyped-def]
    w = ledger_world(session)
    add_case(session, w, opened=at(2026, 3, 1), trail=[("accepted", 2), ("closed", 40)])
    then = _stats(session, today=dt.date(2026, 3, 10))
    assert [s.reached for s in then.funnel][:2] == [1, 1] and then.closed == {}
    now = _stats(session, today=dt.date(2026, 5, 1))
    assert now.closed == {"accepted": 1}
    before = _stats(session, today=dt.date(2026, 3, 2))
    assert [s.reached for s in before.funnel][:2] == [1, 0]
    assert {d.stage: d.stays for d in before.stage_days}["interested"] == 0


def test_stalled_counts_open_cases_idle_past_the_setting_by_stage(session, settings) -> None:  # type: ignore[no-untyped-def]
    w = ledger_world(session)
    today = dt.date(2026, 4, 30)
    old = at(2026, 3, 1)
    add_case(session, w, opened=old)  # interested, idle since March
    add_case(session, w, opened=old, trail=[("accepted", 1), ("contacts_revealed", 2)])
    add_case(session, w, opened=old, trail=[("accepted", 1), ("contacts_revealed", 55)])
    add_case(session, w, opened=old, trail=[*FULL[:5]])  # agreed: waits for a deal, not open
    add_case(session, w, opened=old, trail=[("closed", 1)])
    st = compute_stats(session, SYSTEM, today=today, settings=settings)
    assert settings.case_stale_days == 14
    # contacts_revealed at 2026-04-25 is 5 days old; the cut is at 2026-04-16 00:00 UTC.
    assert st.stalled == {"interested": 1, "contacts_revealed": 1}
    body = st.as_json()["stalled"]
    assert body["total"] == 2 and body["stale_days"] == 14 and "agreed" not in body["by_stage"]
    long = compute_stats(session, SYSTEM, today=today,
                         settings=settings.model_copy(update={"case_stale_days": 60}))
    assert long.stalled == {}


def test_landings_count_signed_deals_in_the_period_by_every_dimension(session) -> None:  # type: ignore[no-untyped-def]
    w = ledger_world(session)
    cases = [add_case(session, w, opened=at(2026, 1, 2), trail=FULL) for _ in range(6)]
    add_deal(session, w, cases[0], amount="100", signed_on=dt.date(2026, 2, 1), landing="120116")
    add_deal(session, w, cases[1], amount="50.25", signed_on=dt.date(2026, 2, 28),
             landing="130638", category="license", field_code="health", broker=1)
    add_deal(session, w, cases[2], amount="200", signed_on=dt.date(2026, 2, 15),
             landing="310115", institution=1, broker=None, field_code=None)
    add_deal(session, w, cases[3], amount="30", signed_on=dt.date(2026, 2, 10),
             landing="110108", seller="440305")
    add_deal(session, w, cases[4], amount="999", signed_on=dt.date(2026, 2, 5),
             landing="120116", status="cancelled")
    add_deal(session, w, cases[5], amount="70", signed_on=dt.date(2026, 3, 1), landing="131000")
    st = _stats(session, date_from=dt.date(2026, 2, 1), date_to=dt.date(2026, 2, 28))
    body = st.as_json()
    landings = body["landings"]
    assert (landings["count"], landings["value_wan"]) == (4, 380.25)
    assert body["jjj"] == {"count": 3, "value_wan": 180.25}
    assert body["jjj_share_count"] == 0.75 and body["jjj_share_value"] == share(180.25, 380.25)
    assert body["beijing_to_tianjin_hebei"] == {
        "sellers_count": 3, "sellers_value_wan": 350.25, "count": 2, "value_wan": 150.25,
        "share_count": 0.6667, "share_value": 0.429}
    district = {g["key"]: (g["label"], g["count"], g["value_wan"]) for g in landings["by_district"]}
    assert district == {"120116": ("天津市 滨海新区", 1, 100.0),
                        "130638": ("河北省 保定市 雄县", 1, 50.25),
                        "310115": ("上海市 浦东新区", 1, 200.0),
                        "110108": ("北京市 海淀区", 1, 30.0)}
    assert [g["key"] for g in landings["by_district"]] == ["310115", "120116", "130638", "110108"]
    fields = {g["key"]: (g["label"], g["count"]) for g in landings["by_field"]}
    assert fields == {"ai": ("人工智能", 2), "health": ("医药健康", 1),
                      None: ("未填 / unspecified", 1)}
    brokers = {g["label"]: g["value_wan"] for g in landings["by_broker"]}
    assert brokers == {w.brokers[0].display_name: 130.0, w.brokers[1].display_name: 50.25,
                       "未填 / unspecified": 200.0}
    institutions = {g["key"]: g["count"] for g in landings["by_institution"]}
    assert institutions == {w.institutions[0].id: 3, w.institutions[1].id: 1}
    assert {g["label"]: g["count"] for g in landings["by_category"]} == {
        "技术转让": 3, "技术许可": 1}


def test_landed_then_cancelled_is_reported_next_to_the_funnel(session) -> None:  # type: ignore[no-untyped-def]
    w = ledger_world(session)
    held, dropped = (add_case(session, w, opened=at(2026, 1, 5), trail=FULL) for _ in range(2))
    add_deal(session, w, held, amount="10", signed_on=dt.date(2026, 1, 25), landing="120116")
    add_deal(session, w, dropped, amount="20", signed_on=dt.date(2026, 1, 26),
             landing="120116", status="cancelled")
    st = _stats(session)
    assert st.funnel[-1].reached == 2 and st.landed_then_cancelled == 1
    assert st.totals.count == 1 and st.as_json()["funnel"]["landed_then_cancelled"] == 1


def test_value_share_is_null_when_every_landing_is_worth_zero(session) -> None:  # type: ignore[no-untyped-def]
    w = ledger_world(session)
    case = add_case(session, w, opened=at(2026, 1, 5), trail=FULL)
    add_deal(session, w, case, amount="0", signed_on=dt.date(2026, 1, 25), landing="120116")
    body = _stats(session).as_json()
    assert body["jjj_share_count"] == 1.0 and body["jjj_share_value"] is None


def test_stats_read_is_for_staff_and_viewers(session) -> None:  # type: ignore[no-untyped-def]
    for role in ("operator", "viewer"):
        assert compute_stats(session, actor_for(make_user(session, role))).opened == 0
    for role in ("enterprise_member", "institution_member", "broker"):
        with pytest.raises(PermissionDenied):
            compute_stats(session, actor_for(make_user(session, role)))
    with pytest.raises(NotAuthenticated):
        compute_stats(session, ANONYMOUS)


def test_a_period_that_ends_before_it_starts_is_refused(session) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed):
        _stats(session, date_from=dt.date(2026, 2, 1), date_to=dt.date(2026, 1, 1))


def test_json_keys_are_stable(session) -> None:  # type: ignore[no-untyped-def]
    body = _stats(session, date_from=dt.date(2026, 1, 1)).as_json()
    assert set(body) == {"period", "funnel", "stage_days", "stalled", "landings", "jjj",
                         "jjj_share_count", "jjj_share_value", "beijing_to_tianjin_hebei",
                         "generated_at"}
    assert set(body["landings"]) == {"count", "value_wan", "by_field", "by_institution",
                                     "by_broker", "by_district", "by_category"}
    assert body["period"] == {"from": "2026-01-01", "to": None, "today": "2026-06-30",
                              "days": "UTC"}
    assert [s["stage"] for s in body["funnel"]["stages"]] == [
        "interested", "accepted", "contacts_revealed", "meeting", "negotiating", "agreed",
        "landed"]


def test_region_labels_fall_back_to_the_province_for_retired_codes() -> None:
    assert region_label("110108") == "北京市 海淀区"
    assert region_label("110999") == "北京市"
    assert region_label("999999") == "" and region_label(None) == ""
