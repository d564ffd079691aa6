"""Stock levels and the moves that change them."""

from __future__ import annotations

from flask_smorest import Blueprint

from app.api import schemas as s
from app.auth.access import current_actor, role_required
from app.services import inventory, stock_queries

blp = Blueprint("api_stock", __name__, url_prefix="/api/v1/stock", description="Stock levels")

STOCK_WRITERS = ("ops", "manager", "admin")


def _items(levels) -> dict:
    return {"items": [stock_queries.level_dict(level) for level in levels]}


@blp.get("")
@blp.arguments(s.StockArgsSchema, location="query")
@blp.response(200, s.StockListSchema)
def list_stock(args):
    page = stock_queries.list_levels(
        sku=args["sku"], location=args["location"], cursor=args["cursor"], limit=args["limit"]
    )
    return {"items": [stock_queries.level_dict(lvl) for lvl in page.items], "next_cursor": page.next_cursor}


@blp.post("/receipts")
@role_required(*STOCK_WRITERS)
@blp.arguments(s.ReceiptInSchema)
@blp.response(201, s.StockItemsSchema)
@blp.alt_response(404, schema=s.ErrorSchema)
@blp.alt_response(422, schema=s.ErrorSchema)
def receipt(body):
    """Goods in."""
    return _items(inventory.receive(**body, actor=current_actor()))


@blp.post("/adjustments")
@role_required(*STOCK_WRITERS)
@blp.arguments(s.AdjustmentInSchema)
@blp.response(201, s.StockItemsSchema)
@blp.alt_response(404, schema=s.ErrorSchema)
@blp.alt_response(409, schema=s.ErrorSchema, description="Would make on hand negative")
@blp.alt_response(422, schema=s.ErrorSchema)
def adjustment(body):
    """Count correction, damage, loss, found."""
    return _items(inventory.adjust(**body, actor=current_actor()))


@blp.post("/transfers")
@role_required(*STOCK_WRITERS)
@blp.arguments(s.TransferInSchema)
@blp.response(201, s.StockItemsSchema)
@blp.alt_response(404, schema=s.ErrorSchema)
@blp.alt_response(409, schema=s.ErrorSchema)
@blp.alt_response(422, schema=s.ErrorSchema)
def transfer(body):
    """Move stock between locations (one transaction)."""
    return _items(inventory.transfer(**body, actor=current_actor()))
