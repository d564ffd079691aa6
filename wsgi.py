"""What gunicorn and `flask --app wsgi` load."""

import faulthandler

from app import create_app

# A crash in a C extension (a worker "sent SIGSEGV") then leaves the Python stack of every
# thread in the server log instead of nothing.
faulthandler.enable()

app = create_app()
