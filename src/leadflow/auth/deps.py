"""Request dependencies: the unit of work, the current user, access checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from leadflow.auth.models import User
from leadflow.auth.service import get_user, user_for_token
from leadflow.auth.sessions import CSRF_HEADER, csrf_ok, read_session
from leadflow.db.session import unit_of_work

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _db() -> Iterator[Session]:
    """The request's unit of work: committed when the handler returns, rolled back on error."""
    with unit_of_work() as session:
        yield session


# scope="function": commit before the response is sent, so a 2xx means the data is stored.
DB = Annotated[Session, Depends(_db, scope="function")]


class LoginRequired(Exception):
    """Raised by UI dependencies; the app turns it into a redirect to /login."""


def _api_user(request: Request, db: DB) -> User:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        user = user_for_token(db, token=auth[7:].strip())
        if user is None:
            raise HTTPException(401, "invalid or revoked API token", headers={"WWW-Authenticate": "Bearer"})
        return user
    session = read_session(request)
    if session:
        user = get_user(db, user_id=session["uid"])
        if user is not None and user.is_active:
            if request.method not in SAFE_METHODS and not csrf_ok(request, request.headers.get(CSRF_HEADER)):
                raise HTTPException(403, "missing or wrong X-CSRF-Token header")
            return user
    raise HTTPException(401, "authentication required: send 'Authorization: Bearer <token>'",
                        headers={"WWW-Authenticate": "Bearer"})


def _ui_user(request: Request, db: DB) -> User:
    session = read_session(request)
    user = get_user(db, user_id=session["uid"]) if session else None
    if user is None or not user.is_active:
        raise LoginRequired()
    request.state.user = user
    return user


ApiUser = Annotated[User, Depends(_api_user)]
UiUser = Annotated[User, Depends(_ui_user)]
