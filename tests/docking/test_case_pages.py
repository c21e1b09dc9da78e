"""Pages of the docking stage: the case list, the case page and its actions, opening a case.

Canaries (tests/docking/factories.py) sit in the achievement's confidential description and
contact fields and in what each side shares on consent; each page must show them exactly when
the disclosure tier is open for the viewer.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from luodi.docking import cases, reminders
from luodi.docking.models import Case, DossierFile, Meeting
from luodi.web.i18n import translate
from tests.docking import factories as df
from tests.factories import login, make_user
from tests.push import ledger_factories as lf


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form without csrf_token"
    return match.group(1)


def _as(client, user) -> None:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    login(client, user.email)


def _post(client, page: str, url: str, data: dict | None = None, **kw):  # type: ignore[no-untyped-def]
    token = _csrf(client.get(page).text)
    return client.post(url, data={"csrf_token": token, **(data or {})},
                       follow_redirects=False, **kw)


def _page(client, case_id: int) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/cases/{case_id}")
    assert response.status_code == 200, response.text[:500]
    assert ' style="' not in response.text and "<script>" not in response.text
    return response.text


def _absent(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, secret




def _zh(message: str) -> str:
    return translate("zh_CN", message)


# rendering for every part, in both languages ------------------------------------------------------

def test_pages_render_for_each_role_in_both_languages(client, session, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "meeting", broker=True)
    for user in (world.buyer.user, world.tto.user, world.broker, world.operator):
        _as(client, user)
        home = client.get("/").text
        assert 'data-testid="nav-cases"' in home
        listing = client.get("/cases")
        assert listing.status_code == 200
        assert f'data-case="{case.id}"' in listing.text and _zh("Meeting") in listing.text
        text = _page(client, case.id)
        assert world.achievement.title in text and 'data-testid="funnel"' in text
        assert 'aria-current="step"' in text and 'data-state="meeting"' in text
        assert text.count('data-testid="trail-item"') == len(case.events)
        assert _zh("Trail") in text and _zh("Contacts") in text
        assert df.OWNER_EMAIL in text and df.SEEKER_EMAIL in text  # revealed: all read them
        client.get("/lang/en")
        en = _page(client, case.id)
        assert "Trail" in en and "Contacts shared" in en and "Interested party" in en
        assert "Docking cases" in client.get("/cases").text
        client.get("/lang/zh_CN")
    _as(client, world.operator)
    assert 'data-testid="assign-broker"' in _page(client, case.id)
    _as(client, world.buyer.user)
    assert 'data-testid="assign-broker"' not in _page(client, case.id)


def test_outsiders_get_404_and_anonymous_the_login(client, session, settings, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "contacts_revealed")
    anonymous = client.get(f"/cases/{case.id}", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    other = lf.enterprise_party(session, settings).user
    for outsider in (other, df.viewer_user(session), df.broker_user(session)):
        _as(client, outsider)
        page = client.get(f"/cases/{case.id}")
        assert page.status_code == 404
        _absent(page.text, world.achievement.title, *df.CANARIES)
        assert f'data-case="{case.id}"' not in client.get("/cases").text
        refused = _post(client, "/cases", f"/cases/{case.id}/transition",
                        {"action": "negotiate"})
        assert refused.status_code == 404
    assert client.get("/cases/999999").status_code == 404


# disclosure: detail after accept, contacts after both consents -----------------------------------

def test_detail_and_contacts_open_only_when_their_tier_does(client, session, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "interested")
    _as(client, world.buyer.user)
    text = _page(client, case.id)
    _absent(text, df.DETAIL_CANARY, *df.CONTACT_CANARIES)
    assert 'data-testid="detail-notice"' in text and 'data-testid="contacts-hidden"' in text
    assert 'data-testid="consent-form"' not in text  # not before the owner accepts

    _as(client, world.tto.user)
    text = _page(client, case.id)
    assert df.DETAIL_CANARY in text  # the owner always reads its own record
    accepted = _post(client, f"/cases/{case.id}", f"/cases/{case.id}/transition",
                     {"action": "accept", "note": "欢迎交流"})
    assert accepted.status_code == 303 and accepted.headers["location"].endswith("#actions")
    owner_form = _page(client, case.id)
    assert df.CONTACT_EMAIL in owner_form  # the consent form proposes the record's contact

    _as(client, world.buyer.user)
    text = _page(client, case.id)
    assert df.DETAIL_CANARY in text and 'data-testid="case-detail"' in text
    _absent(text, *df.CONTACT_CANARIES)
    assert f'value="{world.buyer.user.email}"' in text  # the seeker's own account, prefilled
    sent = _post(client, f"/cases/{case.id}", f"/cases/{case.id}/consent",
                 {"name": "采购部王工", "email": df.SEEKER_EMAIL})
    assert sent.status_code == 303
    text = _page(client, case.id)
    _absent(text, df.OWNER_EMAIL, df.CONTACT_EMAIL, df.CONTACT_NAME)
    assert 'data-testid="consent-form"' not in text

    _as(client, world.tto.user)
    _post(client, f"/cases/{case.id}", f"/cases/{case.id}/consent",
          {"name": "转化办李老师", "email": df.OWNER_EMAIL, "phone": "010-62780000"})
    assert df.SEEKER_EMAIL in _page(client, case.id)
    _as(client, world.buyer.user)
    text = _page(client, case.id)
    assert 'data-testid="contacts-revealed"' in text
    assert df.OWNER_EMAIL in text and df.CONTACT_EMAIL in text and df.CONTACT_NAME in text
    session.refresh(case)
    assert case.state == "contacts_revealed"


# the action forms -------------------------------------------------------------------------------

def test_action_forms_round_trip(client, session, world) -> None:  # type: ignore[no-untyped-def]
    case = df.open_and_advance(session, world, "contacts_revealed")
    url = f"/cases/{case.id}"
    _as(client, world.operator)
    page = _page(client, case.id)
    assert f'<option value="{world.broker.id}"' in page
    assert _post(client, url, f"{url}/broker",
                 {"broker_user_id": str(world.broker.id)}).status_code == 303

    _as(client, world.broker)
    day = (dt.datetime.now(dt.UTC) + dt.timedelta(days=10)).date().isoformat()
    meeting = {"date": day, "time": "14:30", "minutes": "45", "place": "海淀区示范楼 301",
               "agenda": "技术交流"}
    bad = _post(client, url, f"{url}/meetings", {**meeting, "place": "", "online_url": ""})
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    assert 'data-testid="case-title"' in bad.text and "技术交流" in bad.text  # the form comes back
    assert _post(client, url, f"{url}/meetings", meeting).status_code == 303
    [row] = session.scalars(select(Meeting).where(Meeting.case_id == case.id)).all()
    assert row.starts_at.astimezone(dt.UTC).strftime("%H:%M") == "06:30"  # 14:30 Beijing
    text = _page(client, case.id)
    assert f'href="/api/v1/meetings/{row.id}.ics"' in text and f"{day} 14:30" in text
    ics = client.get(f"/api/v1/meetings/{row.id}.ics")
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert _post(client, url, f"{url}/notes",
                 {"note": "内部备注：价格预期偏高", "internal": "1"}).status_code == 303

    _as(client, world.buyer.user)
    text = _page(client, case.id)
    assert "内部备注" not in text and 'data-testid="note-internal"' not in text
    assert _post(client, url, f"{url}/messages", {"body": "请发送样机参数"}).status_code == 303
    again = _post(client, url, f"{url}/transition", {"action": "accept"})
    assert again.status_code == 409 and 'data-testid="case-title"' in again.text
    assert 'role="alert"' in again.text
    assert _post(client, url, f"{url}/transition", {"action": "negotiate"}).status_code == 303

    _as(client, world.tto.user)
    text = _page(client, case.id)
    assert "请发送样机参数" in text and _zh("Negotiating") in text
    assert _post(client, url, f"{url}/nda", {"note": "已签署"}).status_code == 303
    token = _csrf(client.get(url).text)
    upload = client.post(f"{url}/files", data={"csrf_token": token},
                         files={"file": ("方案.pdf", b"%PDF-1.4 demo", "application/pdf")},
                         follow_redirects=False)
    assert upload.status_code == 303
    [stored] = session.scalars(select(DossierFile).where(DossierFile.case_id == case.id)).all()
    _as(client, world.broker)
    text = _page(client, case.id)
    assert "内部备注" in text and 'data-testid="internal"' in text and "方案.pdf" in text
    download = client.get(f"/api/v1/cases/{case.id}/files/{stored.id}")
    assert download.status_code == 200 and download.content == b"%PDF-1.4 demo"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("attachment")

    no_reason = _post(client, url, f"{url}/transition", {"action": "close", "note": ""})
    assert no_reason.status_code == 409 and 'data-testid="error"' in no_reason.text
    assert _post(client, url, f"{url}/transition",
                 {"action": "close", "note": "企业转向其他方案"}).status_code == 303
    text = _page(client, case.id)
    assert 'data-testid="closed-reason"' in text and "企业转向其他方案" in text
    assert 'data-testid="meeting-form"' not in text and 'data-testid="message-body"' not in text
    session.refresh(case)
    assert case.state == "closed"


# opening a case -------------------------------------------------------------------------------

def test_open_from_record_pages_and_from_the_inbox(client, session, settings, world) -> None:  # type: ignore[no-untyped-def]
    demand = df.published_demand(session, settings, world.buyer)
    robot = df.published_achievement(session, settings, world.tto, title="机械臂视觉抓取系统")
    push = lf.push(session, lf.cycle(session), world.buyer.record, robot)

    _as(client, world.buyer.user)
    record = f"/achievements/{world.achievement.id}"
    assert 'data-testid="open-case"' in client.get(record).text
    assert 'data-testid="open-case"' not in client.get(f"/demands/{demand.id}").text  # its own
    opened = _post(client, record, "/cases", {"kind": "achievements",
                                              "record_id": str(world.achievement.id)})
    assert opened.status_code == 303 and opened.headers["location"].startswith("/cases/")
    again = _post(client, record, "/cases", {"kind": "achievements",
                                             "record_id": str(world.achievement.id)})
    assert again.headers["location"] == opened.headers["location"]  # the open case, not a new one

    assert 'data-testid="open-case"' not in client.get("/inbox").text
    _post(client, "/inbox", f"/inbox/{push.id}/feedback", {"feedback": "interested"})
    [case] = session.scalars(select(Case).where(Case.push_id == push.id)).all()
    inbox = client.get("/inbox").text
    assert f'href="/cases/{case.id}" data-testid="open-case"' in inbox

    _as(client, world.tto.user)
    assert 'data-testid="open-case"' not in client.get(record).text  # its own achievement
    solve = f"/demands/{demand.id}"
    assert 'data-testid="open-case"' in client.get(solve).text
    offered = _post(client, solve, "/cases", {"kind": "demands", "record_id": str(demand.id)})
    assert offered.status_code == 303
    refused = _post(client, solve, "/cases", {"kind": "achievements",
                                              "record_id": str(robot.id)})
    assert refused.status_code in (403, 422) and 'data-testid="error"' in refused.text


# lists: staff filter, stale highlight, broker reminders ----------------------------------------

def test_lists_filter_highlight_and_remind(client, session, settings, world) -> None:  # type: ignore[no-untyped-def]
    idle = df.open_and_advance(session, world, "accepted", broker=True)
    other = df.docking_world(session, settings)
    fresh = df.open_and_advance(session, other, "interested")
    idle.last_event_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=settings.case_stale_days + 3)
    session.commit()
    made = reminders.sweep_stale(session, df.actor_of(world.operator), settings,
                                 dt.datetime.now(dt.UTC).date())
    assert made >= 2  # the broker and each operator

    _as(client, world.operator)
    listing = client.get("/cases").text
    assert f'data-case="{idle.id}"' in listing and f'data-case="{fresh.id}"' in listing
    assert 'data-testid="stale"' in listing and 'class="stale"' in listing
    filtered = client.get("/cases?state=interested").text
    assert f'data-case="{fresh.id}"' in filtered and f'data-case="{idle.id}"' not in filtered

    _as(client, world.broker)
    listing = client.get("/cases").text
    assert f'data-case="{idle.id}"' in listing and f'data-case="{fresh.id}"' not in listing
    assert 'data-testid="case-reminders"' in listing and 'data-testid="case-reminder-badge"' in listing
    [rem] = reminders.list_reminders(session, df.actor_of(world.broker), unread_only=True)
    read = _post(client, "/cases", f"/cases/reminders/{rem.id}/read")
    assert read.status_code == 303
    listing = client.get("/cases").text
    assert 'data-testid="case-reminders"' not in listing
    assert 'data-testid="case-reminder-badge"' not in listing

    _as(client, make_user(session, "viewer"))
    assert 'data-testid="nav-cases"' not in client.get("/").text
    assert 'data-testid="cases-empty"' in client.get("/cases").text


def test_case_list_query_count_does_not_grow(client, app, session, settings, world) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(statement)

    df.open_and_advance(session, world, "accepted", broker=True)
    cases.open_case(session, df.actor_of(world.tto), kind="demands",  # both kinds load once
                    record_id=df.published_demand(session, settings, world.buyer).id)
    _as(client, world.operator)
    engine = app.state.db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get("/cases").status_code == 200
        before = len(seen)
        for _ in range(3):
            more = df.docking_world(session, settings)
            df.open_and_advance(session, more, "interested", broker=True)
            cases.open_case(session, df.actor_of(more.tto), kind="demands",
                            record_id=df.published_demand(session, settings, more.buyer).id)
        seen.clear()
        listing = client.get("/cases").text
        assert listing.count('data-testid="case-row"') == 8
        assert len(seen) == before, seen
    finally:
        event.remove(engine, "before_cursor_execute", count)
