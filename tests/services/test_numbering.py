from app.services.numbering import next_document_number, next_number
from app.services.tx import begin_write


def test_readable_numbers_count_up(app, db):
    begin_write()
    assert [next_number("order") for _ in range(3)] == ["SO-000001", "SO-000002", "SO-000003"]
    assert next_number("return") == "RMA-000001"
    db.session.commit()


def test_document_series_are_per_year_and_gapless_after_rollback(app, db):
    begin_write()
    assert next_document_number("invoice", 2026) == "INV-2026-000001"
    db.session.commit()
    begin_write()
    assert next_document_number("invoice", 2026) == "INV-2026-000002"
    db.session.rollback()  # the issue failed: its number must be handed out again
    begin_write()
    assert next_document_number("invoice", 2026) == "INV-2026-000002"
    assert next_document_number("invoice", 2027) == "INV-2027-000001"
    assert next_document_number("credit_note", 2026) == "CN-2026-000001"
    db.session.commit()
