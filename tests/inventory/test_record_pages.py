"""Inventory pages: list with filters, detail with tiers, create and edit through forms."""

from __future__ import annotations

import re

from tests.factories import PASSWORD, make_org, make_user
from tests.inventory import factories as inv


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _login(client, email: str) -> None:  # type: ignore[no-untyped-def]
    token = _csrf(client.get("/login").text)
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})


def test_list_page_filters_and_counts(client, session, settings) -> None:
    inst = inv.institution(session, settings)
    inv.achievement(session, settings, inst)
    inv.achievement(session, settings, inst, title="工业机器人柔性关节减速器", summary="谐波减速器设计。")
    page = client.get("/achievements", params={"q": "减速器"})
    assert page.status_code == 200
    assert "工业机器人柔性关节减速器" in page.text and "固态电解质" not in page.text
    assert 'data-testid="result-count"' in page.text


def test_detail_page_shows_teaser_not_confidential(client, session, settings) -> None:
    inst = inv.institution(session, settings)
    record = inv.achievement(session, settings, inst)
    page = client.get(f"/achievements/{record.id}")
    assert "高离子电导率" in page.text
    assert "配方与工艺参数" not in page.text and "tto@example.cn" not in page.text
    assert 'data-testid="tier-notice"' in page.text


def test_institution_member_creates_and_edits_through_forms(client, session, settings) -> None:
    org = make_org(session, "institution", "示范理工大学账户")
    user = make_user(session, "institution_member", org=org)
    inv.institution(session, settings, "示范理工大学", org=org)
    _login(client, user.email)
    form = client.get("/achievements/new")
    assert form.status_code == 200 and 'name="institution_id"' not in form.text  # staff only
    response = client.post("/achievements/new", data={
        "csrf_token": _csrf(form.text), "title": "一种量子点显示材料", "summary": "高色域量子点膜。",
        "keywords": "量子点；显示", "trl": "6", "transfer_modes": ["license", "transfer"],
        "region_code": "110108", "status": "published"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    detail = client.get(response.headers["location"])
    assert "一种量子点显示材料" in detail.text and "TRL 6" in detail.text
    edit_url = response.headers["location"] + "/edit"
    edit = client.get(edit_url)
    bad = client.post(edit_url, data={"csrf_token": _csrf(edit.text), "title": "一种量子点显示材料",
                                      "region_code": "999999"})
    assert bad.status_code == 422 and 'data-testid="form-error"' in bad.text


def test_other_institution_cannot_open_edit_form(client, session, settings) -> None:
    inst = inv.institution(session, settings)
    record = inv.achievement(session, settings, inst)
    user = make_user(session, "institution_member")
    _login(client, user.email)
    assert client.get(f"/achievements/{record.id}/edit").status_code == 403


def test_directories_need_login(client, session, settings) -> None:
    inv.enterprise(session, settings)
    assert client.get("/enterprises", follow_redirects=False).status_code == 303
    operator = make_user(session, "operator")
    _login(client, operator.email)
    assert "天津示范科技有限公司" in client.get("/enterprises").text


def test_duplicate_review_page(client, session, settings) -> None:
    inst = inv.institution(session, settings)
    inv.achievement(session, settings, inst)
    inv.achievement(session, settings, inst)
    operator = make_user(session, "operator")
    _login(client, operator.email)
    page = client.get("/duplicates")
    assert page.status_code == 200 and "100%" in page.text
    flag_id = re.search(r'action="/duplicates/(\d+)"', page.text).group(1)
    client.post(f"/duplicates/{flag_id}", data={"csrf_token": _csrf(page.text),
                                                 "verdict": "distinct"})
    assert 'action="/duplicates/' not in client.get("/duplicates").text


def test_owner_sees_reminder_and_renews_expired_record(client, session, settings) -> None:
    import datetime as dt

    from luodi.auth.actor import system_actor
    from luodi.inventory import freshness

    org = make_org(session, "institution", "提醒测试大学账户")
    user = make_user(session, "institution_member", org=org)
    inst = inv.institution(session, settings, "提醒测试大学", org=org)
    record = inv.achievement(session, settings, inst)
    later = record.expires_on + dt.timedelta(days=1)
    freshness.sweep(session, system_actor(), settings, today=later)
    session.refresh(record)
    assert record.status == "expired"
    _login(client, user.email)
    page = client.get("/reminders")
    assert f"/achievements/{record.id}" in page.text
    detail = client.get(f"/achievements/{record.id}")
    client.post(f"/achievements/{record.id}/renew", data={"csrf_token": _csrf(detail.text)})
    session.refresh(record)
    assert record.status == "published" and record.expires_on > dt.datetime.now(dt.UTC).date()
