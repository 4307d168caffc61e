"""predictive models: trained model versions, and which one priced each lead

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from leadflow.db.base import JSONType
from leadflow.leads.search import PG_PREDICTION_SORT_INDEXES

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'prediction_models',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('options', JSONType, nullable=False),
        sa.Column('report', JSONType, nullable=False),
        sa.Column('features', JSONType, nullable=False),
        sa.Column('artifact', sa.LargeBinary(), nullable=False),
        sa.Column('parent_version', sa.Integer(), nullable=True),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('activated_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_prediction_models_created_by_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_prediction_models')),
        sa.UniqueConstraint('version', name=op.f('uq_prediction_models_version')),
    )
    op.create_index(op.f('ix_prediction_models_status'), 'prediction_models', ['status'], unique=False)
    op.add_column('leads', sa.Column('prediction_version', sa.Integer(), nullable=True))
    op.add_column('leads', sa.Column('predicted_at', sa.DateTime(), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        # NULLS FIRST with the id tiebreak, as the other sort indexes (leads/search.py).
        for name, columns in PG_PREDICTION_SORT_INDEXES.items():
            op.execute(f'CREATE INDEX {name} ON leads ({columns})')
    else:
        op.create_index('ix_leads_conversion_probability', 'leads', ['conversion_probability'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_leads_conversion_probability', table_name='leads')
    with op.batch_alter_table('leads') as batch_op:
        batch_op.drop_column('predicted_at')
        batch_op.drop_column('prediction_version')
    op.drop_index(op.f('ix_prediction_models_status'), table_name='prediction_models')
    op.drop_table('prediction_models')
