"""Printed documents: PDFs of invoices, credit notes, packing slips and pick lists
(render.py), bulk export of a period (export.py, export_jobs.py), and the audit of
the invoice series (series_audit.py)."""
