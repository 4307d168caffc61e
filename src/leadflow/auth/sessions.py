"""Signed session cookies for the web UI and double-submit CSRF tokens."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from leadflow.config import get_settings

SESSION_COOKIE = "leadflow_session"
CSRF_COOKIE = "leadflow_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key.get_secret_value(), salt="leadflow.session")


def _secure(request: Request) -> bool:
    forced = get_settings().cookie_secure
    return forced if forced is not None else request.url.scheme == "https"


def read_session(request: Request) -> dict | None:
    """The session payload from the cookie, or None when absent, forged or expired."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=get_settings().session_max_age_s)
    except BadSignature:
        return None
    return data if isinstance(data, dict) and "uid" in data else None


def start_session(request: Request, response: Response, *, user_id: int) -> None:
    payload = {"uid": user_id, "sid": secrets.token_urlsafe(8)}
    response.set_cookie(
        SESSION_COOKIE, _serializer().dumps(payload), max_age=get_settings().session_max_age_s,
        httponly=True, secure=_secure(request), samesite="lax", path="/",
    )
    # A fresh CSRF token at login, so one seen before login is worth nothing after.
    set_csrf_cookie(request, response, secrets.token_urlsafe(32))


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


def csrf_token(request: Request) -> str:
    """The request's CSRF token (from its cookie, or a new one stored for the response)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return token


def set_csrf_cookie(request: Request, response: Response, token: str) -> None:
    request.state.new_csrf = token
    response.set_cookie(CSRF_COOKIE, token, httponly=False, secure=_secure(request), samesite="strict", path="/")


def csrf_ok(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    return bool(cookie and submitted and hmac.compare_digest(cookie, submitted))
