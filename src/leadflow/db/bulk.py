"""Bulk loads: set secondary indexes aside while a large load runs, and build them again after.

Building an index once over a million rows costs a fraction of maintaining it row by row (on
SQLite ~1.3 s per index instead of tens of seconds). A bulk writer calls `defer_indexes`, which
drops the non-unique secondary indexes of the tables it loads and records their exact DDL in
`deferred_indexes` in the same transaction; `restore_indexes` re-creates them and clears the
record. Primary keys and unique indexes are never touched, so no constraint is off during the
load. A process killed in between leaves the record behind: `leadflow db upgrade` and the server's
start-up restore the indexes from it, so nothing depends on the writer finishing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, DateTime, String, Text, delete, insert, select, text
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.db.base import Base, utcnow


class DeferredIndex(Base):
    """An index dropped for a bulk load, with the statement that builds it again."""

    __tablename__ = "deferred_indexes"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(200))
    ddl: Mapped[str] = mapped_column(Text)
    deferred_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


def secondary_indexes(conn: Connection, table: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of TABLE's non-unique indexes, as the database has them."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL "
            "AND upper(sql) NOT LIKE 'CREATE UNIQUE%' ORDER BY name"), {"t": table}).all()
    else:
        rows = conn.execute(text(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
            "WHERE t.oid = to_regclass(:t) AND NOT i.indisunique AND NOT i.indisprimary ORDER BY c.relname"),
            {"t": table}).all()
    return [(r[0], r[1]) for r in rows]


def defer_indexes(conn: Connection, tables: Sequence[str]) -> list[str]:
    """Drop TABLES' non-unique indexes, recording how to rebuild them; the names dropped.

    Runs in the caller's transaction: the record and the drop commit together or not at all.
    """
    dropped: list[str] = []
    for table in tables:
        for name, ddl in secondary_indexes(conn, table):
            conn.execute(delete(DeferredIndex).where(DeferredIndex.name == name))
            conn.execute(insert(DeferredIndex).values(name=name, table_name=table, ddl=ddl, deferred_at=utcnow()))
            conn.execute(text(f'DROP INDEX "{name}"'))
            dropped.append(name)
    return dropped


def pending_indexes(conn: Connection) -> list[str]:
    """Names of the indexes set aside and not built again yet."""
    return list(conn.scalars(select(DeferredIndex.name).order_by(DeferredIndex.name)))


def restore_indexes(conn: Connection) -> list[str]:
    """Build every deferred index again (those that already exist are left alone); their names."""
    rows = conn.execute(select(DeferredIndex.name, DeferredIndex.ddl).order_by(DeferredIndex.name)).all()
    if not rows:
        return []
    if conn.dialect.name == "postgresql":
        # Sorting a million keys in memory instead of in temporary files (server-side memory).
        conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for name, ddl in rows:
        # The recorded statement as it was (not rewritten with IF NOT EXISTS: SQLite keeps the
        # statement's text as the index's definition), run only when the index is missing.
        if not _index_exists(conn, name):
            conn.execute(text(ddl))
        conn.execute(delete(DeferredIndex).where(DeferredIndex.name == name))
    return [r[0] for r in rows]


def _index_exists(conn: Connection, name: str) -> bool:
    if conn.dialect.name == "sqlite":
        return conn.scalar(text("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = :n"), {"n": name}) is not None
    return conn.scalar(text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name})


def forget_stale_connections(engine) -> None:
    """After indexes were dropped or created: on SQLite, drop the pooled connections.

    An idle SQLite connection keeps the schema it last read; a statement prepared on it before it
    reads again can fail against the old schema ("index ... already exists"). New connections read
    the schema afresh. PostgreSQL needs nothing.
    """
    if engine.dialect.name == "sqlite":
        engine.dispose()
