"""Apply migrations and seed default data, idempotently."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect

from leadflow.db.bulk import DeferredIndex, forget_stale_connections, restore_indexes

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option(
        "file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(slug)s"
    )
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to REVISION, rebuild indexes a killed bulk import left aside, seed the default rows."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    with engine.begin() as conn:
        # Indexes a bulk import set aside and could not build again (the process was killed).
        restored = inspect(conn).has_table(DeferredIndex.__tablename__) and restore_indexes(conn)
    if restored:
        forget_stale_connections(engine)
    seed_defaults(engine)


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def seed_defaults(engine: Engine) -> None:
    """Insert or refresh the stage rows, and the default scoring model; safe to run any number of times."""
    from sqlalchemy.orm import Session

    from leadflow.lifecycle.models import Stage
    from leadflow.lifecycle.stages import STAGES
    from leadflow.scoring.service import seed_default_model

    with Session(engine) as session, session.begin():
        existing = {s.key: s for s in session.query(Stage)}
        for d in STAGES:
            row = existing.get(d.key) or Stage(key=d.key)
            row.label, row.position, row.description, row.is_open = d.label, d.position, d.description, d.is_open
            session.add(row)
        seed_default_model(session)
