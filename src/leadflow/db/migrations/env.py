"""Alembic environment: runs against the engine leadflow is configured for."""

from __future__ import annotations

from alembic import context

from leadflow.db.base import Base, import_all_models

import_all_models()
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from leadflow.db.session import get_engine

        with get_engine().connect() as conn:
            context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
            conn.commit()
        return
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
