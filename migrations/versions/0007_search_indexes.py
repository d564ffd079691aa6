"""search indexes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24

Order search looks a term up by what it can be — order number, external id, e-mail,
SKU, or the start of a customer's or recipient's name — each on an index, instead of
testing `ILIKE '%term%'` on every order. Number, external id and e-mail already have
theirs; the SKU index gains the order id (so the orders with a SKU come from the index
alone); the names get an index on their lower-cased value and the id (so the
matching ids come from the index alone). It serves a case-insensitive prefix match:
`lower(name) LIKE 'ana c%'` on PostgreSQL (the `text_pattern_ops` operator class lets
LIKE use the index whatever the database's collation) and the range
`lower(name) >= 'ana c' AND lower(name) < 'ana d'` on SQLite.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_customers_lower_name', 'customers', 'name'),
    ('ix_orders_lower_ship_name', 'orders', 'ship_name'),
)


def upgrade():
    for name, table, column in INDEXES:
        op.create_index(name, table, [sa.func.lower(sa.literal_column(column)).label(f'lower_{column}'), 'id'],
                        postgresql_ops={f'lower_{column}': 'text_pattern_ops'})
    # The SKU index gains the order id: the orders with a SKU come from the index alone.
    op.create_index('ix_order_lines_sku_order_id', 'order_lines', ['sku', 'order_id'])
    op.drop_index('ix_order_lines_sku', table_name='order_lines')


def downgrade():
    op.create_index('ix_order_lines_sku', 'order_lines', ['sku'])
    op.drop_index('ix_order_lines_sku_order_id', table_name='order_lines')
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
