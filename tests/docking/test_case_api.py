"""API: docking cases through HTTP — shapes, CSRF, refusals, downloads, and what never leaks."""

from __future__ import annotations

from sqlalchemy import event, select

from luodi.audit import AuditEvent
from luodi.docking import cases, files
from tests.docking import factories as df
from tests.docking.factories import actor_of
from tests.factories import login


def _as(client, user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Log in as ``user`` (forgetting whoever was logged in); returns the CSRF header."""
    client.cookies.clear()
    return {"x-csrf-token": login(client, getattr(user, "user", user).email)}


def _clean(response, canaries: tuple[str, ...] = df.CANARIES) -> dict:  # type: ignore[no-untyped-def]
    for canary in canaries:
        assert canary not in response.text, canary
    return response.json()


def test_happy_path_through_the_api(client, session, world) -> None:  # type: ignore[no-untyped-def]
    headers = _as(client, world.buyer)
    opened = client.post("/api/v1/cases", json={"kind": "achievements",
                                                "record_id": world.achievement.id,
                                                "note": "想看中试数据"}, headers=headers)
    assert opened.status_code == 201, opened.text
    body = _clean(opened)
    case_id = body["id"]
    assert (body["state"], body["record_title"], body["url"]) == (
        "interested", world.achievement.title, f"/cases/{case_id}")
    again = client.post("/api/v1/cases", json={"kind": "achievements",
                                               "record_id": world.achievement.id},
                        headers=headers)
    assert again.json()["id"] == case_id  # idempotent
    view = _clean(client.get(f"/api/v1/cases/{case_id}"))
    assert view["roles"] == ["seeker"] and view["actions"] == ["close"]
    assert view["contacts"] is None and view["record"]["detail_visible"] is False

    owner = _as(client, world.tto)
    url = f"/api/v1/cases/{case_id}"
    assert client.post(f"{url}/transitions", json={"action": "accept"},
                       headers=owner).json()["state"] == "accepted"
    consent = {"name": "李老师", "email": df.OWNER_EMAIL, "phone": "010-1"}
    assert client.post(f"{url}/consent", json=consent, headers=owner).status_code == 200
    seeker = _as(client, world.buyer)
    revealed = client.post(f"{url}/consent", json={"name": "王工", "email": df.SEEKER_EMAIL},
                           headers=seeker)
    assert revealed.json()["state"] == "contacts_revealed"
    assert df.OWNER_EMAIL not in revealed.text  # a write answers with the summary only
    view = client.get(url).json()
    assert view["record"]["description"] == df.DETAIL_CANARY
    assert view["contacts"]["owner"]["email"] == df.OWNER_EMAIL
    assert view["contacts"]["record"]["email"] == df.CONTACT_EMAIL
    for action in ("meet", "negotiate", "agree"):
        response = client.post(f"{url}/transitions", json={"action": action}, headers=seeker)
        assert response.status_code == 200, response.text
    trail = client.get(url).json()["events"]
    assert [e["action"] for e in trail] == ["open", "accept", "consent", "consent", "reveal",
                                            "meet", "negotiate", "agree"]
    assert [e["by"] for e in trail][:5] == ["seeker", "owner", "owner", "seeker", "system"]
    for user in (world.buyer.user, world.tto.user):
        assert user.email not in str(trail)  # parts, not people


def test_writes_need_csrf_and_refuse_unknown_fields(client, world) -> None:  # type: ignore[no-untyped-def]
    headers = _as(client, world.buyer)
    body = {"kind": "achievements", "record_id": world.achievement.id}
    refused = client.post("/api/v1/cases", json=body)
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    sneaky = client.post("/api/v1/cases", json={**body, "state": "agreed"}, headers=headers)
    assert sneaky.status_code == 422
    case_id = client.post("/api/v1/cases", json=body, headers=headers).json()["id"]
    for path, payload in (("transitions", {"action": "close", "note": "x", "to_state": "agreed"}),
                          ("consent", {"name": "a", "email": "a@b.cn", "consent_at": "now"}),
                          ("notes", {"note": "x", "actor_id": 1})):
        response = client.post(f"/api/v1/cases/{case_id}/{path}", json=payload, headers=headers)
        assert response.status_code == 422, path
    put = client.put(f"/api/v1/cases/{case_id}/broker", json={"user_id": None, "x": 1},
                     headers=headers)
    assert put.status_code == 422


def test_refusals_use_the_error_shape(client, session, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "interested")
    url = f"/api/v1/cases/{case.id}"
    anonymous = client.get(url)
    assert anonymous.status_code == 401 and anonymous.json()["ok"] is False
    headers = _as(client, world.buyer)
    illegal = client.post(f"{url}/transitions", json={"action": "agree"}, headers=headers)
    assert illegal.status_code == 409 and illegal.json()["code"] == "illegal_transition"
    denied = client.post(f"{url}/transitions", json={"action": "accept"}, headers=headers)
    assert denied.status_code == 403 and denied.json()["code"] == "permission_denied"
    no_reason = client.post(f"{url}/transitions", json={"action": "close"}, headers=headers)
    assert no_reason.status_code == 409
    early = client.post(f"{url}/consent", json={"name": "王工", "email": df.SEEKER_EMAIL},
                        headers=headers)
    assert early.status_code == 409
    broker = client.put(f"{url}/broker", json={"user_id": world.broker.id}, headers=headers)
    assert broker.status_code == 403
    internal = client.post(f"{url}/notes", json={"note": "x", "internal": True}, headers=headers)
    assert internal.status_code == 403
    assert client.get("/api/v1/cases/999999").status_code == 404


def test_outsiders_see_no_canary_anywhere(client, session, settings, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "negotiating", nda=True)
    row = files.upload_file(session, actor_of(world.tto), settings, case.id,
                            filename="配方.txt", content_type="text/plain",
                            data=df.DETAIL_CANARY.encode())
    outsiders = (df.enterprise_party(session, settings), df.institution_party(session, settings),
                 df.broker_user(session), df.viewer_user(session))
    paths = (f"/api/v1/cases/{case.id}", f"/api/v1/cases/{case.id}/files/{row.id}",
             "/api/v1/cases", "/api/v1/cases?state=negotiating&mine=false")
    for who in outsiders:
        headers = _as(client, who)
        for path in paths:
            response = client.get(path)
            _clean(response)
            assert response.status_code in (200, 404), path
            if path.startswith("/api/v1/cases?") or path == "/api/v1/cases":
                assert response.json()["items"] == []
        note = client.post(f"/api/v1/cases/{case.id}/notes", json={"note": "hi"},
                           headers=headers)
        assert note.status_code == 404
        _clean(note)
    client.cookies.clear()
    for path in paths:
        response = client.get(path)
        assert response.status_code == 401
        _clean(response)


def test_broker_assignment_and_lists(client, session, settings, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "accepted")
    staff = _as(client, world.operator)
    assigned = client.put(f"/api/v1/cases/{case.id}/broker", json={"user_id": world.broker.id},
                          headers=staff)
    assert assigned.status_code == 200 and assigned.json()["broker_id"] == world.broker.id
    bad = client.put(f"/api/v1/cases/{case.id}/broker",
                     json={"user_id": world.operator.id}, headers=staff)
    assert bad.status_code == 422
    headers = _as(client, world.broker)
    listed = client.get("/api/v1/cases").json()
    assert [c["id"] for c in listed["items"]] == [case.id] and listed["total"] == 1
    note = client.post(f"/api/v1/cases/{case.id}/notes",
                       json={"note": "已安排走访", "internal": True}, headers=headers)
    assert note.status_code == 201 and note.json()["by"] == "broker"
    _as(client, world.buyer)
    events = client.get(f"/api/v1/cases/{case.id}").json()["events"]
    assert "已安排走访" not in str(events)
    assert client.get("/api/v1/cases?state=bogus").status_code == 422


def test_list_query_count_is_flat(client, app, session, settings, world) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(statement)

    df.open_and_advance(session, world, "interested")
    demand = df.published_demand(session, settings, world.buyer)
    cases.open_case(session, actor_of(world.tto), kind="demands", record_id=demand.id)
    _as(client, world.operator)
    engine = app.state.db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get("/api/v1/cases").json()["total"] == 2
        before = len(seen)
        for _ in range(3):
            more = df.docking_world(session, settings)
            df.open_and_advance(session, more, "accepted")
            cases.open_case(session, actor_of(more.tto), kind="demands",
                            record_id=df.published_demand(session, settings, more.buyer).id)
        seen.clear()
        assert client.get("/api/v1/cases").json()["total"] == 8
        assert len(seen) == before
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_files_through_the_api(client, session, settings, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "contacts_revealed")
    url = f"/api/v1/cases/{case.id}/files"
    headers = _as(client, world.tto)
    page = client.post(url, files={"file": ("演示.html", b"<script>alert(1)</script>",
                                            "text/html")}, headers=headers)
    assert page.status_code == 201, page.text
    pdf = client.post(url, files={"file": ("plan.pdf", b"%PDF-1.4", "application/pdf")},
                      headers=headers).json()
    assert client.post(url, files={"file": ("x.txt", b"x", "text/plain")}).status_code == 403
    locked = client.get(page.json()["url"])
    assert locked.status_code == 403
    assert client.get(f"/api/v1/cases/{case.id}").json()["files"] == []
    assert client.post(f"/api/v1/cases/{case.id}/nda", json={"note": "已签"},
                       headers=headers).json()["nda"] is True
    _as(client, world.buyer)
    listed = client.get(f"/api/v1/cases/{case.id}").json()["files"]
    assert [f["filename"] for f in listed] == ["演示.html", "plan.pdf"]
    html = client.get(page.json()["url"])
    assert html.status_code == 200 and html.content == b"<script>alert(1)</script>"
    assert html.headers["content-type"] == "application/octet-stream"
    assert html.headers["x-content-type-options"] == "nosniff"
    assert html.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E6%BC%94%E7%A4%BA.html" in html.headers["content-disposition"]
    served = client.get(pdf["url"])
    assert served.headers["content-type"] == "application/pdf"
    session.expire_all()
    reads = session.scalars(select(AuditEvent).where(AuditEvent.action == "cases.file_view",
                                                     AuditEvent.outcome == "success")).all()
    assert len(reads) == 2
    big = b"x" * (settings.dossier_max_mb * 2**20 + 1)
    headers = _as(client, world.buyer)
    too_big = client.post(url, files={"file": ("big.bin", big, "application/octet-stream")},
                          headers=headers)
    assert too_big.status_code == 413 and too_big.json()["code"] == "file_too_large"


def test_openapi_documents_the_case_routes(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/openapi.json").json()
    for path in ("/api/v1/cases", "/api/v1/cases/{case_id}",
                 "/api/v1/cases/{case_id}/transitions", "/api/v1/cases/{case_id}/consent",
                 "/api/v1/cases/{case_id}/nda", "/api/v1/cases/{case_id}/broker",
                 "/api/v1/cases/{case_id}/notes", "/api/v1/cases/{case_id}/files",
                 "/api/v1/cases/{case_id}/files/{file_id}"):
        assert path in spec["paths"], path
        for operation in spec["paths"][path].values():
            assert operation["tags"] == ["docking"], path
    schemas = spec["components"]["schemas"]
    for name in ("OpenIn", "TransitionIn", "ConsentIn", "NdaIn", "BrokerIn", "NoteIn"):
        assert schemas[name]["additionalProperties"] is False, name
    assert "CaseViewOut" in schemas
