"""capture: double opt-in per form, and the outbox of emails sent after their transaction commits

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from leadflow.db.base import BigId

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('forms', sa.Column('double_opt_in', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table('outbox_emails',
    sa.Column('id', BigId, nullable=False),
    sa.Column('to_address', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('lead_id', BigId, nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_outbox_emails_lead_id_leads'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_emails'))
    )
    op.create_index('ix_outbox_emails_sent_at_id', 'outbox_emails', ['sent_at', 'id'], unique=False)
    op.create_index(op.f('ix_outbox_emails_lead_id'), 'outbox_emails', ['lead_id'], unique=False)


def downgrade() -> None:
    op.drop_table('outbox_emails')
    with op.batch_alter_table('forms') as batch_op:
        batch_op.drop_column('double_opt_in')
