"""Server-rendered pages: CSRF on forms, login and logout, language, access, no external assets."""

from __future__ import annotations

import re

from tests.factories import PASSWORD, make_user


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form without csrf_token"
    return match.group(1)


def _page_login(client, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    token = _csrf(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token,
                                       "next": "/account"}, follow_redirects=False)


def test_home_defaults_to_chinese(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in response.text and "从清单到落地" in response.text


def test_language_switch(client) -> None:
    response = client.get("/lang/en?next=/login", follow_redirects=True)
    assert '<html lang="en">' in response.text and "Log in" in response.text
    client.get("/lang/zh_CN")
    assert "登录" in client.get("/login").text


def test_language_switch_refuses_open_redirect(client) -> None:
    response = client.get("/lang/en?next=//evil.example/", follow_redirects=False)
    assert response.headers["location"] == "/"


def test_login_form_without_csrf_is_refused(client, session) -> None:
    user = make_user(session, "viewer")
    client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 403 and 'data-testid="error-page"' in response.text


def test_page_login_and_logout(client, session) -> None:
    user = make_user(session, "viewer")
    response = _page_login(client, user.email)
    assert response.status_code == 303 and response.headers["location"] == "/account"
    account = client.get("/account")
    assert account.status_code == 200 and user.email in account.text
    out = client.post("/logout", data={"csrf_token": _csrf(account.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/account", follow_redirects=False).status_code == 303  # back to login


def test_bad_login_shows_translated_error(client, session) -> None:
    user = make_user(session, "viewer")
    response = _page_login(client, user.email, "not my password at all")
    assert response.status_code == 401 and "邮箱或密码错误" in response.text


def test_staff_pages_refuse_others(client, session) -> None:
    user = make_user(session, "enterprise_member")
    _page_login(client, user.email)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/audit").status_code == 403


def test_operator_creates_user_through_form(client, session) -> None:
    operator = make_user(session, "operator")
    _page_login(client, operator.email)
    page = client.get("/admin/users")
    response = client.post("/admin/users", data={
        "csrf_token": _csrf(page.text), "email": "new@example.cn", "display_name": "新用户",
        "role": "expert", "password": "a long enough password"}, follow_redirects=True)
    assert response.status_code == 200 and "new@example.cn" in response.text


def test_token_created_from_account_page(client, session) -> None:
    user = make_user(session, "institution_member")
    _page_login(client, user.email)
    page = client.get("/account")
    response = client.post("/account/tokens", data={"csrf_token": _csrf(page.text),
                                                      "name": "导入脚本", "days": "30"})
    token = re.search(r'data-testid="new-token">(luodi_[^<]+)<', response.text).group(1)
    client.cookies.clear()
    me = client.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})
    assert me.json()["user"]["email"] == user.email


def test_no_external_assets_and_strict_csp(client) -> None:
    response = client.get("/")
    assert "http://" not in response.text.replace("http://127.0.0.1", "")
    assert not re.search(r'(src|href)="https?://', response.text)
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert client.get("/static/luodi.css").status_code == 200
    assert client.get("/static/luodi.js").status_code == 200
