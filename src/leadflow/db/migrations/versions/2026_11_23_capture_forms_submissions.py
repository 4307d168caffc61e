"""capture: form settings (consent versions, success action, origins, spam) and raw submissions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from leadflow.db.base import BigId, JSONType

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_FORM_COLUMNS = [
    ('title', sa.String(length=200), sa.text("''")),
    ('description', sa.Text(), sa.text("''")),
    ('submit_label', sa.String(length=100), sa.text("''")),
    ('success_action', sa.String(length=16), sa.text("'message'")),
    ('redirect_url', sa.String(length=2000), None),
    ('consent_enabled', sa.Boolean(), sa.false()),
    ('consent_required', sa.Boolean(), sa.false()),
    ('consent_text', sa.Text(), sa.text("''")),
    ('consent_version', sa.Integer(), sa.text("0")),
    ('consent_versions', JSONType, sa.text("'[]'")),
    ('allowed_origins', JSONType, sa.text("'[]'")),
    ('min_submit_seconds', sa.Integer(), sa.text("2")),
    ('is_active', sa.Boolean(), sa.true()),
    # SQLite adds columns only with a constant default; the rows get their creation time below.
    ('updated_at', sa.DateTime(), sa.text("'2026-11-23 00:00:00'")),
]


def upgrade() -> None:
    for name, type_, default in _FORM_COLUMNS:
        op.add_column('forms', sa.Column(name, type_, nullable=default is None, server_default=default))
    op.execute("UPDATE forms SET updated_at = created_at")
    op.create_table('submissions',
    sa.Column('id', BigId, nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reasons', JSONType, nullable=False),
    sa.Column('payload', JSONType, nullable=False),
    sa.Column('context', JSONType, nullable=False),
    sa.Column('visitor_id', sa.String(length=64), nullable=True),
    sa.Column('lead_id', BigId, nullable=True),
    sa.Column('processed_at', sa.DateTime(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('released_by', sa.Integer(), nullable=True),
    sa.Column('released_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], name=op.f('fk_submissions_form_id_forms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_submissions_lead_id_leads'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['released_by'], ['users.id'], name=op.f('fk_submissions_released_by_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions'))
    )
    op.create_index('ix_submissions_status_id', 'submissions', ['status', 'id'], unique=False)
    op.create_index('ix_submissions_form_received', 'submissions', ['form_id', 'received_at'], unique=False)
    op.create_index(op.f('ix_submissions_lead_id'), 'submissions', ['lead_id'], unique=False)


def downgrade() -> None:
    op.drop_table('submissions')
    with op.batch_alter_table('forms') as batch_op:
        for name, _, _ in reversed(_FORM_COLUMNS):
            batch_op.drop_column(name)
