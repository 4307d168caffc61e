"""qualification: scoring model versions, score columns and BANT on leads

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from leadflow.db.base import JSONType
from leadflow.leads.search import PG_SCORE_SORT_INDEXES

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_LEAD_COLUMNS = [
    ('score', sa.Float()),
    ('fit_points', sa.Float()),
    ('intent_score', sa.Float()),
    ('score_version', sa.Integer()),
    ('scored_at', sa.DateTime()),
    ('bant_budget', sa.String(length=32)),
    ('bant_authority', sa.String(length=32)),
    ('bant_need', sa.String(length=32)),
    ('bant_timeline', sa.String(length=32)),
    ('bant_updated_at', sa.DateTime()),
]


def upgrade() -> None:
    op.create_table(
        'scoring_models',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('document', JSONType, nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('backtest', JSONType, nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('activated_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_scoring_models_created_by_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scoring_models')),
        sa.UniqueConstraint('version', name=op.f('uq_scoring_models_version')),
    )
    op.create_index(op.f('ix_scoring_models_status'), 'scoring_models', ['status'], unique=False)
    for name, type_ in _LEAD_COLUMNS:
        op.add_column('leads', sa.Column(name, type_, nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        # Lists sort empty values first going up (SQLite's native order); PostgreSQL's indexes
        # must say so, with the id tiebreak, to serve "ORDER BY score DESC NULLS LAST, id DESC".
        for name, columns in PG_SCORE_SORT_INDEXES.items():
            op.execute(f'CREATE INDEX {name} ON leads ({columns})')
    else:
        op.create_index('ix_leads_score', 'leads', ['score'], unique=False)
        op.create_index('ix_leads_fit_grade_score', 'leads', ['fit_grade', 'score'], unique=False)
        op.create_index('ix_leads_intent_score', 'leads', ['intent_score'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_leads_intent_score', table_name='leads')
    op.drop_index('ix_leads_fit_grade_score', table_name='leads')
    op.drop_index('ix_leads_score', table_name='leads')
    with op.batch_alter_table('leads') as batch_op:
        for name, _ in reversed(_LEAD_COLUMNS):
            batch_op.drop_column(name)
    op.drop_index(op.f('ix_scoring_models_status'), table_name='scoring_models')
    op.drop_table('scoring_models')
