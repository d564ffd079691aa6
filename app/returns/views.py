"""Returns (RMAs)."""

from __future__ import annotations

from flask import current_app, request

from app.htmx import render
from app.returns import bp
from app.services.queries import returns as return_queries
from app.services.queries.returns import ReturnFilters


@bp.get("/")
def index():
    filters = ReturnFilters.from_args(request.args)
    page = return_queries.list_returns(
        filters, cursor=request.args.get("cursor"), limit=current_app.config["PAGE_SIZE"]
    )
    return render(
        "returns/index.html", block="rows", page=page, filters=filters, choices=return_queries.filter_choices()
    )
