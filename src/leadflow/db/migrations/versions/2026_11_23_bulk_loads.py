"""bulk loads: deferred_indexes, and a search trigger a bulk writer can bypass

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from leadflow.leads.search import PG_SEARCH_SYNC_FUNCTION

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deferred_indexes',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('table_name', sa.String(length=200), nullable=False),
    sa.Column('ddl', sa.Text(), nullable=False),
    sa.Column('deferred_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_deferred_indexes'))
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_SEARCH_SYNC_FUNCTION)


def downgrade() -> None:
    # The trigger function keeps its bypass: without the setting it behaves as before.
    op.drop_table('deferred_indexes')
