"""Seed the demo workspace into the database in bulk, idempotently, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.orm import Session

from leadflow.demo import catalog
from leadflow.demo.generator import DemoWorkspace, generate_workspace

# Rows per executemany / COPY batch: large enough to amortize the round trip, small enough to
# keep each batch's Python tuples to a few tens of MB and the progress bar moving.
CHUNK_ROWS = 50_000
# A bigger page cache while seeding keeps the leads indexes in memory (restored afterwards).
SEED_CACHE_KIB = 1_048_576
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S%.6f"  # the format SQLAlchemy stores and compares on SQLite

Progress = Callable[[str, int, int], None]  # (table, rows just written, rows of that table)


@dataclass(frozen=True, slots=True)
class SeedOutcome:
    """What seed_demo_workspace did: seeded now, or found the workspace already there."""

    seeded: bool
    reason: str
    rows: dict[str, int]


def workspace_state(session: Session) -> str:
    """'empty', 'demo' (the demo admin exists) or 'data' (someone else's leads are here)."""
    from leadflow.auth.models import User
    from leadflow.leads.models import Lead

    if session.scalar(select(func.count()).select_from(User).where(User.email == catalog.ADMIN_EMAIL)):
        return "demo"
    if session.scalar(select(Lead.id).limit(1)) is not None:
        return "data"
    return "empty"


def wipe_database(engine: Engine) -> Engine:
    """Remove all data: delete the SQLite file, or truncate every table on PostgreSQL."""
    from leadflow.db.base import Base, import_all_models
    from leadflow.db.session import get_engine, reset_engine_cache

    if engine.dialect.name == "sqlite":
        path = engine.url.database
        reset_engine_cache()
        engine.dispose()
        if path and path != ":memory:":
            for suffix in ("", "-wal", "-shm"):
                Path(path + suffix).unlink(missing_ok=True)
            return get_engine()
        return engine
    import_all_models()
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return engine


def seed_demo_workspace(
    engine: Engine, *, n_leads: int, seed: int, now: datetime, on_progress: Progress | None = None
) -> SeedOutcome:
    """Create the demo users and every demo row in one transaction, unless the workspace has data."""
    from leadflow.auth.service import create_user

    with engine.connect() as conn, conn.begin():
        session = Session(bind=conn)
        state = workspace_state(session)
        if state != "empty":
            session.close()
            return SeedOutcome(seeded=False, reason=state, rows={})
        user_ids = [create_user(session, email=u.email, password=catalog.DEMO_PASSWORD, name=u.name,
                                role=u.role).id for u in catalog.USERS]
        session.flush()
        session.close()
        workspace = generate_workspace(n_leads=n_leads, seed=seed, now=now, user_ids=user_ids)
        _insert_workspace(conn, workspace, on_progress=on_progress)
    # Scores for the lists and the dashboard. The stages stay as the generator told the story;
    # the model's rules apply from the next change on.
    from leadflow.scoring.service import rescore_everyone

    rescore_everyone(engine, now=now, apply_stages=False)
    _train_demo_model(engine, now=now)
    # Fresh statistics let the planner use the new indexes from the first query; on PostgreSQL
    # VACUUM also sets the visibility map, without which COUNTs cannot use index-only scans.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "postgresql":
            for table in workspace.tables:
                conn.execute(text(f'VACUUM ANALYZE "{table}"'))
        else:
            conn.execute(text("ANALYZE"))
    rows = {name: frame.height for name, frame in workspace.tables.items()}
    return SeedOutcome(seeded=True, reason="empty", rows=rows)


def _train_demo_model(engine: Engine, *, now: datetime) -> int | None:
    """A predictive model learned from the demo's outcomes, active, every lead priced; None when too few outcomes."""
    from leadflow.predict.service import (
        PredictServiceError,
        TrainOptions,
        activate_version,
        predict_everyone,
        train_workspace_model,
    )

    try:
        version = train_workspace_model(engine, options=TrainOptions(
            name="Demo conversion model", notes="trained by leadflow demo on the demo's outcomes"), now=now)
    except PredictServiceError:
        return None  # a small demo: the Predictive page says how to train one later
    with Session(engine) as session, session.begin():
        # The first model of the workspace: there is no active one to compare it with.
        activate_version(session, version=version, compared=True, now=now)
    predict_everyone(engine, now=now)
    return version


def _insert_workspace(conn: Connection, workspace: DemoWorkspace, *, on_progress: Progress | None) -> None:
    sqlite = conn.dialect.name == "sqlite"
    raw = conn.connection.driver_connection
    cursor = raw.cursor()
    if sqlite:
        cursor.execute("PRAGMA cache_size")
        cache_before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size=-{SEED_CACHE_KIB}")
    # The FTS5 insert trigger stays on: measured on 200k leads, dropping it and rebuilding the
    # index once afterwards took as long overall (64.7 s vs 64.8 s), so it buys nothing.
    try:
        for table, frame in workspace.tables.items():
            if sqlite:
                _insert_sqlite(cursor, table, frame, on_progress)
            else:
                _copy_postgres(cursor, table, frame, on_progress)
        if not sqlite:
            for table in workspace.tables:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT max(id) FROM \"{table}\"), 0) + 1, false)")
    finally:
        if sqlite:
            cursor.execute(f"PRAGMA cache_size={cache_before}")
        cursor.close()


def _insert_sqlite(cursor, table: str, frame: pl.DataFrame, on_progress: Progress | None) -> None:
    frame = frame.with_columns(
        pl.col(pl.Datetime).dt.strftime(SQLITE_DATETIME), pl.col(pl.Date).dt.strftime("%Y-%m-%d"))
    columns = ", ".join(f'"{name}"' for name in frame.columns)
    sql = f'INSERT INTO "{table}" ({columns}) VALUES ({", ".join("?" * frame.width)})'
    for start in range(0, frame.height, CHUNK_ROWS):
        chunk = frame.slice(start, CHUNK_ROWS)
        cursor.executemany(sql, chunk.iter_rows())
        if on_progress:
            on_progress(table, chunk.height, frame.height)


def _copy_postgres(cursor, table: str, frame: pl.DataFrame, on_progress: Progress | None) -> None:
    columns = ", ".join(f'"{name}"' for name in frame.columns)
    sql = f"COPY \"{table}\" ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    with cursor.copy(sql) as copy:
        for start in range(0, frame.height, CHUNK_ROWS):
            chunk = frame.slice(start, CHUNK_ROWS)
            buffer = io.BytesIO()
            chunk.write_csv(buffer, include_header=False, null_value="\\N",
                            datetime_format="%Y-%m-%d %H:%M:%S", date_format="%Y-%m-%d")
            copy.write(buffer.getvalue())
            if on_progress:
                on_progress(table, chunk.height, frame.height)
