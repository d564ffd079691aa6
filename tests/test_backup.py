"""`flask db backup` and `flask db restore`: a round trip on the test database of each
engine (SQLite's online backup API, PostgreSQL's pg_dump/pg_restore)."""

from __future__ import annotations

import os
import shutil
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from app.cli import db as db_cli
from app.models import Product, User
from app.services import catalog
from app.services.actors import Actor


@pytest.fixture
def cli(app, db, engine_name):
    if engine_name == "postgresql" and not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        message = "PostgreSQL backups need pg_dump and pg_restore (apt-get install postgresql-client)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)

    def invoke(*args, input=None):
        db.session.commit()
        db.session.close()  # a restore must not wait for a transaction of the test's own
        return CliRunner().invoke(app.cli, ["db", *args], input=input, catch_exceptions=False)

    return invoke


def product_names(db) -> dict[str, str]:
    db.session.expire_all()
    return dict(db.session.execute(select(Product.sku, Product.name)).all())


def test_backup_change_restore_gives_back_the_data_as_it_was(cli, db, make_user, tmp_path, engine_name):
    actor = Actor.cli()
    catalog.create_product(sku="KEEP-1", name="Kept mug", unit_price=Decimal("9.90"), actor=actor)
    catalog.create_product(sku="KEEP-2", name="Kept plate", unit_price=Decimal("14.50"), actor=actor)
    make_user("finance", email="before@example.com")
    backup_file = tmp_path / ("orderdeck.sqlite3" if engine_name == "sqlite" else "orderdeck.pgdump")

    made = cli("backup", "--out", str(backup_file))
    assert made.exit_code == 0, made.output
    assert backup_file.stat().st_size > 0 and f"to {backup_file}" in made.output

    # Things change after the backup: a new product, a renamed one, a deleted user.
    catalog.create_product(sku="LATER-1", name="Added later", unit_price=Decimal("1.00"), actor=actor)
    db.session.execute(text("UPDATE products SET name = 'Renamed' WHERE sku = 'KEEP-1'"))
    db.session.execute(text("DELETE FROM events"))
    db.session.execute(text("DELETE FROM users WHERE email = 'before@example.com'"))
    db.session.commit()
    assert product_names(db)["KEEP-1"] == "Renamed"

    restored = cli("restore", str(backup_file), "--yes")
    assert restored.exit_code == 0, restored.output

    assert product_names(db) == {"KEEP-1": "Kept mug", "KEEP-2": "Kept plate"}
    assert db.session.scalar(select(User.role).where(User.email == "before@example.com")) == "finance"
    if engine_name == "sqlite":  # still in WAL mode: readers keep not blocking the writer
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    # The app works on the restored database: numbering and writes carry on.
    catalog.create_product(sku="AFTER-1", name="After restore", unit_price=Decimal("2.00"), actor=actor)
    assert set(product_names(db)) == {"KEEP-1", "KEEP-2", "AFTER-1"}


def test_restore_asks_first_and_a_no_changes_nothing(cli, db, tmp_path):
    catalog.create_product(sku="ASK-1", name="Original", unit_price=Decimal("3.00"), actor=Actor.cli())
    backup_file = tmp_path / "ask.bak"
    assert cli("backup", "--out", str(backup_file)).exit_code == 0
    db.session.execute(text("UPDATE products SET name = 'Changed' WHERE sku = 'ASK-1'"))
    db.session.commit()

    declined = cli("restore", str(backup_file), input="n\n")
    assert declined.exit_code != 0 and "Aborted" in declined.output
    assert product_names(db)["ASK-1"] == "Changed"


def test_default_backup_goes_to_the_instance_backups_folder(cli, monkeypatch, tmp_path, engine_name):
    monkeypatch.setattr(db_cli, "DEFAULT_DIR", tmp_path / "backups")
    made = cli("backup")
    assert made.exit_code == 0, made.output
    (written,) = (tmp_path / "backups").iterdir()
    assert written.name.startswith("orderdeck-")
    assert written.suffix == (".sqlite3" if engine_name == "sqlite" else ".pgdump")


def test_a_file_that_is_not_a_backup_is_refused_and_nothing_changes(cli, db, tmp_path):
    catalog.create_product(sku="SAFE-1", name="Untouched", unit_price=Decimal("3.00"), actor=Actor.cli())
    bogus = tmp_path / "holiday-photo.jpg"
    bogus.write_bytes(b"\xff\xd8\xff\xe0 not a database " * 100)
    refused = cli("restore", str(bogus), "--yes")
    assert refused.exit_code != 0
    assert "Error:" in refused.output and str(bogus) in refused.output
    assert product_names(db) == {"SAFE-1": "Untouched"}

    missing = cli("restore", str(tmp_path / "no-such-file"), "--yes")
    assert missing.exit_code != 0 and "There is no backup file" in missing.output
