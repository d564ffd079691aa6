from flask import Blueprint

from app.auth.access import guard_section

bp = Blueprint("inventory", __name__, url_prefix="/inventory")
guard_section(bp, "inventory")

from app.inventory import counts, routing, verify, views  # noqa: E402,F401
