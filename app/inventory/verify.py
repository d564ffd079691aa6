"""Checking the books from the dashboard: every level against its ledger and its
allocations (app.services.stock_verify), for managers and admins."""

from __future__ import annotations

from time import perf_counter

from app.auth.access import role_required
from app.htmx import render
from app.inventory import bp
from app.models.base import utcnow
from app.services import stock_verify


@bp.get("/verify")
@role_required("manager", "admin")
def verify():
    started = perf_counter()
    report = stock_verify.verify()
    elapsed_ms = (perf_counter() - started) * 1000
    return render("inventory/verify.html", block="report", report=report, elapsed_ms=elapsed_ms, checked_at=utcnow())
