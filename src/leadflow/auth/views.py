"""The Settings page: users, and API tokens (created and shown once, listed, revoked)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from leadflow.auth.deps import DB, UiUser
from leadflow.auth.models import ApiToken, User
from leadflow.auth.service import (
    AuthError,
    create_token,
    get_token,
    list_tokens,
    list_users,
    revoke_token,
)
from leadflow.auth.sessions import csrf_ok
from leadflow.web.render import PageError, csrf_failed, redirect, render

router = APIRouter(include_in_schema=False)


def _settings(request: Request, db, user: User, *, new_token: str | None = None, new_name: str = "",
              error: str | None = None, status: int = 200) -> HTMLResponse:
    users = list_users(db)
    tokens = list_tokens(db, user_id=None if user.role == "admin" else user.id)
    return render(request, "settings/index.html", {
        "users": users, "user_names": {u.id: u.name for u in users}, "tokens": tokens,
        "new_token": new_token, "new_name": new_name, "error": error, "is_admin": user.role == "admin",
    }, active="settings", status=status)


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, user: UiUser, db: DB) -> HTMLResponse:
    return _settings(request, db, user)


@router.post("/settings/tokens", response_class=HTMLResponse)
def token_create(request: Request, user: UiUser, db: DB, name: str = Form(""), csrf_token: str = Form("")) -> HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    try:
        _, plain = create_token(db, user=user, name=name)
    except AuthError as exc:
        return _settings(request, db, user, error=str(exc), new_name=name, status=422)
    # Rendered, not redirected: the token must never sit in a URL, a cookie or the browser history.
    response = _settings(request, db, user, new_token=plain, new_name=name.strip(), status=201)
    response.headers["Cache-Control"] = "no-store"
    return response


def token_or_404(token_id: int, user: UiUser, db: DB) -> ApiToken:
    token = get_token(db, token_id=token_id) if 1 <= token_id <= 2**63 - 1 else None
    if token is None or (user.role != "admin" and token.user_id != user.id):
        raise PageError(404, "Token not found", f"There is no API token with id {token_id}.")
    return token


@router.post("/settings/tokens/{token_id:int}/revoke", response_model=None)
def token_revoke(
    request: Request, token: Annotated[ApiToken, Depends(token_or_404)], db: DB, csrf_token: str = Form(""),
) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    if token.revoked_at is not None:
        return redirect("/settings#tokens", f"Token “{token.name}” was already revoked.", "error")
    revoke_token(db, token=token)
    return redirect("/settings#tokens", f"Token “{token.name}” revoked. Programs using it can no longer connect.")
