"""sla engine

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-22

SLA clocks get a second notice moment (payment reminder 2, the address-problem
message), the reason a breach happened and the location whose calendar set the
deadline. Partial indexes let the sweeps read only clocks that still owe a warning
or notice or are running towards their deadline, and the SLA page only the breaches
nobody has resolved.

"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0002'
branch_labels = None
depends_on = None

WARN_PENDING = "state = 'running' AND warned_at IS NULL"
NOTICE_PENDING = "state = 'running' AND noticed_at IS NULL"
RUNNING = "state = 'running'"
OPEN_BREACHES = "state = 'breached' AND met_at IS NULL AND stopped_at IS NULL"
FK_NAME = 'fk_sla_clocks_location_id_locations'


def upgrade():
    op.add_column('sla_clocks', sa.Column('notice_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
    op.add_column('sla_clocks', sa.Column('noticed_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
    op.add_column('sla_clocks', sa.Column('breach_reason', sa.String(length=40), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a column with an inline, named REFERENCES; no table rebuild needed.
        op.execute(f"ALTER TABLE sla_clocks ADD COLUMN location_id INTEGER "
                   f"CONSTRAINT {FK_NAME} REFERENCES locations (id)")
    else:
        op.add_column('sla_clocks', sa.Column('location_id', sa.Integer(), nullable=True))
        op.create_foreign_key(FK_NAME, 'sla_clocks', 'locations', ['location_id'], ['id'])
    # (state, warn_at) kept every warned clock: the sweeps read the partial index below
    # instead, and the planner must not be tempted by the old one.
    op.drop_index('ix_sla_clocks_warn', table_name='sla_clocks')
    op.create_index('ix_sla_clocks_warn_pending', 'sla_clocks', ['kind', 'warn_at'],
                    sqlite_where=sa.text(WARN_PENDING), postgresql_where=sa.text(WARN_PENDING))
    op.create_index('ix_sla_clocks_notice_pending', 'sla_clocks', ['kind', 'notice_at'],
                    sqlite_where=sa.text(NOTICE_PENDING), postgresql_where=sa.text(NOTICE_PENDING))
    op.create_index('ix_sla_clocks_running_due', 'sla_clocks', ['kind', 'due_at'],
                    sqlite_where=sa.text(RUNNING), postgresql_where=sa.text(RUNNING))
    op.create_index('ix_sla_clocks_open_breaches', 'sla_clocks', ['due_at'],
                    sqlite_where=sa.text(OPEN_BREACHES), postgresql_where=sa.text(OPEN_BREACHES))


def downgrade():
    op.drop_index('ix_sla_clocks_open_breaches', table_name='sla_clocks')
    op.drop_index('ix_sla_clocks_running_due', table_name='sla_clocks')
    op.drop_index('ix_sla_clocks_notice_pending', table_name='sla_clocks')
    op.drop_index('ix_sla_clocks_warn_pending', table_name='sla_clocks')
    op.create_index('ix_sla_clocks_warn', 'sla_clocks', ['state', 'warn_at'])
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        if op.get_bind().dialect.name != 'sqlite':
            batch_op.drop_constraint(FK_NAME, type_='foreignkey')
        batch_op.drop_column('location_id')
        batch_op.drop_column('breach_reason')
        batch_op.drop_column('noticed_at')
        batch_op.drop_column('notice_at')
