"""`flask orders import FILE.csv --channel CODE [--dry-run] [--skip-invalid]`."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order
from tests.services.conftest import shop, stock  # noqa: F401  (the catalog fixture)
from tests.services.test_order_import import csv_bytes, row

pytestmark = pytest.mark.usefixtures("shop")


def orders_in_db() -> int:
    return db.session.scalar(select(func.count()).select_from(Order))


def invoke(app, path, *options):
    db.session.commit()  # the command runs in its own session
    result = CliRunner().invoke(app.cli, ["orders", "import", str(path), "--channel", "web", *options])
    db.session.expire_all()
    return result


def test_dry_run_then_import_prints_what_happened(app, tmp_path):
    stock("AMS", "MUG", 10)
    path = tmp_path / "export.csv"
    path.write_bytes(csv_bytes([row("C-1"), row("C-1", sku="TEE", unit_price="25.00"), row("C-2")]))

    dry = invoke(app, path, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would create: 2 orders, 3 lines" in dry.output and "(dry run: nothing written)" in dry.output
    assert orders_in_db() == 0

    real = invoke(app, path)
    assert real.exit_code == 0, real.output
    assert "created: 2 orders, 3 lines (SO-000001 … SO-000002)" in real.output
    assert orders_in_db() == 2

    again = invoke(app, path)
    assert again.exit_code == 0, again.output
    assert "duplicates skipped: 2" in again.output and "C-1 is already SO-000001" in again.output


def test_rejected_rows_are_listed_with_lines_and_exit_code_1(app, tmp_path):
    stock("AMS", "MUG", 10)
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([row("C-1"), row("C-2", sku="NOPE"), row("C-3", country="Netherlands")]))

    result = invoke(app, path)
    assert result.exit_code == 1
    assert "rejected: 2 rows (2 orders)" in result.output
    assert "line 3, sku: Unknown SKU NOPE." in result.output
    assert "line 4, country: Use a two-letter country code such as NL." in result.output
    assert "Nothing imported" in result.output
    assert orders_in_db() == 0

    skipped = invoke(app, path, "--skip-invalid")
    assert skipped.exit_code == 0, skipped.output
    assert "created: 1 orders" in skipped.output and orders_in_db() == 1


def test_an_unknown_channel_or_a_file_without_header_fails(app, tmp_path):
    path = tmp_path / "noheader.csv"
    path.write_text("C-1;2026-03-02;Ada\n")
    result = invoke(app, path)
    assert result.exit_code == 1 and "lacks the columns" in result.output
    path.write_bytes(csv_bytes([row("C-1")]))
    result = CliRunner().invoke(app.cli, ["orders", "import", str(path), "--channel", "nope"])
    assert result.exit_code == 1 and "no active sales channel “nope”" in result.output
