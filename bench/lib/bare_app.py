"""The reference page of DESIGN.md §8: a bare Flask app, one query, a 50-row table.

    gunicorn -w 2 bench.lib.bare_app:app        (DATABASE_URL set)

`/` runs the keyset query of the orders list (newest first, after ?cursor=placed_at,id);
`/offset?offset=N` the same list with OFFSET, the way not to paginate. No login, no
ORM: what serving the list costs when nothing but the query and a template is done.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flask import Flask, render_template_string, request
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.lib.appsetup import normalise_url  # noqa: E402

COLUMNS = (
    "SELECT o.id, o.number, o.placed_at, o.status, o.total, o.currency, c.name, c.email "
    "FROM orders o JOIN customers c ON c.id = o.customer_id "
)
KEYSET = text(COLUMNS + "ORDER BY o.placed_at DESC, o.id DESC LIMIT 50")
KEYSET_AFTER = text(
    COLUMNS + "WHERE (o.placed_at, o.id) < (:placed_at, :id) ORDER BY o.placed_at DESC, o.id DESC LIMIT 50"
)
OFFSET = text(COLUMNS + "ORDER BY o.placed_at DESC, o.id DESC LIMIT 50 OFFSET :offset")
PAGE = """<!doctype html><title>Orders</title><table>
{% for r in rows %}<tr><td>{{ r.number }}</td><td>{{ r.name }}<br>{{ r.email }}</td><td>{{ r.status }}</td>
<td>{{ r.total }} {{ r.currency }}</td><td>{{ r.placed_at }}</td></tr>{% endfor %}</table>
{% if rows %}<a href="?cursor={{ rows[-1].placed_at }},{{ rows[-1].id }}">next</a>{% endif %}"""

url = normalise_url(os.environ["DATABASE_URL"])
engine = (
    create_engine(url, pool_size=4)
    if url.startswith("postgresql")
    else create_engine(url, connect_args={"check_same_thread": False})
)
app = Flask(__name__)


@app.get("/")
def keyset():
    cursor = request.args.get("cursor")
    with engine.connect() as conn:
        if cursor:
            placed_at, _, last_id = cursor.rpartition(",")
            rows = conn.execute(KEYSET_AFTER, {"placed_at": placed_at, "id": int(last_id)}).all()
        else:
            rows = conn.execute(KEYSET).all()
    return render_template_string(PAGE, rows=rows)


@app.get("/offset")
def offset():
    with engine.connect() as conn:
        rows = conn.execute(OFFSET, {"offset": int(request.args.get("offset", 0))}).all()
    return render_template_string(PAGE, rows=rows)
