from click.testing import CliRunner
from sqlalchemy import update

from app.extensions import db
from app.models import StockLevel
from app.services import orders, stock_verify
from tests.services.conftest import ACTOR, NOW, order_body, stock


def test_a_clean_ledger_has_no_drift(app, shop):
    stock("AMS", "MUG", 5)
    orders.create_order(order_body(), actor=ACTOR, now=NOW)
    report = stock_verify.verify()
    assert report.ok and report.levels_checked == 1 and report.moves_counted == 1
    result = CliRunner().invoke(app.cli, ["stock", "verify"])
    assert result.exit_code == 0 and "no drift" in result.output


def test_drift_is_reported_with_what_each_side_says(app, shop):
    stock("AMS", "MUG", 5)
    orders.create_order(order_body(), actor=ACTOR, now=NOW)
    # Simulate a bad manual SQL fix that bypassed the ledger.
    db.session.execute(update(StockLevel).values(on_hand=7, reserved=0))
    db.session.commit()
    report = stock_verify.verify()
    messages = sorted(d.message for d in report.drifts)
    assert messages == [
        "MUG@AMS: on hand differs from the sum of its ledger moves (recorded 7, expected 5)",
        "MUG@AMS: reserved differs from its live allocations (recorded 0, expected 1)",
    ]
    result = CliRunner().invoke(app.cli, ["stock", "verify"])
    assert result.exit_code == 1 and "DRIFT MUG@AMS" in result.output
