"""Settings: validated at start-up, refusing default secrets in production."""

import pytest
from pydantic import ValidationError

from leadflow.config import DEV_SECRET, Settings


def test_production_refuses_the_default_secret(monkeypatch):
    monkeypatch.delenv("LEADFLOW_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="LEADFLOW_SECRET_KEY"):
        Settings(env="production", _env_file=None)


def test_production_refuses_a_short_secret():
    with pytest.raises(ValidationError, match="32 characters"):
        Settings(env="production", secret_key="too-short", _env_file=None)


def test_production_accepts_a_long_random_secret():
    s = Settings(env="production", secret_key="x" * 40, _env_file=None)
    assert s.secret_key.get_secret_value() == "x" * 40


def test_development_allows_the_default_secret_and_hides_it():
    s = Settings(env="development", _env_file=None)
    assert s.secret_key.get_secret_value() == DEV_SECRET
    assert DEV_SECRET not in repr(s)


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LEADFLOW_ENV", "production")
    monkeypatch.setenv("LEADFLOW_SECRET_KEY", "k" * 48)
    monkeypatch.setenv("LEADFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LEADFLOW_DATABASE_URL", raising=False)
    s = Settings(_env_file=None)
    assert s.env == "production"
    assert s.resolved_database_url == f"sqlite:///{(tmp_path / 'leadflow.db').resolve()}"
    assert s.is_sqlite


def test_unknown_env_kind_is_refused():
    with pytest.raises(ValidationError, match="env"):
        Settings(env="staging", _env_file=None)
