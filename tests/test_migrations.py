"""Migrations: up, down and up again on a fresh database of each kind; models match the schema."""

import os
import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, inspect, select, text, update
from sqlalchemy.orm import Session

from leadflow.db.base import Base, import_all_models
from leadflow.db.migrate import downgrade, seed_defaults, upgrade
from leadflow.db.session import make_engine
from leadflow.lifecycle.models import Stage
from leadflow.lifecycle.stages import STAGES

PG_URL = os.environ.get("LEADFLOW_TEST_DATABASE_URL", "")


def _sqlite(tmp_path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'migrations.db'}")
    yield engine
    engine.dispose()


def _postgres() -> Iterator[Engine]:
    schema = f"mig_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    engine = make_engine(f"{PG_URL}{sep}options=-csearch_path%3D{schema}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_engine(request, tmp_path) -> Iterator[Engine]:
    """An empty database of each kind, apart from the shared test database."""
    if request.param == "postgresql" and not PG_URL.startswith("postgresql"):
        pytest.skip("set LEADFLOW_TEST_DATABASE_URL to a PostgreSQL URL to test its migrations")
    gen = _sqlite(tmp_path) if request.param == "sqlite" else _postgres()
    yield next(gen)
    next(gen, None)


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _stage_count(engine: Engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(Stage))


def test_upgrade_downgrade_upgrade(fresh_engine):
    import_all_models()
    model_tables = set(Base.metadata.tables)
    upgrade(fresh_engine)
    assert model_tables <= _tables(fresh_engine)
    assert _stage_count(fresh_engine) == len(STAGES) == 7
    downgrade(fresh_engine, "base")
    assert _tables(fresh_engine) & model_tables == set()
    upgrade(fresh_engine)
    assert model_tables <= _tables(fresh_engine)
    assert _stage_count(fresh_engine) == 7


def test_models_match_the_migrated_schema(fresh_engine):
    import_all_models()
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)

    def search_structure(d) -> bool:
        # Created by hand in the migration: the search structures (FTS5 / lead_search) and, on
        # PostgreSQL, the sort indexes rebuilt NULLS FIRST (leads/search.py).
        from leadflow.leads.search import (
            PG_NULLS_FIRST_INDEXES,
            PG_PREDICTION_SORT_INDEXES,
            PG_SCORE_SORT_INDEXES,
        )

        name = getattr(d[1], "name", "") if isinstance(d, tuple) and len(d) > 1 else ""
        return bool(name) and (name.startswith("leads_fts") or name.startswith(("lead_search", "ix_lead_search"))
                               or (fresh_engine.dialect.name == "postgresql" and name in {**PG_NULLS_FIRST_INDEXES, **PG_SCORE_SORT_INDEXES,
                                                                                 **PG_PREDICTION_SORT_INDEXES}))

    assert [d for d in diff if not search_structure(d)] == []


def test_seed_defaults_is_idempotent_and_refreshes_labels(fresh_engine):
    upgrade(fresh_engine)
    with fresh_engine.begin() as conn:
        conn.execute(update(Stage).where(Stage.key == "mql").values(label="changed by hand"))
    seed_defaults(fresh_engine)
    seed_defaults(fresh_engine)
    assert _stage_count(fresh_engine) == 7
    with Session(fresh_engine) as s:
        assert s.get(Stage, "mql").label == "Marketing-qualified"


def test_upgrade_twice_is_harmless(fresh_engine):
    upgrade(fresh_engine)
    upgrade(fresh_engine)
    assert _stage_count(fresh_engine) == 7
