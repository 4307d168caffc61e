"""Authentication over HTTP: bearer tokens, the login session cookie and CSRF on API writes."""

import pytest
from fastapi.testclient import TestClient

from leadflow.auth.service import create_token, get_user, revoke_token
from leadflow.auth.sessions import CSRF_COOKIE, SESSION_COOKIE
from leadflow.db.session import get_sessionmaker


def _login(c: TestClient, admin) -> None:
    c.get("/login")
    csrf = c.cookies.get(CSRF_COOKIE)
    assert csrf
    r = c.post("/login", data={"email": admin["email"], "password": admin["password"], "csrf_token": csrf,
                               "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return r


def _set_cookie_header(response, name):
    headers = [v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith(name + "=")]
    assert len(headers) == 1, headers
    return headers[0].lower()


def test_revoked_token_is_refused(client, admin):
    assert client.get("/api/v1/leads").status_code == 200
    with get_sessionmaker()() as s, s.begin():
        from sqlalchemy import select

        from leadflow.auth.models import ApiToken

        revoke_token(s, token=s.scalar(select(ApiToken)))
    r = client.get("/api/v1/leads")
    assert r.status_code == 401


def test_second_token_works_independently(client, admin):
    with get_sessionmaker()() as s, s.begin():
        _, other = create_token(s, user=get_user(s, user_id=admin["id"]), name="second")
    r = client.get("/api/v1/leads", headers={"Authorization": f"Bearer {other}"})
    assert r.status_code == 200


def test_login_cookie_is_httponly_and_samesite_and_not_secure_over_http(app, admin):
    with TestClient(app) as c:
        cookie = _set_cookie_header(_login(c, admin), SESSION_COOKIE)
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie


def test_login_cookie_is_secure_over_https(app, admin):
    with TestClient(app, base_url="https://testserver") as c:
        cookie = _set_cookie_header(_login(c, admin), SESSION_COOKIE)
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" in cookie


def test_wrong_password_sets_no_session(app, admin):
    with TestClient(app) as c:
        c.get("/login")
        r = c.post("/login", data={"email": admin["email"], "password": "nope-nope-nope",
                                   "csrf_token": c.cookies.get(CSRF_COOKIE)}, follow_redirects=False)
        assert r.status_code == 401
        assert SESSION_COOKIE not in c.cookies


def test_session_cookie_reads_the_api_but_writes_need_the_csrf_header(app, admin):
    with TestClient(app) as c:
        _login(c, admin)
        assert c.get("/api/v1/leads").status_code == 200
        r = c.post("/api/v1/leads", json={"email": "a@b.com"})
        assert r.status_code == 403
        r = c.post("/api/v1/leads", json={"email": "a@b.com"}, headers={"X-CSRF-Token": "forged"})
        assert r.status_code == 403
        assert c.get("/api/v1/leads").json()["total"] == 0
        r = c.post("/api/v1/leads", json={"email": "a@b.com"}, headers={"X-CSRF-Token": c.cookies.get(CSRF_COOKIE)})
        assert r.status_code == 201


@pytest.mark.parametrize("cookie", ["garbage", "eyJ1aWQiOjF9.forged.signature"])
def test_forged_session_cookie_is_401(app, engine_clean, cookie):
    with TestClient(app, cookies={SESSION_COOKIE: cookie}) as c:
        assert c.get("/api/v1/leads").status_code == 401
