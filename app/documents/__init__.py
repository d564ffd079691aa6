from flask import Blueprint

from app.auth.access import guard_section

# No url_prefix: the finance pages live under /documents/, and invoice PDFs keep the
# public address of DESIGN.md §6 (/invoices/<number>.pdf) while still being guarded
# as part of this section (finance, manager, admin).
bp = Blueprint("documents", __name__)
guard_section(bp, "documents")

from app.documents import views  # noqa: E402,F401
