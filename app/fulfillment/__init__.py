from flask import Blueprint

from app.auth.access import guard_section

# No url_prefix: the section lives under /fulfillment/, and the packing slip keeps the
# public address of DESIGN.md §6 (/shipments/<number>/packing-slip.pdf) while still
# being guarded as part of this section.
bp = Blueprint("fulfillment", __name__)
guard_section(bp, "fulfillment")

from app.fulfillment import views  # noqa: E402,F401
