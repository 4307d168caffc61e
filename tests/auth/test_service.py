"""Users, passwords and API tokens: what is stored and what is refused."""

import hashlib

import pytest
from sqlalchemy import select, text

from leadflow.auth.models import ApiToken, User
from leadflow.auth.service import (
    AuthError,
    authenticate,
    create_token,
    create_user,
    revoke_token,
    user_for_token,
)


def test_password_is_stored_as_argon2_never_plain(db):
    user = create_user(db, email="Ana@Example.com", password="correct-horse-battery")
    db.flush()
    stored = db.execute(text("SELECT password_hash, email FROM users WHERE id = :i"), {"i": user.id}).one()
    assert stored.password_hash.startswith("$argon2")
    assert "correct-horse-battery" not in stored.password_hash
    assert stored.email == "ana@example.com"


def test_authenticate_accepts_the_password_and_refuses_others(db):
    create_user(db, email="ana@example.com", password="correct-horse-battery")
    assert authenticate(db, email=" ANA@example.com", password="correct-horse-battery") is not None
    assert authenticate(db, email="ana@example.com", password="wrong-password") is None
    assert authenticate(db, email="nobody@example.com", password="correct-horse-battery") is None


def test_inactive_user_cannot_log_in(db):
    user = create_user(db, email="ana@example.com", password="correct-horse-battery")
    user.is_active = False
    assert authenticate(db, email="ana@example.com", password="correct-horse-battery") is None


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"email": "not-an-email", "password": "long-enough"}, "email"),
    ({"email": "", "password": "long-enough"}, "email"),
    ({"email": "a@b.com", "password": "short"}, "password"),
    ({"email": "a@b.com", "password": "long-enough", "role": "god"}, "role"),
])
def test_create_user_refuses_bad_input_naming_the_field(db, kwargs, field):
    with pytest.raises(AuthError) as exc:
        create_user(db, **kwargs)
    assert exc.value.field == field


def test_duplicate_user_email_is_refused(db):
    create_user(db, email="ana@example.com", password="long-enough")
    with pytest.raises(AuthError) as exc:
        create_user(db, email="ANA@example.com", password="long-enough")
    assert exc.value.field == "email"


def test_token_is_stored_only_as_its_sha256(db):
    user = create_user(db, email="ana@example.com", password="long-enough")
    row, plain = create_token(db, user=user, name="website")
    db.flush()
    assert plain.startswith("lf_") and len(plain) > 40
    stored = db.scalar(select(ApiToken.token_hash).where(ApiToken.id == row.id))
    assert stored == hashlib.sha256(plain.encode()).hexdigest()
    dump = " ".join(str(v) for r in db.execute(text("SELECT * FROM api_tokens")) for v in r)
    assert plain not in dump
    assert plain[10:] not in dump


def test_token_finds_its_user_until_revoked(db):
    user = create_user(db, email="ana@example.com", password="long-enough")
    row, plain = create_token(db, user=user, name="website")
    assert user_for_token(db, token=plain).id == user.id
    assert row.last_used_at is not None
    assert user_for_token(db, token=plain + "x") is None
    revoke_token(db, token=row)
    assert user_for_token(db, token=plain) is None


def test_token_of_inactive_user_is_refused(db):
    user = create_user(db, email="ana@example.com", password="long-enough")
    _, plain = create_token(db, user=user, name="website")
    user.is_active = False
    assert user_for_token(db, token=plain) is None


def test_token_needs_a_name(db):
    user = create_user(db, email="ana@example.com", password="long-enough")
    with pytest.raises(AuthError) as exc:
        create_token(db, user=user, name="  ")
    assert exc.value.field == "name"
    assert db.scalar(select(User.id)) == user.id
