"""Test harness: a real database (SQLite by default, PostgreSQL with LEADFLOW_TEST_DATABASE_URL).

Each test that asks for `db`, `client` or `engine_clean` starts from empty tables with the
default stage rows; pure tests (normalization, merge rules) need no database at all.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

# Settings are read from the environment, so point them at a scratch directory first.
_DATA_DIR = Path(os.environ.setdefault("LEADFLOW_DATA_DIR", str(Path(__file__).parent / ".." / ".pytest-data")))
os.environ.setdefault("LEADFLOW_ENV", "test")
# LightGBM's OpenMP threads spin while they wait; with two test workers on two cores they fight
# each other and training runs ~20x slower. One thread per worker.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from leadflow.config import get_settings  # noqa: E402
from leadflow.db.base import Base, import_all_models  # noqa: E402
from leadflow.db.migrate import seed_defaults, upgrade  # noqa: E402
from leadflow.db.session import get_engine, get_sessionmaker, reset_engine_cache  # noqa: E402
from leadflow.predict.hooks import install as install_predict  # noqa: E402
from leadflow.scoring.hooks import install as install_scoring  # noqa: E402

# No timed assertions: Hypothesis's per-example deadline fails on a busy machine, not on a bug.
hypothesis_settings.register_profile("leadflow", deadline=None)
hypothesis_settings.load_profile("leadflow")

# Leads are rescored as their transaction commits, as in the app and the CLI.
install_predict()
install_scoring()

X_EDUCATION_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "x_education_leads.csv"

pytest_plugins = ["tests.web_fixtures"]


def _schema_name() -> str:
    """The PostgreSQL schema of this test process: one per xdist worker (and per LEADFLOW_TEST_SCHEMA)."""
    base = os.environ.get("LEADFLOW_TEST_SCHEMA", "t")
    return f"{base}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


def _test_url(tmp_root: Path) -> str:
    url = os.environ.get("LEADFLOW_TEST_DATABASE_URL")
    worker = _schema_name()
    if url:
        if url.startswith("postgresql"):
            # One schema per xdist worker, so parallel workers never share tables.
            sep = "&" if "?" in url else "?"
            return f"{url}{sep}options=-csearch_path%3D{worker}"
        return url
    return f"sqlite:///{tmp_root / f'test-{worker}.db'}"


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The migrated test database, shared by the session."""
    root = tmp_path_factory.mktemp("leadflow-data")
    url = _test_url(root)
    os.environ["LEADFLOW_DATA_DIR"] = str(root)
    os.environ["LEADFLOW_DATABASE_URL"] = url
    # Tests turn submissions into leads explicitly; the background processor would race them.
    os.environ["LEADFLOW_SUBMISSION_PROCESSING"] = "false"
    get_settings.cache_clear()
    reset_engine_cache()
    eng = get_engine()
    if eng.dialect.name == "postgresql":
        schema = _schema_name()
        with eng.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    upgrade(eng)
    import_all_models()
    yield eng
    reset_engine_cache()


def truncate_all(eng: Engine) -> None:
    """Empty every table and re-seed the defaults."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with eng.begin() as conn:
        if eng.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))
            conn.execute(text("INSERT INTO leads_fts(leads_fts) VALUES('rebuild')"))
            conn.execute(text("DELETE FROM sqlite_sequence")) if conn.execute(
                text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first() else None
    seed_defaults(eng)


@pytest.fixture
def engine_clean(engine: Engine) -> Engine:
    """The test database, emptied before the test."""
    truncate_all(engine)
    return engine


@pytest.fixture
def db(engine_clean: Engine) -> Iterator[Session]:
    """A session on an empty database; the test commits when it wants data visible to others."""
    session = get_sessionmaker()()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@pytest.fixture
def admin(engine_clean: Engine):
    """An admin user (admin@example.com / correct-horse-battery) and an API token for it."""
    from leadflow.auth.service import create_token, create_user

    with get_sessionmaker()() as s, s.begin():
        user = create_user(s, email="admin@example.com", password="correct-horse-battery", name="Ada Admin", role="admin")
        _, token = create_token(s, user=user, name="tests")
        uid = user.id
    return {"id": uid, "email": "admin@example.com", "password": "correct-horse-battery", "token": token}


@pytest.fixture
def app(engine_clean: Engine):
    from leadflow.app import create_app

    return create_app()


@pytest.fixture
def client(app, admin):
    """An HTTP client authenticated with the admin's API token."""
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        c.headers["Authorization"] = f"Bearer {admin['token']}"
        yield c


@pytest.fixture
def anon_client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c
