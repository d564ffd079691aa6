from flask import Blueprint

from app.auth.access import guard_section

bp = Blueprint("orders", __name__, url_prefix="/orders")
guard_section(bp, "orders")

from app.orders import imports, views  # noqa: E402,F401
