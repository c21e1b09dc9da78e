"""API: the push endpoints through HTTP — shapes, permissions, and what never leaks."""

from __future__ import annotations

import pytest

from luodi.push.ledger import OutboxMessage
from tests.factories import login, make_user
from tests.push import ledger_factories as lf

SECRETS = ("绝密配方XYZ-4711", "secret-tto@example.cn", "13912345678", "保密联系人赵工")
PUSH_KEYS = {"id", "cycle", "created_at", "score", "rank", "reason", "reason_en", "read",
             "feedback", "feedback_reason", "achievement"}


@pytest.fixture
def world(session, settings):  # type: ignore[no-untyped-def]
    buyer, tto = lf.enterprise_party(session, settings), lf.institution_party(session, settings)
    robot = lf.achievement(session, settings, tto.record, title="机械臂视觉抓取系统",
                           summary="面向仓储分拣的视觉定位。", description=SECRETS[0],
                           contact_email=SECRETS[1], contact_phone=SECRETS[2],
                           contact_name=SECRETS[3])
    c = lf.cycle(session, figures={"uncovered_ids": []})
    return {"buyer": buyer, "tto": tto, "robot": robot, "cycle": c,
            "push": lf.push(session, c, buyer.record, robot),
            "other": lf.enterprise_party(session, settings),
            "operator": make_user(session, "operator")}


def _as(client, user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Log in as ``user`` (forgetting whoever was logged in); returns the CSRF header."""
    client.cookies.clear()
    return {"x-csrf-token": login(client, user.email)}


def _clean(response) -> dict:  # type: ignore[no-untyped-def]
    for secret in SECRETS:
        assert secret not in response.text, secret
    return response.json()


def test_inbox_and_push_show_the_teaser_only(client, session, world) -> None:  # type: ignore[no-untyped-def]
    lf.announcement(session, title="2026年第一批重点成果供给清单")
    _as(client, world["buyer"].user)
    response = client.get("/api/v1/inbox")
    assert response.status_code == 200, response.text
    body = _clean(response)
    assert (body["total"], body["unread"], body["personalised"]) == (1, 1, True)
    assert body["announcements"][0]["title"] == "2026年第一批重点成果供给清单"
    item = body["items"][0]
    assert set(item) == PUSH_KEYS and item["read"] is False and item["cycle"] == world["cycle"].id
    ach = item["achievement"]
    assert (ach["id"], ach["url"]) == (world["robot"].id, f"/achievements/{world['robot'].id}")
    assert ach["teaser"]["summary"] == "面向仓储分拣的视觉定位。"
    assert ach["teaser"]["party_name"] == world["tto"].record.name
    assert "description" not in response.text and "contact_" not in response.text

    opened = client.get(f"/api/v1/pushes/{world['push'].id}")
    assert opened.status_code == 200 and _clean(opened)["read"] is True
    assert client.get("/api/v1/inbox?unread_only=true").json()["total"] == 0


def test_inbox_refusals_use_the_error_shape(client, world) -> None:  # type: ignore[no-untyped-def]
    anonymous = client.get("/api/v1/inbox")
    assert anonymous.status_code == 401 and anonymous.json()["ok"] is False
    _as(client, world["tto"].user)
    refused = client.get("/api/v1/inbox")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert client.get(f"/api/v1/pushes/{world['push'].id}").status_code == 403
    _as(client, world["other"].user)
    assert client.get("/api/v1/inbox").json()["items"] == []
    assert client.get("/api/v1/inbox?feedback=bogus").status_code == 422


def test_feedback_through_the_api(client, world) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/v1/pushes/{world['push'].id}/feedback"
    headers = _as(client, world["operator"])
    assert client.post(url, json={"feedback": "relevant"}, headers=headers).status_code == 403
    headers = _as(client, world["buyer"].user)
    missing = client.post(url, json={"feedback": "not_relevant"}, headers=headers)
    assert missing.status_code == 422 and missing.json()["code"] == "validation_failed"
    ok = client.post(url, json={"feedback": "not_relevant", "reason": "other",
                                "note": "暂无预算"}, headers=headers)
    assert ok.status_code == 200, ok.text
    assert (ok.json()["feedback"], ok.json()["feedback_reason"]) == ("not_relevant", "other")
    assert client.get("/api/v1/inbox?feedback=not_relevant").json()["total"] == 1
    assert client.post(url, json={"feedback": "interested"}).status_code == 403  # no CSRF


def test_preferences_and_non_personalised_inbox(client, world) -> None:  # type: ignore[no-untyped-def]
    headers = _as(client, world["buyer"].user)
    assert client.get("/api/v1/push/preferences").json() == {
        "personalised": True, "email": True, "email_max_per_week": None,
        "unsubscribed_at": None}
    off = {"personalised": False, "email": False, "email_max_per_week": 1}
    saved = client.put("/api/v1/push/preferences", json=off, headers=headers)
    assert saved.status_code == 200 and saved.json()["personalised"] is False
    inbox = client.get("/api/v1/inbox").json()
    assert inbox["items"] == [] and inbox["personalised"] is False
    bad = client.put("/api/v1/push/preferences", json={**off, "email_max_per_week": 99},
                     headers=headers)
    assert bad.status_code == 422


def test_subscription_round_trip(client, world) -> None:  # type: ignore[no-untyped-def]
    headers = _as(client, world["buyer"].user)
    url = f"/api/v1/organisations/{world['buyer'].org.id}/push-subscription"
    assert client.get(url).json()["fields"] == []
    put = client.put(url, json={"fields": ["robotics"], "keywords": [" 机器视觉 "],
                                "max_per_cycle": 3, "paused": False}, headers=headers)
    assert put.status_code == 200, put.text
    assert put.json()["keywords"] == ["机器视觉"] and client.get(url).json()["max_per_cycle"] == 3
    bad = client.put(url, json={"fields": ["nope"]}, headers=headers)
    assert bad.status_code == 422 and "nope" in bad.json()["error"]
    assert client.get(f"/api/v1/organisations/{world['tto'].org.id}/push-subscription"
                      ).status_code == 403
    _as(client, world["operator"])
    assert client.get(f"/api/v1/organisations/{world['tto'].org.id}/push-subscription"
                      ).status_code == 422


def test_blocks_and_conflicts(client, world) -> None:  # type: ignore[no-untyped-def]
    ent, inst = world["buyer"].record, world["tto"].record
    headers = _as(client, world["buyer"].user)
    url = f"/api/v1/enterprises/{ent.id}/push-blocks"
    first = client.post(url, json={"achievement_id": world["robot"].id}, headers=headers)
    again = client.post(url, json={"achievement_id": world["robot"].id}, headers=headers)
    assert first.status_code == 201 and again.json()["id"] == first.json()["id"]
    conflict = client.post(f"/api/v1/enterprises/{ent.id}/push-conflicts",
                           json={"institution_id": inst.id, "reason": "关联方"}, headers=headers)
    assert conflict.status_code == 201 and conflict.json()["kind"] == "conflict"
    assert {b["kind"] for b in client.get(url).json()} == {"opt_out", "conflict"}
    assert client.delete(f"/api/v1/push-blocks/{conflict.json()['id']}",
                         headers=headers).status_code == 403
    assert client.delete(f"/api/v1/push-blocks/{first.json()['id']}",
                         headers=headers).status_code == 204
    staff = _as(client, world["operator"])
    assert client.delete(f"/api/v1/push-blocks/{conflict.json()['id']}",
                         headers=staff).status_code == 204
    assert client.get(url).json() == []


def test_institution_reach(client, session, world) -> None:  # type: ignore[no-untyped-def]
    headers = _as(client, world["buyer"].user)
    client.post(f"/api/v1/pushes/{world['push'].id}/feedback", json={"feedback": "interested"},
                headers=headers)
    _as(client, world["tto"].user)
    response = client.get(f"/api/v1/institutions/{world['tto'].record.id}/push-reach")
    assert response.status_code == 200, response.text
    body = response.json()
    reach = body["achievements"][0]
    assert reach["counts"]["interested"] == 1 and reach["counts"]["pushed"] == 1
    assert reach["interested"] == [{"id": world["buyer"].record.id,
                                    "name": world["buyer"].record.name}]
    assert body["totals"]["read"] == 1 and set(body["why_passed"].values()) == {0}
    _as(client, world["buyer"].user)
    assert client.get(f"/api/v1/institutions/{world['tto'].record.id}/push-reach"
                      ).status_code == 403


def test_cycles_for_operators(client, session, world) -> None:  # type: ignore[no-untyped-def]
    session.add(OutboxMessage(key="email:x:1", channel="email", cycle_id=world["cycle"].id,
                              status="sent"))
    session.commit()
    _as(client, world["buyer"].user)
    assert client.get("/api/v1/push/cycles").status_code == 403
    _as(client, world["operator"])
    assert [c["id"] for c in client.get("/api/v1/push/cycles").json()] == [world["cycle"].id]
    detail = client.get(f"/api/v1/push/cycles/{world['cycle'].id}")
    assert detail.status_code == 200, detail.text
    body = _clean(detail)
    assert body["deliveries"] == {"email": {"sent": 1}, "inbox": {"delivered": 1, "read": 0}}
    assert body["recipients"][0]["enterprise_id"] == world["buyer"].record.id
    assert body["recipients"][0]["pushes"][0]["achievement_id"] == world["robot"].id
    assert client.get("/api/v1/push/cycles/999999").status_code == 404


def test_run_cycle_dry_run(client, world) -> None:  # type: ignore[no-untyped-def]
    headers = _as(client, world["buyer"].user)
    assert client.post("/api/v1/push/cycles", json={"dry_run": True},
                       headers=headers).status_code == 403
    headers = _as(client, world["operator"])
    response = client.post("/api/v1/push/cycles", json={"dry_run": True}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["dry_run"] is True and response.json()["cycle"] is None


def test_webhooks_secret_shown_once(client, world) -> None:  # type: ignore[no-untyped-def]
    org_id = world["buyer"].org.id
    headers = _as(client, world["buyer"].user)
    created = client.post(f"/api/v1/organisations/{org_id}/webhooks",
                          json={"url": "https://93.184.215.14/hook", "description": "ERP"},
                          headers=headers)
    assert created.status_code == 201, created.text
    secret, hook_id = created.json()["secret"], created.json()["id"]
    assert secret.startswith("whsec_")
    listed = client.get(f"/api/v1/organisations/{org_id}/webhooks")
    assert [h["id"] for h in listed.json()] == [hook_id] and secret not in listed.text
    assert "secret" not in listed.json()[0]
    test = client.post(f"/api/v1/webhooks/{hook_id}/test", headers=headers)
    assert test.status_code == 202 and test.json()["status"] == "pending"
    assert client.post(f"/api/v1/webhooks/{hook_id}/allow-private", json={"allow": True},
                       headers=headers).status_code == 403
    staff = _as(client, world["operator"])
    allowed = client.post(f"/api/v1/webhooks/{hook_id}/allow-private", json={"allow": True},
                          headers=staff)
    assert allowed.status_code == 200 and allowed.json()["allow_private"] is True
    assert secret not in allowed.text
    assert client.delete(f"/api/v1/webhooks/{hook_id}", headers=staff).status_code == 204


def test_openapi_documents_the_push_routes(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/openapi.json").json()
    for path in ("/api/v1/inbox", "/api/v1/pushes/{push_id}/feedback", "/api/v1/push/cycles",
                 "/api/v1/push/preferences", "/api/v1/enterprises/{enterprise_id}/push-blocks",
                 "/api/v1/institutions/{institution_id}/push-reach",
                 "/api/v1/organisations/{organisation_id}/webhooks"):
        assert path in spec["paths"], path
    assert "InboxOut" in spec["components"]["schemas"]
    assert "description" not in spec["components"]["schemas"]["PushedAchievement"]["properties"]


def test_inbox_query_count_does_not_grow_with_items(client, app, session, settings, world) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    engine = app.state.db.engine
    seen: list[str] = []

    def count(*_args) -> None:  # type: ignore[no-untyped-def]
        seen.append("q")

    _as(client, world["buyer"].user)
    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get("/api/v1/inbox")
        one = len(seen)
        tto2 = lf.institution_party(session, settings)
        for _ in range(4):
            lf.push(session, lf.cycle(session), world["buyer"].record,
                    lf.achievement(session, settings, tto2.record))
        seen.clear()
        assert client.get("/api/v1/inbox").json()["total"] == 5
        assert len(seen) == one
    finally:
        event.remove(engine, "before_cursor_execute", count)
