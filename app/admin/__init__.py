from flask import Blueprint

from app.auth.access import guard_section

bp = Blueprint("admin", __name__, url_prefix="/admin")
guard_section(bp, "admin")

from app.admin import views  # noqa: E402,F401
