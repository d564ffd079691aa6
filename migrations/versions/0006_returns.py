"""returns workflow

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-24

Every change to a return sets `updated_at`, so its row is rewritten and its version
(the optimistic lock) moves even when only its lines or receipts changed. A return line
can be marked `not_returned`: the customer will not send (the rest of)
it, so the return may close with fewer units than were requested. Indexes for the
returns queue (status, then id), for loading a return's lines and receipts, and for
the returns report (returns by the day they were requested).

"""
import sqlalchemy as sa
from alembic import op

import app.models.base

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    # Batch mode keeps this portable: SQLite adds the column in place, PostgreSQL alters.
    with op.batch_alter_table('return_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_returned', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_return_lines_return_id'), ['return_id'], unique=False)
    with op.batch_alter_table('return_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_receipts_return_line_id'), ['return_line_id'], unique=False)
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_index(batch_op.f('ix_returns_status'))
        batch_op.create_index('ix_returns_status_id', ['status', 'id'], unique=False)
        batch_op.create_index('ix_returns_requested_at', ['requested_at'], unique=False)


def downgrade():
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.drop_index('ix_returns_requested_at')
        batch_op.drop_index('ix_returns_status_id')
        batch_op.create_index(batch_op.f('ix_returns_status'), ['status'], unique=False)
        batch_op.drop_column('updated_at')
    with op.batch_alter_table('return_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_return_receipts_return_line_id'))
    with op.batch_alter_table('return_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_return_lines_return_id'))
        batch_op.drop_column('not_returned')
