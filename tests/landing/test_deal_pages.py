"""Pages of the landing stage: the deal form on an agreed case, the summary on a landed one,
the deal page with its forms, and the deal list — in both languages, under the strict CSP."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from luodi.docking.models import Case
from luodi.landing.models import Deal
from tests.docking import factories as df
from tests.factories import login
from tests.landing import factories as lf


@pytest.fixture
def agreed(session, world):  # type: ignore[no-untyped-def]
    return df.open_and_advance(session, world, "agreed", broker=True)


def _as(client, who) -> None:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    login(client, getattr(who, "user", who).email)


def _get(client, url: str, status: int = 200) -> str:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == status, response.text[:500]
    assert ' style="' not in response.text and "<script>" not in response.text
    return response.text


def _post(client, page: str, url: str, data: dict):  # type: ignore[no-untyped-def]
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text)
    assert match, "form without csrf_token"
    return client.post(url, data={"csrf_token": match.group(1), **data},
                       follow_redirects=False)


def _value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
    assert match, name
    return match.group(1)


def _form(world, **overrides: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The deal form as a person fills it in."""
    return {"category": "license", "title": "电解质专利许可合同", "amount_wan": "88.8",
            "signed_on": "2026-03-18", "registration_no": lf.registration_no(),
            "registered_income_wan": "80", "transfer_mode": "license",
            "landed_entity": world.buyer.record.name, "landing_region_code": "120116",
            "seller_name": world.tto.record.name, "seller_region_code": "110108",
            "seller_party_type": "university", "buyer_name": world.buyer.record.name,
            "buyer_region_code": "120116", "buyer_party_type": "enterprise",
            "pilot_planned_on": "2026-10-01", "revenue_achieved_on": "",
            "note": "首付款已到账", **overrides}


def _deals(session) -> int:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(func.count(Deal.id))) or 0


def test_the_form_is_prefilled_and_records_the_deal(client, session, world, agreed) -> None:  # type: ignore[no-untyped-def]
    _as(client, world.buyer)
    page = _get(client, f"/cases/{agreed.id}")
    assert 'data-testid="deal-form"' in page
    assert _value(page, "seller_name") == world.tto.record.name
    assert _value(page, "buyer_name") == world.buyer.record.name
    assert _value(page, "seller_region_code") == "110108"
    assert _value(page, "landing_region_code") == "120116"
    assert _value(page, "title") == world.achievement.title
    client.get("/lang/en")
    assert "Record the deal" in _get(client, f"/cases/{agreed.id}")
    sent = _post(client, f"/cases/{agreed.id}", f"/cases/{agreed.id}/deal",
                 {**_form(world), "broker_id": "999", "field_code": "ai"})  # ignored
    assert sent.status_code == 303 and sent.headers["location"] == f"/cases/{agreed.id}#deal"
    session.expire_all()
    deal = session.scalar(select(Deal))
    assert session.get(Case, agreed.id).state == "landed"
    assert (deal.category, deal.broker_id, deal.field_code) == (
        "license", world.broker.id, world.achievement.field_code)
    assert [m.kind for m in deal.milestones] == ["pilot"]
    page = _get(client, f"/cases/{agreed.id}")
    assert 'data-testid="deal-summary"' in page and f'href="/deals/{deal.id}"' in page
    assert 'data-testid="deal-form"' not in page
    assert 'data-kind="deal"' in page and 'data-action="land"' in page  # the trail


@pytest.mark.parametrize(("overrides", "words"), [
    ({"registration_no": "202611010800001"}, "16"),
    ({"seller_name": ""}, "seller"),
    ({"landing_region_code": "990000"}, "990000"),
    ({"amount_wan": "0"}, "amount"),
    ({"transfer_mode": "equity_investment"}, "equity"),
    ({"registered_income_wan": "100"}, "income"),
])
def test_refused_forms_come_back_with_the_message(client, session, world, agreed, overrides,
                                                  words) -> None:  # type: ignore[no-untyped-def]
    _as(client, world.buyer)
    client.get("/lang/en")
    sent = _post(client, f"/cases/{agreed.id}", f"/cases/{agreed.id}/deal",
                 _form(world, title="我们填写的合同名称", **overrides))
    assert sent.status_code == 422, sent.text[:300]
    assert 'data-testid="error"' in sent.text and words in sent.text
    assert _value(sent.text, "title") == "我们填写的合同名称"  # the form as sent
    assert ' style="' not in sent.text
    assert _deals(session) == 0


def test_a_case_not_agreed_refuses_the_form(client, session, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "negotiating")
    _as(client, world.buyer)
    assert 'data-testid="deal-form"' not in _get(client, f"/cases/{case.id}")
    sent = _post(client, f"/cases/{case.id}", f"/cases/{case.id}/deal", _form(world))
    assert sent.status_code == 409 and "negotiating" in sent.text
    assert _deals(session) == 0


def test_the_deal_page_in_both_languages(client, session, world, agreed) -> None:  # type: ignore[no-untyped-def]
    deal = lf.record(session, world, agreed)
    for who in (world.buyer, world.tto, world.broker, world.operator):
        _as(client, who)
        for lang in ("zh_CN", "en"):
            client.get(f"/lang/{lang}")
            page = _get(client, f"/deals/{deal.id}")
            assert deal.title in page and deal.registration_no in page
            assert "滨海新区" in page  # the region name, from the code
            assert page.count('data-testid="deal-party"') == 2
            assert f'href="/cases/{agreed.id}"' in page
            assert 'data-testid="deal-broker">broker user<' in page  # the credited broker
            assert 'data-testid="milestone-form"' in page
    client.get("/lang/en")
    assert "Technology transfer" in _get(client, f"/deals/{deal.id}")


def test_completing_adding_a_milestone_and_cancelling(client, session, world, agreed) -> None:  # type: ignore[no-untyped-def]
    deal = lf.record(session, world, agreed, registration_no=None)
    taken = lf.registration_no()
    _as(client, world.tto)
    url = f"/deals/{deal.id}"
    page = _get(client, url)
    assert 'data-testid="complete-registration-no"' in page
    sent = _post(client, url, f"{url}/update", {
        "registration_no": "123", "registered_income_wan": "1", "landed_entity": "x"})
    assert sent.status_code == 422 and 'data-testid="error"' in sent.text
    sent = _post(client, url, f"{url}/update", {
        "registration_no": taken, "registered_income_wan": "90",
        "landed_entity": world.buyer.record.name, "landed_credit_code": ""})
    assert sent.status_code == 303
    session.expire_all()
    saved = session.get(Deal, deal.id)
    assert (saved.registration_no, str(saved.registered_income_wan)) == (taken, "90.00")
    sent = _post(client, url, f"{url}/milestones", {"kind": "pilot", "amount_wan": "3",
                                                    "planned_on": "2026-06-01"})
    assert sent.status_code == 422
    sent = _post(client, url, f"{url}/milestones", {"kind": "revenue", "amount_wan": "3",
                                                    "achieved_on": "2026-04-01"})
    assert sent.status_code == 303
    assert 'data-kind="revenue"' in _get(client, url)
    assert _post(client, url, f"{url}/cancel", {"reason": ""}).status_code == 422
    assert _post(client, url, f"{url}/cancel", {"reason": "合同解除"}).status_code == 303
    page = _get(client, url)
    assert 'data-status="cancelled"' in page and 'data-testid="milestone-form"' not in page
    assert 'data-testid="deal-complete"' not in page


def test_outsiders_get_not_found_and_the_list_is_scoped(client, session, settings, world,
                                                        agreed) -> None:  # type: ignore[no-untyped-def]
    deal = lf.record(session, world, agreed)
    for who in (df.enterprise_party(session, settings), df.broker_user(session),
                df.viewer_user(session)):
        _as(client, who)
        _get(client, f"/deals/{deal.id}", status=404)
        listing = _get(client, "/deals")
        assert 'data-testid="deal-row"' not in listing and 'data-testid="deals-empty"' in listing
        sent = _post(client, "/deals", f"/deals/{deal.id}/cancel", {"reason": "x"})
        assert sent.status_code == 404
    for who in (world.buyer, world.tto, world.broker, world.operator):
        _as(client, who)
        for lang in ("zh_CN", "en"):
            client.get(f"/lang/{lang}")
            listing = _get(client, "/deals")
            assert f'data-deal="{deal.id}"' in listing
    assert f'data-deal="{deal.id}"' not in _get(client, "/deals?date_from=2026-04-01")
    assert f'data-deal="{deal.id}"' in _get(client, "/deals?date_from=&date_to=&status=")
    assert 'data-testid="error"' in _get(client, "/deals?date_from=yesterday", status=422)
    client.cookies.clear()
    assert client.get("/deals", follow_redirects=False).status_code == 303  # to the login


def test_the_lists_cost_the_same_queries_for_more_deals(client, app, session, settings,
                                                        world, agreed) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import event as sa_event

    lf.record(session, world, agreed)
    seen: list[str] = []

    def count(*_args) -> None:  # type: ignore[no-untyped-def]
        seen.append("q")

    def queries() -> list[int]:
        counts = []
        for url in ("/deals", "/api/v1/deals"):
            seen.clear()
            assert client.get(url).status_code == 200, url
            counts.append(len(seen))
        return counts

    _as(client, world.operator)
    engine = app.state.db.engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        before = queries()
        for _ in range(3):
            other = df.docking_world(session, settings)
            lf.record(session, other, df.open_and_advance(session, other, "agreed", broker=True))
        assert queries() == before
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
