"""Users, password checks and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.auth.models import ROLES, ApiToken, User
from leadflow.db.base import utcnow
from leadflow.leads.normalize import InvalidValue, normalize_email

_hasher = PasswordHasher()
TOKEN_PREFIX = "lf_"
MIN_PASSWORD = 8


class AuthError(ValueError):
    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


def get_user(session: Session, *, user_id: int) -> User | None:
    return session.get(User, user_id)


def get_user_by_email(session: Session, *, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name, User.id)))


def create_user(session: Session, *, email: str, password: str, name: str = "", role: str = "marketing") -> User:
    """A new user with an argon2-hashed password."""
    try:
        normalized = normalize_email(email)
    except InvalidValue as exc:
        raise AuthError(f"invalid email: {exc}", field="email") from None
    if not normalized:
        raise AuthError("email is required", field="email")
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}", field="role")
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"password must be at least {MIN_PASSWORD} characters", field="password")
    if get_user_by_email(session, email=normalized):
        raise AuthError(f"a user with email {normalized} exists", field="email")
    user = User(email=normalized, name=name.strip() or normalized.split("@")[0], role=role,
                password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    return user




def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The active user with this email and password, else None (same time either way)."""
    user = get_user_by_email(session, email=email)
    if user is None or not user.is_active:
        # Hash anyway so a wrong email takes as long as a wrong password.
        _hasher.hash(password)
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    user.last_login_at = utcnow()
    return user


def _digest(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, user: User, name: str) -> tuple[ApiToken, str]:
    """A new API token; the plain token is returned once and never stored."""
    if not name.strip():
        raise AuthError("a token needs a name", field="name")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name.strip(), prefix=plain[:10], token_hash=_digest(plain))
    session.add(token)
    session.flush()
    return token, plain


def user_for_token(session: Session, *, token: str) -> User | None:
    """The active user owning this live token, else None."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None)))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    row.last_used_at = utcnow()
    return user


def list_tokens(session: Session, *, user_id: int | None = None) -> list[ApiToken]:
    stmt = select(ApiToken).order_by(ApiToken.created_at.desc())
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    return list(session.scalars(stmt))


def get_token(session: Session, *, token_id: int) -> ApiToken | None:
    return session.get(ApiToken, token_id)


def revoke_token(session: Session, *, token: ApiToken) -> None:
    token.revoked_at = utcnow()
    session.flush()
