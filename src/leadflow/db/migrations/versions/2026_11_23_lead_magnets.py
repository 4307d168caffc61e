"""lead magnets: the file a form delivers after a submission

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_COLUMNS = [
    ('magnet_filename', sa.String(length=255)),
    ('magnet_stored', sa.String(length=255)),
    ('magnet_content_type', sa.String(length=100)),
    ('magnet_size', sa.Integer()),
]


def upgrade() -> None:
    for name, type_ in _COLUMNS:
        op.add_column('forms', sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('forms') as batch_op:
        for name, _ in reversed(_COLUMNS):
            batch_op.drop_column(name)
