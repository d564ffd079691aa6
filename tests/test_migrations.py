"""The Alembic migrations build exactly the schema the models declare, on both engines."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.models import Base


def test_migrated_schema_matches_the_models(app, db):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_every_table_of_the_domain_model_exists(app, db):
    tables = set(inspect(db.engine).get_table_names())
    expected = {
        "orders", "order_lines", "allocations", "shipments", "shipment_lines", "waves", "stock_levels",
        "stock_moves", "returns", "return_lines", "return_receipts", "payments", "refunds", "invoices",
        "sla_clocks", "notifications", "events", "users", "api_tokens", "channels", "locations", "products",
        "customers", "counters", "job_runs", "job_locks", "location_holidays",
    }
    assert expected <= tables
