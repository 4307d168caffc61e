"""Engine creation, session factory and the unit of work."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from leadflow.config import get_settings
from leadflow.db import changes as _changes  # noqa: F401  (registers the changed-leads listeners)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets the web server read while an import or worker writes.
    cur.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the
    # last commits, which is the usual trade for embedded servers.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for URL, with SQLite tuned for concurrent readers."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for the configured database."""
    return make_engine(get_settings().resolved_database_url)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    from leadflow.db.base import import_all_models

    import_all_models()
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """One transaction: commit when the block ends cleanly, roll back otherwise."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def reset_engine_cache() -> None:
    """Forget the cached engine (tests and the CLI switch databases)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()


def begin_writing(session: Session) -> None:
    """On SQLite, take the write lock now for a transaction that reads before it writes.

    A deferred SQLite transaction that has read (a SAVEPOINT or SELECT inside it holds a snapshot)
    cannot become a writer once another connection has committed since: SQLite answers "database
    is locked" at once, without waiting in the busy handler. BEGIN IMMEDIATE takes the lock first
    (waiting as long as busy_timeout allows). Does nothing on other databases, or when the
    session's connection is already inside a transaction.
    """
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return
    dbapi = conn.connection.driver_connection
    if not dbapi.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


_SQLITE_WRITER = threading.Lock()


def serialized_writes():
    """A context in which this process's large SQLite writes take turns.

    SQLite has one writer; concurrent writers wait in its busy handler, which sleeps in growing
    steps (up to 100 ms), so under load a write can wait seconds. Queueing on a lock first keeps
    them in order without those sleeps. Other databases need nothing.
    """
    return _SQLITE_WRITER if get_engine().dialect.name == "sqlite" else contextlib.nullcontext()
