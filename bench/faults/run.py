"""Fault drills: real processes killed at the worst moment, a database that goes away, a
full disk. Each drill prints what was tried and what the system did afterwards.

    .venv/bin/python bench/faults/run.py                        # every drill, SQLite
    .venv/bin/python bench/faults/run.py --database-url postgresql+psycopg://postgres@127.0.0.1/od_faults
    .venv/bin/python bench/faults/run.py --only import-kill,db-outage

Drills:
  import-kill     upload a large order CSV in the browser flow, confirm, SIGKILL the web
                  server mid-import; the database must hold none of it, the job page must
                  say "interrupted", and the same file must then import completely.
  export-kill     start a bulk invoice export, SIGKILL the web server mid-export; the job
                  must show as interrupted, the half-written ZIP must go, and a new export
                  of the same period must complete with every document.
  scheduler-kill  SIGKILL `flask jobs tick` in the middle of a payment-reminder sweep; the
                  next run must complete it with exactly one reminder per order.
  db-outage       PostgreSQL: connections to the database refused for 6 s and existing
                  ones terminated — API and pages must answer a clear 503 (JSON under
                  /api/, a page elsewhere). SQLite: another process holds the write lock
                  for 20 s, longer than the 15 s busy timeout — a write must answer 503
                  ("busy") while reads go on (WAL). Then the server must recover by itself.
  disk-full       export into a 1 MB tmpfs (needs root for `mount`); the job must fail with
                  a message saying the disk is full, leave no file behind, and change
                  nothing else.

The drills use their own database (SQLite under bench/out/faults/, or the PostgreSQL
database given, which is emptied first) and never touch the development database.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import http.client
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.lib.appsetup import is_postgres, normalise_url, rebuild_schema  # noqa: E402
from bench.lib.server import HOST, free_port, login_cookie  # noqa: E402

OUT = ROOT / "bench" / "out" / "faults"
ADMIN = ("admin@orderdeck.example", "admin-demo-pass")
PY = sys.executable


# Processes ----------------------------------------------------------------------------


def flask(env: dict, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PY, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=timeout, check=True,
    )


class Server:
    """gunicorn (1 worker, 4 threads: the background import/export threads live in the worker)
    in its own process group, so SIGKILL takes master and worker down at once, as a crash would."""

    def __init__(self, env: dict, log: Path) -> None:
        self.env, self.log = env, log
        self.port = 0
        self.proc: subprocess.Popen | None = None

    def start(self) -> Server:
        self.port = free_port()
        self._log = open(self.log, "ab")  # noqa: SIM115 (closed in stop/kill)
        self.proc = subprocess.Popen(
            [PY, "-m", "gunicorn", "-w", "1", "--threads", "4", "-b", f"{HOST}:{self.port}", "--log-level",
             "warning", "--timeout", "120", "wsgi:app"],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=self._log, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log}")
            with contextlib.suppress(OSError):
                status, _, _ = request(self.port, "GET", "/healthz")
                if status in (200, 503):
                    return self
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer; see {self.log}")

    def kill(self) -> None:
        """SIGKILL the whole process group: no cleanup code runs anywhere."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        time.sleep(0.3)  # the kernel reaps the worker once its parent is gone
        self._log.close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None and self.proc.returncode is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        if not self._log.closed:
            self._log.close()


def request(port: int, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 30) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


class Browser:
    """A signed-in session over plain HTTP: cookie, CSRF token from the pages."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = login_cookie(port, *ADMIN)

    def get(self, path: str, **headers) -> tuple[int, dict, str]:
        status, hdrs, body = request(self.port, "GET", path, headers={"Cookie": self.cookie, **headers})
        return status, hdrs, body.decode(errors="replace")

    def csrf(self, path: str) -> str:
        _, _, page = self.get(path)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    def post_form(self, path: str, fields: dict, *, files: dict | None = None) -> tuple[int, dict, str]:
        if files:
            boundary = uuid.uuid4().hex
            parts = []
            for name, value in fields.items():
                head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                parts.append(f"{head}{value}\r\n".encode())
            for name, (filename, data) in files.items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                    f"Content-Type: text/csv\r\n\r\n".encode() + data + b"\r\n")
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            content_type = f"multipart/form-data; boundary={boundary}"
        else:
            body, content_type = urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded"
        status, hdrs, data = request(self.port, "POST", path, body=body, timeout=600,  # an upload's dry run
                                     headers={"Cookie": self.cookie, "Content-Type": content_type})
        return status, hdrs, data.decode(errors="replace")


# The drills' database -----------------------------------------------------------------


class Workspace:
    def __init__(self, url: str | None) -> None:
        OUT.mkdir(parents=True, exist_ok=True)
        self.url = normalise_url(url) if url else f"sqlite:///{OUT / 'faults.db'}"
        self.dir = Path(tempfile.mkdtemp(prefix="faults-", dir=OUT))
        self.env = {**os.environ, "DATABASE_URL": self.url, "FLASK_APP": "wsgi", "PYTHONPATH": str(ROOT),
                    "ORDER_IMPORT_DIR": str(self.dir / "imports"), "EXPORT_DIR": str(self.dir / "exports"),
                    "EXPORT_PROCESSES": "0"}
        self.engine = create_engine(self.url)
        self.servers: list[Server] = []

    @property
    def postgres(self) -> bool:
        return is_postgres(self.url)

    def reset(self, orders: int = 1500) -> None:
        """Fresh schema and the demo data set (users, channels, products, stock, invoices)."""
        self.engine.dispose()
        rebuild_schema(self.url)
        flask(self.env, "demo", "seed", "--orders", str(orders))

    def scalar(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def server(self, name: str) -> Server:
        server = Server(self.env, self.dir / f"{name}.log").start()
        self.servers.append(server)
        return server

    def stop_servers(self) -> None:
        """Whatever a drill left running (it failed half-way) is stopped before the next one."""
        for server in self.servers:
            with contextlib.suppress(Exception):
                server.stop()
        self.servers.clear()


@contextlib.contextmanager
def drill(results: list, name: str, tried: str) -> Iterator[Callable[[str], None]]:
    notes: list[str] = []
    started = time.monotonic()
    print(f"\n== {name}: {tried}", flush=True)
    try:
        yield lambda note: (notes.append(note), print(f"   {note}", flush=True))
        outcome = "ok"
    except AssertionError as exc:
        outcome = f"FAILED: {exc}"
    except Exception as exc:  # a drill that cannot run is reported, the others still run
        outcome = f"ERROR: {type(exc).__name__}: {exc}"
    print(f"   -> {outcome} ({time.monotonic() - started:.0f} s)", flush=True)
    results.append((name, tried, notes, outcome))


def wait_for(predicate: Callable[[], object], timeout: float, what: str, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


# Drills -----------------------------------------------------------------------------


def order_csv(ws: Workspace, orders: int, prefix: str) -> bytes:
    with ws.engine.connect() as conn:
        skus = [r[0] for r in conn.execute(text("SELECT sku FROM products WHERE active ORDER BY sku LIMIT 50"))]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["external_id", "placed_at", "customer_name", "customer_email", "ship_name", "line1", "line2",
                     "city", "region", "postcode", "country", "sku", "qty", "unit_price", "shipping_price",
                     "currency", "paid_amount"])
    placed = datetime.now(UTC).replace(microsecond=0).isoformat()
    for i in range(orders):
        for j in range(2):
            writer.writerow([f"{prefix}-{i}", placed, f"Drill Buyer {i}", f"drill{i}@example.com",
                             f"Drill Buyer {i}", f"Keizersgracht {i % 300 + 1}", "", "Amsterdam", "",
                             "1016 DX", "NL", skus[(i + j) % len(skus)], 1, "10.00", "", "EUR", ""])
    return out.getvalue().encode()


def channel_code(ws: Workspace) -> str:
    return ws.scalar("SELECT code FROM channels WHERE active ORDER BY id LIMIT 1")


def import_kill(ws: Workspace, results: list) -> None:
    with drill(results, "import-kill", "SIGKILL the web server while it imports a 40,000-row order CSV") as note:
        ws.reset()
        n = 20_000
        data = order_csv(ws, n, "KILL")
        channel = channel_code(ws)
        before = ws.scalar("SELECT count(*) FROM orders")
        server = ws.server("import")
        browser = Browser(server.port)

        def upload_and_confirm() -> str:
            status, headers, _ = browser.post_form(
                "/orders/import", {"channel": channel, "csrf_token": browser.csrf("/orders/import")},
                files={"file": ("drill.csv", data)})
            assert status == 303, f"upload answered {status}"
            path = headers["Location"]
            status, _, _ = browser.post_form(f"{path}/confirm", {"csrf_token": browser.csrf(path)})
            assert status == 303, f"confirm answered {status}"
            return path

        path = upload_and_confirm()
        token = path.rsplit("/", 1)[1]
        progress_file = ws.dir / "imports" / f"{token}.json"

        def importing() -> bool:
            with contextlib.suppress(FileNotFoundError, ValueError):
                state = json.loads(progress_file.read_text())
                # Into the writing stage, a good way in: the worst moment to die.
                return state["status"] == "importing" and state["processed_rows"] > state["total_rows"] // 4
            return False

        wait_for(importing, 120, "the import to start")
        state = json.loads(progress_file.read_text())
        note(f"killed at stage '{state['status']}', {state['processed_rows']:,} of {state['total_rows']:,} rows")
        server.kill()
        after_kill = ws.scalar("SELECT count(*) FROM orders") - before
        note(f"orders from the file in the database after the kill: {after_kill}")
        assert after_kill == 0, "a killed import left orders behind"

        server = ws.server("import-2")
        browser = Browser(server.port)
        _, _, page = browser.get(path)
        shown = "interrupted" in page
        note(f"job page after restart says interrupted: {shown}")
        assert shown, "the job page does not say the import was interrupted"
        path = upload_and_confirm()
        wait_for(lambda: 'data-status="done"' in browser.get(path)[2], 300, "the second import to finish", 1)
        imported = ws.scalar("SELECT count(*) FROM orders") - before
        note(f"the same file uploaded again: {imported:,} orders imported (expected {n:,})")
        assert imported == n
        server.stop()


def export_kill(ws: Workspace, results: list) -> None:
    with drill(results, "export-kill", "SIGKILL the web server in the middle of a bulk invoice export") as note:
        ws.reset(orders=1200)
        total = ws.scalar("SELECT count(*) FROM invoices")
        first = ws.scalar("SELECT min(issued_at) FROM invoices")
        last = ws.scalar("SELECT max(issued_at) FROM invoices")
        first, last = (v if isinstance(v, datetime) else datetime.fromisoformat(str(v)) for v in (first, last))
        period = {"date_from": (first - timedelta(days=1)).date().isoformat(),
                  "date_to": (last + timedelta(days=1)).date().isoformat()}
        server = ws.server("export")
        browser = Browser(server.port)
        status, _, _ = browser.post_form("/documents/exports", {**period, "csrf_token": browser.csrf("/documents/")})
        assert status in (200, 303), f"starting the export answered {status}"
        done = wait_for(lambda: (ws.scalar("SELECT max(done_count) FROM export_jobs WHERE status = 'running'")
                                 or 0) >= total // 10 and
                        ws.scalar("SELECT max(done_count) FROM export_jobs"), 300, "the export to make progress")
        note(f"killed after {done} of {total} documents")
        server.kill()
        partials = list((ws.dir / "exports").glob(".*.partial"))
        note(f"half-written files left by the kill: {len(partials)}")

        server = ws.server("export-2")
        browser = Browser(server.port)
        _, _, page = browser.get("/documents/")
        assert "interrupted" in page.lower(), "the finance page does not show the export as interrupted"
        note("finance page after restart shows the export as interrupted")
        status, _, _ = browser.post_form("/documents/exports", {**period, "csrf_token": browser.csrf("/documents/")})
        assert status in (200, 303), f"starting the export again answered {status}"
        wait_for(lambda: ws.scalar("SELECT count(*) FROM export_jobs WHERE status = 'done'"), 900,
                 "the new export to finish", 1)
        token = ws.scalar("SELECT token FROM export_jobs WHERE status = 'done'")
        status, _, body = request(server.port, "GET", f"/documents/exports/{token}.zip",
                                  headers={"Cookie": browser.cookie}, timeout=120)
        import zipfile

        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
            bad = archive.testzip()
        left = list((ws.dir / "exports").glob(".*.partial"))
        note(f"restarted export: {len(pdfs)} PDFs in a ZIP that tests clean ({bad is None}); "
             f"half-written files left: {len(left)}")
        assert status == 200 and bad is None and len(pdfs) == total and not left
        server.stop()


def scheduler_kill(ws: Workspace, results: list) -> None:
    with drill(results, "scheduler-kill", "SIGKILL `flask jobs tick` mid-way through a payment-reminder sweep") as note:
        ws.reset(orders=200)
        n = 6000
        path = ws.dir / "unpaid.csv"
        path.write_bytes(order_csv(ws, n, "UNPAID"))
        flask(ws.env, "orders", "import", str(path), "--channel", channel_code(ws))
        at = (datetime.now(UTC) + timedelta(hours=25)).isoformat()
        due = ws.scalar("SELECT count(*) FROM orders WHERE external_id LIKE 'UNPAID-%' AND payment_status = 'unpaid'")
        count = ("SELECT count(*) FROM notifications n JOIN orders o ON o.id = n.order_id "
                 "WHERE n.kind = 'payment_reminder_1' AND o.external_id LIKE 'UNPAID-%'")
        before = ws.scalar(count)
        proc = subprocess.Popen([PY, "-m", "flask", "--app", "wsgi", "jobs", "tick", "--at", at, "--job",
                                 "payment_reminders"], cwd=ROOT, env=ws.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        # Kill as soon as the first batches are committed: the sweep is part done.
        with contextlib.suppress(AssertionError):
            wait_for(lambda: proc.poll() is not None or ws.scalar(count) > before, 180, "the sweep to start", 0.05)
        finished_early = proc.poll() is not None
        proc.kill()
        proc.wait()
        mid = ws.scalar(count) - before
        note(f"unpaid orders due a first reminder: {due:,}; reminders in the outbox after the kill: {mid:,}"
             + (" (the sweep had already finished: raise the order count)" if finished_early else ""))
        flask(ws.env, "jobs", "tick", "--at", at, "--job", "payment_reminders")
        after = ws.scalar(count) - before
        dupes = ws.scalar("SELECT count(*) FROM (SELECT order_id FROM notifications WHERE kind = 'payment_reminder_1'"
                          " GROUP BY order_id HAVING count(*) > 1) d")
        note(f"after the next run: {after:,} reminders, orders with more than one: {dupes}")
        assert after == due == n and dupes == 0
        flask(ws.env, "jobs", "tick", "--at", at, "--job", "payment_reminders")
        assert ws.scalar(count) - before == after, "a third run sent more"
        note("a third run adds nothing")


def db_outage(ws: Workspace, results: list) -> None:
    tried = ("PostgreSQL refuses connections for 6 s" if ws.postgres
             else "another process holds SQLite's write lock for 20 s (busy timeout 15 s)")
    with drill(results, "db-outage", tried) as note:
        ws.reset(orders=300)
        server = ws.server("outage")
        browser = Browser(server.port)
        token = flask(ws.env, "users", "token", ADMIN[0]).stdout.strip().splitlines()[-1]
        api = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        with ws.engine.connect() as conn:
            location, sku = conn.execute(text(
                "SELECT l.code, p.sku FROM locations l, products p WHERE l.active AND p.active LIMIT 1")).one()
        receipt = json.dumps({"location": location, "sku": sku, "qty": 1, "reference": "drill"}).encode()

        def api_write():
            return request(server.port, "POST", "/api/v1/stock/receipts", body=receipt, timeout=60,
                           headers={**api, "Content-Type": "application/json"})

        def api_read():
            return request(server.port, "GET", "/api/v1/orders?limit=5", headers=api, timeout=60)

        def page_read():
            return request(server.port, "GET", "/orders/", headers={"Cookie": browser.cookie}, timeout=60)

        assert api_write()[0] == 201 and api_read()[0] == 200
        if ws.postgres:
            name = make_url(ws.url).database
            admin = create_engine(ws.url.replace(f"/{name}", "/postgres"), isolation_level="AUTOCOMMIT")

            def outage() -> None:
                with admin.connect() as conn:
                    conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                    conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                      "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
                    try:
                        time.sleep(6)
                    finally:
                        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            calls = {"API write": api_write, "API read": api_read, "orders page": page_read}
            expect_down = set(calls)
        else:
            db_path = make_url(ws.url).database

            def outage() -> None:
                conn = sqlite3.connect(db_path, timeout=5, isolation_level=None)
                conn.execute("BEGIN IMMEDIATE")  # the write lock; WAL readers go on reading
                time.sleep(20)
                conn.execute("ROLLBACK")
                conn.close()
            calls = {"API write": api_write, "API read": api_read, "orders page": page_read}
            expect_down = {"API write"}
        thread = threading.Thread(target=outage)
        thread.start()
        time.sleep(1.0)
        with ThreadPoolExecutor(len(calls)) as pool:
            answers = {what: pool.submit(call) for what, call in calls.items()}
            answers = {what: future.result() for what, future in answers.items()}
        thread.join()  # the database is back before anything is judged
        for what, (status, _, body) in answers.items():
            note(f"during the outage, {what}: {status} {body[:110].decode(errors='replace')!r}")
        for what, (status, _, body) in answers.items():
            if what not in expect_down:
                assert status == 200, f"{what} should keep working (WAL readers are not blocked)"
            elif what.startswith("API"):
                assert status == 503 and json.loads(body)["error"] == "unavailable", f"{what}: {status}"
            else:
                assert status == 503 and b"not reachable" in body, f"{what}: {status}"

        def healthy() -> bool:
            return api_write()[0] == 201 and api_read()[0] == 200 and page_read()[0] == 200

        started = time.monotonic()
        wait_for(healthy, 30, "the server to recover", 0.2)
        note(f"recovered by itself {time.monotonic() - started:.1f} s after the database came back (no restart)")
        server.stop()


def disk_full(ws: Workspace, results: list) -> None:
    with drill(results, "disk-full", "a bulk export into a 1 MB filesystem") as note:
        mount = ws.dir / "tiny"
        mount.mkdir()
        try:
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True,
                           capture_output=True)
        except (subprocess.CalledProcessError, FileNotFoundError) as exc:
            raise AssertionError(f"cannot mount a small tmpfs here (root needed): {exc}") from None
        try:
            ws.reset(orders=1500)
            ws.env["EXPORT_DIR"] = str(mount)
            invoices_before = ws.scalar("SELECT count(*) FROM invoices")
            server = ws.server("disk")
            browser = Browser(server.port)
            browser.post_form("/documents/exports", {"date_from": "2000-01-01", "date_to": "2000-12-31",
                                                     "csrf_token": browser.csrf("/documents/")})
            first = ws.scalar("SELECT min(issued_at) FROM invoices")
            first = first if isinstance(first, datetime) else datetime.fromisoformat(str(first))
            period = {"date_from": first.date().isoformat(),
                      "date_to": (first + timedelta(days=300)).date().isoformat()}
            browser.post_form("/documents/exports", {**period, "csrf_token": browser.csrf("/documents/")})
            wait_for(lambda: ws.scalar("SELECT count(*) FROM export_jobs WHERE status IN ('failed', 'done')"),
                     300, "the export to end", 0.5)
            status, error = next(iter(ws.engine.connect().execute(
                text("SELECT status, error FROM export_jobs ORDER BY id DESC LIMIT 1"))))
            note(f"export ended '{status}': {error}")
            _, _, page = browser.get("/documents/")
            files = [p.name for p in mount.iterdir()]
            note(f"finance page shows the message: {'disk holding the exports is full' in page}; "
                 f"files left on the full disk: {files}")
            assert status == "failed" and "disk" in (error or "") and "full" in error
            assert not files, "something was left on the full disk"
            assert ws.scalar("SELECT count(*) FROM invoices") == invoices_before
            status, _, _ = request(server.port, "GET", "/healthz")
            note(f"server still healthy afterwards: /healthz {status}")
            server.stop()
        finally:
            ws.env["EXPORT_DIR"] = str(ws.dir / "exports")
            subprocess.run(["umount", str(mount)], check=False)


DRILLS = {"import-kill": import_kill, "export-kill": export_kill, "scheduler-kill": scheduler_kill,
          "db-outage": db_outage, "disk-full": disk_full}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="PostgreSQL URL (emptied first); default a SQLite file")
    parser.add_argument("--only", help="comma-separated drills: " + ", ".join(DRILLS))
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(DRILLS)
    ws = Workspace(args.database_url)
    engine = "PostgreSQL" if ws.postgres else "SQLite"
    print(f"Fault drills on {engine} — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — workspace {ws.dir}")
    results: list = []
    for name in names:
        try:
            DRILLS[name](ws, results)
        finally:
            ws.stop_servers()
    print(f"\n| drill ({engine}) | tried | what happened | result |\n|---|---|---|---|")
    for name, tried, notes, outcome in results:
        print(f"| {name} | {tried} | {'; '.join(notes)} | {outcome} |")
    shutil.rmtree(ws.dir, ignore_errors=True)
    sys.exit(0 if all(r[3] == "ok" for r in results) else 1)


if __name__ == "__main__":
    main()
