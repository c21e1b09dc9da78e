"""Pages of the push stage: cycles, inbox and feedback, push reach, settings, unsubscribe."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from luodi.push.ledger import Push, PushBlock, PushPreference, Subscription
from luodi.push.unsubscribe import make_token
from tests.factories import login, make_user
from tests.push import ledger_factories as lf

SECRETS = ("绝密配方XYZ-4711", "secret-tto@example.cn")


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form without csrf_token"
    return match.group(1)


def _post(client, page: str, url: str, data: dict | None = None, **kw):  # type: ignore[no-untyped-def]
    token = _csrf(client.get(page).text)
    return client.post(url, data={"csrf_token": token, **(data or {})},
                       follow_redirects=False, **kw)


@pytest.fixture
def world(session, settings):  # type: ignore[no-untyped-def]
    buyer, tto = lf.enterprise_party(session, settings), lf.institution_party(session, settings)
    robot = lf.achievement(session, settings, tto.record, title="机械臂视觉抓取系统",
                           summary="面向仓储分拣的视觉定位。", description=SECRETS[0],
                           contact_email=SECRETS[1])
    wheat = lf.achievement(session, settings, tto.record, title="小麦抗旱品种选育方法")
    c = lf.cycle(session, figures={
        "pushes": 2, "recipients": 1, "coverage": 0.5, "exposure_gini": 0.25,
        "mean_score": 2.5, "eligible_items": 2, "candidates": 4, "plan_seconds": 0.01,
        "uncovered_ids": [wheat.id],
        "greedy": {"pushes": 2, "recipients": 1, "coverage": 0.0, "exposure_gini": 0.5,
                   "mean_score": 2.6}})
    return {"buyer": buyer, "tto": tto, "robot": robot, "wheat": wheat, "cycle": c,
            "p_robot": lf.push(session, c, buyer.record, robot, rank=1,
                               reason="共同关键词：视觉、抓取", reason_en="Shared terms: vision"),
            "p_wheat": lf.push(session, c, buyer.record, wheat, rank=2),
            "other": lf.enterprise_party(session, settings),
            "operator": make_user(session, "operator")}


def _clean(text: str) -> str:
    for secret in SECRETS:
        assert secret not in text, secret
    return text


# operators ---------------------------------------------------------------------------------------

def test_cycle_pages_for_operators_in_both_languages(client, world) -> None:  # type: ignore[no-untyped-def]
    login(client, world["operator"].email)
    home = client.get("/").text
    assert 'href="/push/cycles"' in home and "推送批次" in home
    listing = client.get("/push/cycles")
    assert listing.status_code == 200 and "推送批次" in listing.text and "试运行" in listing.text
    assert f'data-cycle="{world["cycle"].id}"' in listing.text and "50%" in listing.text
    page = client.get(f"/push/cycles/{world['cycle'].id}")
    assert page.status_code == 200
    text = _clean(page.text)
    assert "贪心" in text and 'data-figure="exposure_gini"' in text
    assert "机械臂视觉抓取系统" in text and "共同关键词：视觉、抓取" in text
    assert 'data-testid="uncovered"' in text and world["wheat"].title in text
    assert ' style="' not in text and "<script>" not in text
    client.get("/lang/en")
    en = client.get(f"/push/cycles/{world['cycle'].id}").text
    assert "Greedy baseline" in en and "Shared terms: vision" in en and "In-app inbox" in en
    assert client.get("/push/cycles/999999").status_code == 404


def test_cycle_pages_refuse_others(client, world) -> None:  # type: ignore[no-untyped-def]
    anonymous = client.get("/push/cycles", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    login(client, world["buyer"].user.email)
    assert client.get("/push/cycles").status_code == 403
    assert client.get(f"/push/cycles/{world['cycle'].id}").status_code == 403
    response = _post(client, "/inbox", "/push/cycles", {"action": "run"})
    assert response.status_code == 403


def test_dry_run_writes_nothing_and_run_redirects(client, session, world) -> None:  # type: ignore[no-untyped-def]
    login(client, world["operator"].email)
    before = len(session.scalars(select(Push)).all())
    dry = _post(client, "/push/cycles", "/push/cycles",
                {"action": "dry_run", "push_cap_per_recipient": "3"})
    assert dry.status_code == 200 and 'data-testid="dry-run-result"' in dry.text
    assert 'data-testid="plan-figures"' in dry.text and 'value="3"' in dry.text
    assert len(session.scalars(select(Push)).all()) == before
    bad = _post(client, "/push/cycles", "/push/cycles",
                {"action": "dry_run", "push_cap_per_recipient": "999"})
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    run = _post(client, "/push/cycles", "/push/cycles", {"action": "run"})
    assert run.status_code == 303 and run.headers["location"].startswith("/push/cycles/")
    assert client.get(run.headers["location"]).status_code == 200


# enterprises: the inbox --------------------------------------------------------------------------

def test_inbox_in_both_languages_without_confidential_fields(client, session, world) -> None:  # type: ignore[no-untyped-def]
    lf.announcement(session, title="2026年第一批重点成果供给清单")
    login(client, world["buyer"].user.email)
    page = client.get("/inbox")
    assert page.status_code == 200
    text = _clean(page.text)
    assert text.count('data-testid="push-item"') == 2 and text.count('data-testid="unread"') == 2
    assert 'data-testid="unread-badge">2' in text
    assert f'href="/achievements/{world["robot"].id}"' in text
    assert "共同关键词：视觉、抓取" in text and "面向仓储分拣的视觉定位。" in text
    assert "2026年第一批重点成果供给清单" in text and "不相关" in text and "价格过高" in text
    assert ' style="' not in text
    client.get("/lang/en")
    en = _clean(client.get("/inbox").text)
    assert "Shared terms: vision" in en and "Too costly" in en and "Interested" in en
    detail = client.get(f"/inbox/{world['p_robot'].id}")
    assert detail.status_code == 200 and "Shared terms: vision" in _clean(detail.text)
    session.expire_all()
    assert session.get(Push, world["p_robot"].id).read_at is not None
    assert 'data-testid="unread-badge">1' in client.get("/").text


def test_inbox_refuses_others(client, world) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/inbox", follow_redirects=False).status_code == 303
    login(client, world["tto"].user.email)
    assert client.get("/inbox").status_code == 403
    client.cookies.clear()
    login(client, world["other"].user.email)
    assert client.get(f"/inbox/{world['p_robot'].id}").status_code == 403
    theirs = client.get("/inbox").text
    assert 'data-testid="push-item"' not in theirs and 'data-testid="unread-badge"' not in theirs


def test_feedback_round_trip(client, session, world) -> None:  # type: ignore[no-untyped-def]
    login(client, world["buyer"].user.email)
    p_robot, p_wheat = world["p_robot"].id, world["p_wheat"].id
    response = _post(client, "/inbox", f"/inbox/{p_robot}/feedback",
                     {"feedback": "not_relevant", "reason": "too_costly", "next": "/inbox"})
    assert response.status_code == 303 and response.headers["location"] == f"/inbox#push-{p_robot}"
    missing = _post(client, "/inbox", f"/inbox/{p_wheat}/feedback",
                    {"feedback": "not_relevant", "reason": "other", "note": ""})
    assert missing.status_code == 422 and "其他" in missing.text
    _post(client, "/inbox", f"/inbox/{p_wheat}/feedback",
          {"feedback": "interested", "next": "/inbox?show=unread"})
    session.expire_all()
    robot, wheat = session.get(Push, p_robot), session.get(Push, p_wheat)
    assert (robot.feedback, robot.feedback_reason) == ("not_relevant", "too_costly")
    assert wheat.feedback == "interested" and wheat.read_at is not None
    page = client.get("/inbox?show=interested").text
    assert page.count('data-testid="push-item"') == 1 and 'data-testid="feedback-interested"' in page
    unsafe = _post(client, "/inbox", f"/inbox/{p_robot}/feedback",
                   {"feedback": "relevant", "next": "//evil.example/"})
    assert unsafe.headers["location"] == f"/inbox#push-{p_robot}"


def test_opt_out_from_the_inbox_and_undo_in_settings(client, session, world) -> None:  # type: ignore[no-untyped-def]
    login(client, world["buyer"].user.email)
    response = _post(client, "/inbox", "/inbox/opt-out", {
        "enterprise_id": world["buyer"].record.id, "institution_id": world["tto"].record.id,
        "next": "/inbox"})
    assert response.status_code == 303
    block = session.scalars(select(PushBlock)).one()
    assert (block.enterprise_id, block.institution_id) == (world["buyer"].record.id,
                                                           world["tto"].record.id)
    settings_page = client.get("/account/notifications").text
    assert world["tto"].record.name in settings_page and f'data-block="{block.id}"' in settings_page
    removed = _post(client, "/account/notifications",
                    f"/account/notifications/blocks/{block.id}/remove")
    assert removed.status_code == 303
    session.expire_all()
    assert session.scalars(select(PushBlock)).all() == []
    client.cookies.clear()
    login(client, world["other"].user.email)
    forged = _post(client, "/inbox", "/inbox/opt-out", {
        "enterprise_id": world["buyer"].record.id, "institution_id": world["tto"].record.id})
    assert forged.status_code == 403


# settings and unsubscribe ------------------------------------------------------------------------

def test_preferences_round_trip(client, session, world) -> None:  # type: ignore[no-untyped-def]
    user = world["buyer"].user
    login(client, user.email)
    assert 'href="/account/notifications"' in client.get("/account").text
    page = client.get("/account/notifications")
    assert page.status_code == 200 and "个人信息保护法" in page.text
    saved = _post(client, "/account/notifications", "/account/notifications/preferences",
                  {"email": "1", "email_max_per_week": "1"})
    assert saved.status_code == 303 and saved.headers["location"].endswith("done=saved")
    pref = session.scalars(select(PushPreference).where(PushPreference.user_id == user.id)).one()
    assert (pref.personalised, pref.email, pref.email_max_per_week) == (False, True, 1)
    inbox = client.get("/inbox").text
    assert 'data-testid="personalised-off"' in inbox and 'data-testid="push-item"' not in inbox
    too_many = _post(client, "/account/notifications", "/account/notifications/preferences",
                     {"personalised": "1", "email_max_per_week": "99"})
    assert too_many.status_code == 422 and 'role="alert"' in too_many.text
    client.get("/lang/en")
    assert "Personal Information Protection Law" in client.get("/account/notifications").text


def test_subscription_round_trip_and_institutions_have_none(client, session, world) -> None:  # type: ignore[no-untyped-def]
    login(client, world["buyer"].user.email)
    response = _post(client, "/account/notifications", "/account/notifications/subscription",
                     {"fields": ["ai", "robotics"], "keywords": "机器视觉，机械臂, 分拣",
                      "max_per_cycle": "3", "paused": "1"})
    assert response.status_code == 303, response.text
    sub = session.scalars(select(Subscription)).one()
    assert sub.keywords == ["机器视觉", "机械臂", "分拣"] and sub.max_per_cycle == 3 and sub.paused
    assert sub.fields == ["ai", "robotics"]
    page = client.get("/account/notifications").text
    assert 'value="机器视觉，机械臂，分拣"' in page
    client.cookies.clear()
    login(client, world["tto"].user.email)
    page = client.get("/account/notifications")
    assert page.status_code == 200 and 'data-testid="subscription"' not in page.text
    refused = _post(client, "/account/notifications", "/account/notifications/subscription",
                    {"keywords": "x"})
    assert refused.status_code == 403


def test_webhook_secret_shown_once_then_test_and_delete(client, world) -> None:  # type: ignore[no-untyped-def]
    login(client, world["buyer"].user.email)
    created = _post(client, "/account/notifications", "/account/notifications/webhooks",
                    {"url": "https://93.184.215.14/hook", "description": "ERP"})
    assert created.status_code == 200
    secret = re.search(r'data-testid="webhook-secret">(whsec_[^<]+)<', created.text).group(1)
    page = client.get("/account/notifications").text
    assert "https://93.184.215.14/hook" in page and secret not in page
    endpoint_id = re.search(r'data-endpoint="(\d+)"', page).group(1)
    tested = _post(client, "/account/notifications",
                   f"/account/notifications/webhooks/{endpoint_id}/test")
    assert tested.status_code == 303
    assert 'data-testid="webhook-tested"' in client.get(tested.headers["location"]).text
    deleted = _post(client, "/account/notifications",
                    f"/account/notifications/webhooks/{endpoint_id}/delete")
    assert deleted.status_code == 303
    assert f'data-endpoint="{endpoint_id}"' not in client.get("/account/notifications").text
    bad = _post(client, "/account/notifications", "/account/notifications/webhooks",
                {"url": "ftp://example.cn/x"})
    assert bad.status_code == 422 and 'value="ftp://example.cn/x"' in bad.text


def test_one_click_unsubscribe_without_login(client, session, settings, world) -> None:  # type: ignore[no-untyped-def]
    user = world["buyer"].user
    token = make_token(settings, user.id)
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200 and 'data-testid="unsubscribe-button"' in page.text
    assert session.scalars(select(PushPreference)).all() == []  # a GET changes nothing
    client.cookies.clear()  # a mail client posts without cookies or a CSRF token (RFC 8058)
    done = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and 'data-testid="unsubscribed"' in done.text
    assert 'href="/account/notifications"' in done.text
    pref = session.scalars(select(PushPreference).where(PushPreference.user_id == user.id)).one()
    assert pref.email is False and pref.unsubscribed_at is not None
    assert client.post(f"/unsubscribe/{token}").status_code == 200  # idempotent


def test_tampered_unsubscribe_token_fails_cleanly(client, session, settings, world) -> None:  # type: ignore[no-untyped-def]
    token = make_token(settings, world["buyer"].user.id)
    forged = f"{world['other'].user.id}.{token.split('.', 1)[1]}"
    for bad in (forged, "garbage", token[:-2] + "xx"):
        assert client.get(f"/unsubscribe/{bad}").status_code == 400
        response = client.post(f"/unsubscribe/{bad}")
        assert response.status_code == 400 and 'data-testid="unsubscribe-error"' in response.text
    gone = make_token(settings, 999999)
    assert client.post(f"/unsubscribe/{gone}").status_code == 404
    assert session.scalars(select(PushPreference)).all() == []


# institutions ------------------------------------------------------------------------------------

def test_push_reach_for_the_institution(client, session, world) -> None:  # type: ignore[no-untyped-def]
    login(client, world["buyer"].user.email)
    _post(client, "/inbox", f"/inbox/{world['p_robot'].id}/feedback",
          {"feedback": "not_relevant", "reason": "other", "note": "我们只做农业"})
    _post(client, "/inbox", f"/inbox/{world['p_wheat'].id}/feedback", {"feedback": "interested"})
    client.cookies.clear()
    login(client, world["tto"].user.email)
    home = client.get("/").text
    assert 'href="/push-reach"' in home and "推送反馈" in home
    mine = client.get("/push-reach", follow_redirects=False)
    url = f"/institutions/{world['tto'].record.id}/push-reach"
    assert mine.status_code == 303 and mine.headers["location"] == url
    assert f'href="{url}"' in client.get(f"/institutions/{world['tto'].record.id}").text
    page = client.get(url)
    assert page.status_code == 200
    text = _clean(page.text)
    assert "我们只做农业" in text and 'data-reason="other"' in text
    assert 'data-testid="reaction-not_relevant"' in text and 'data-testid="reaction-interested"' in text
    # every recipient is named with its reaction; why it passed only in the aggregate
    assert text.count(world["buyer"].record.name) == 2
    row = text.split(f'data-push="{world["p_robot"].id}"')[1].split("</tr>")[0]
    assert "我们只做农业" not in row and "other" not in row
    client.get("/lang/en")
    assert "Why enterprises passed" in client.get(url).text


def test_push_reach_of_another_institution_is_refused(client, session, settings, world) -> None:  # type: ignore[no-untyped-def]
    rival = lf.institution_party(session, settings)
    login(client, rival.user.email)
    assert client.get(f"/institutions/{world['tto'].record.id}/push-reach").status_code == 403
    assert f'href="/institutions/{world["tto"].record.id}/push-reach"' not in client.get(
        f"/institutions/{world['tto'].record.id}").text
    client.cookies.clear()
    login(client, world["buyer"].user.email)
    assert client.get(f"/institutions/{world['tto'].record.id}/push-reach").status_code == 403
    assert client.get("/push-reach").status_code == 404


def test_list_pages_query_count_does_not_grow(client, app, session, settings, world) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    seen: list[str] = []

    def count(*_args) -> None:  # type: ignore[no-untyped-def]
        seen.append("q")

    def queries(url: str) -> int:
        seen.clear()
        assert client.get(url).status_code == 200
        return len(seen)

    pages = ("/inbox", f"/push/cycles/{world['cycle'].id}",
             f"/institutions/{world['tto'].record.id}/push-reach", "/push/cycles")
    users = (world["buyer"].user, world["operator"], world["tto"].user, world["operator"])
    engine = app.state.db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        before = {}
        for url, user in zip(pages, users, strict=True):
            client.cookies.clear()
            login(client, user.email)
            before[url] = queries(url)
        for _ in range(4):
            buyer = lf.enterprise_party(session, settings)
            for ach in (world["robot"], lf.achievement(session, settings, world["tto"].record)):
                lf.push(session, world["cycle"], buyer.record, ach, feedback="interested")
            lf.push(session, lf.cycle(session), world["buyer"].record,
                    lf.achievement(session, settings, world["tto"].record))
        for url, user in zip(pages, users, strict=True):
            client.cookies.clear()
            login(client, user.email)
            assert queries(url) == before[url], url
    finally:
        event.remove(engine, "before_cursor_execute", count)
