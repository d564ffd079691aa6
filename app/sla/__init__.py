from flask import Blueprint

from app.auth.access import guard_section

bp = Blueprint("sla", __name__, url_prefix="/sla")
guard_section(bp, "sla")

# The chip macro is used on pages of other sections too (order detail, board cards).
from app.sla.chips import sla_chip_context, sla_clock_for  # noqa: E402

bp.add_app_template_global(sla_chip_context, "sla_chip_context")
bp.add_app_template_global(sla_clock_for, "sla_clock_for")

from app.sla import views  # noqa: E402,F401
