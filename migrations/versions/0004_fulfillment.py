"""fulfillment and documents

Revision ID: 0004
Revises: 0005
Create Date: 2026-11-22

Shipments packed together into one parcel share a `parcel_group`; ops' "no" to a
suggested combined parcel is remembered in `parcel_dismissals`; bulk exports of
invoices and credit notes report their progress through `export_jobs`.

"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0005'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    # A plain nullable column: SQLite adds it in place, batch mode only keeps the
    # operation portable.
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parcel_group', sa.String(length=20), nullable=True))
    op.create_index(op.f('ix_shipments_parcel_group'), 'shipments', ['parcel_group'], unique=False)

    op.create_table('parcel_dismissals',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('orders_key', sa.String(length=64), nullable=False),
    sa.Column('order_numbers', sa.JSON(), nullable=False),
    sa.Column('dismissed_by', sa.String(length=120), nullable=False),
    sa.Column('dismissed_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_parcel_dismissals_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parcel_dismissals')),
    sa.UniqueConstraint('location_id', 'orders_key', name=op.f('uq_parcel_dismissals_location_id_orders_key'))
    )

    op.create_table('export_jobs',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('date_from', sa.Date(), nullable=False),
    sa.Column('date_to', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done_count', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=120), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_export_jobs_status_valid')),
    sa.CheckConstraint('done_count >= 0 AND total >= 0', name=op.f('ck_export_jobs_counts_non_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_jobs')),
    sa.UniqueConstraint('token', name=op.f('uq_export_jobs_token'))
    )
    op.create_index('ix_export_jobs_created_at', 'export_jobs', ['created_at'], unique=False)


def downgrade():
    op.drop_index('ix_export_jobs_created_at', table_name='export_jobs')
    op.drop_table('export_jobs')
    op.drop_table('parcel_dismissals')
    op.drop_index(op.f('ix_shipments_parcel_group'), table_name='shipments')
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_column('parcel_group')
