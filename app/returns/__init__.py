from flask import Blueprint

from app.auth.access import guard_section

bp = Blueprint("returns", __name__, url_prefix="/returns")
guard_section(bp, "returns")

from app.returns import views  # noqa: E402,F401
