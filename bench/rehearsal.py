"""Rehearse a deployment of several machines on this one (issue #8, docs/deployment.md).

    psql -h 127.0.0.1 -U postgres -c "create database od_rehearsal"
    .venv/bin/python bench/rehearsal.py --database-url postgresql://postgres@127.0.0.1:5432/od_rehearsal --reset
    .venv/bin/python bench/rehearsal.py --database-url sqlite:///bench/out/rehearsal.db --reset --seconds 60

On one database it migrates (`flask db upgrade`), loads the demo data (`flask demo seed`),
issues an API token (`flask users token`), then starts what a two-machine deployment
runs: two gunicorn servers of two workers each on different ports (the two "machines")
and two `flask jobs run` schedulers — the second one started by mistake. The outbox
delivers to a local mail server started here. For a bounded time a busy ops team and two
channel connectors work against both servers: API intake, payments (some sent to both
servers at once), board polling, searches, order pages, moves on the board and through
the API, and 40 buyers racing for the last 10 units of a product.

Then it checks, and prints: no 5xx and no dropped connection; no refusal except the
races provoked on purpose; clean logs; both schedulers alive and running every job;
every notification decided once and delivered once; every clock that was past due
breached exactly once; reminders and cancellations once; `flask stock verify` clean;
exactly 10 of the 10 units sold; the boards of both servers agree. The exit status is 1
when any check fails. Logs and the report are kept in bench/out/rehearsal/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, inspect, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.lib import rehearsal_checks as checks  # noqa: E402
from bench.lib import rehearsal_load as load  # noqa: E402
from bench.lib.appsetup import is_postgres, make_app, normalise_url, sqlite_path  # noqa: E402
from bench.lib.rehearsal_procs import (  # noqa: E402
    FLASK,
    MailSink,
    base_env,
    flask_command,
    free_port,
    gunicorn,
    scheduler,
    wait_for_line,
    wait_until_serving,
)
from bench.lib.workloads import sellable  # noqa: E402

RUN_DIR = ROOT / "bench" / "out" / "rehearsal"
ADMIN = "admin@orderdeck.example"
OPS, OPS_PASSWORD = "ops@orderdeck.example", "ops-demo-pass"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="PostgreSQL (or SQLite) database to rehearse on")
    parser.add_argument("--reset", action="store_true", help="empty the database first (required if it has tables)")
    parser.add_argument("--seconds", type=float, default=90.0, help="how long the load runs (default 90)")
    parser.add_argument("--demo-orders", type=int, default=3000, help="orders of demo data loaded first")
    parser.add_argument("--downtime-hours", type=float, default=24.0,
                        help="start as if no scheduler had run for this long: every running SLA clock's times are "
                             "moved that much earlier, so the schedulers start with a backlog (default 24; 0: none)")
    args = parser.parse_args()
    url = normalise_url(args.database_url)
    started_at = datetime.now(UTC)
    load_before = os.getloadavg()

    prepare_database(url, reset=args.reset)
    env = base_env(url, secrets.token_urlsafe(32))
    print("migrating:", flask_command(["db", "upgrade"], env).strip() or "done")
    print(flask_command(["demo", "seed", "--orders", str(args.demo_orders)], env).splitlines()[0])
    token = flask_command(["users", "token", ADMIN], env).strip().splitlines()[-1]

    engine = create_engine(url)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    with MailSink() as mail:
        env.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(mail.port), "SMTP_STARTTLS": "false",
                    "SMTP_FROM": "orders@orderdeck.example", "HEARTBEAT_SECONDS": "5"})
        ports = {"web-a": free_port(), "web-b": free_port()}
        webs = {name: gunicorn(name, port, env, RUN_DIR).start() for name, port in ports.items()}
        scheds = {}
        try:
            for name, web in webs.items():
                wait_until_serving(web, ports[name])
            recorder = load.Recorder()
            shared = setup_load(url, ports, token, recorder, args.seconds)
            session = load.sign_in(ports["web-a"], OPS, OPS_PASSWORD)
            if args.downtime_hours:
                simulate_downtime(url, args.downtime_hours)
            snapshot = checks.before(engine)
            checks.record_job_history(engine)
            scheds = {name: scheduler(name, env, RUN_DIR).start() for name in ("scheduler-1", "scheduler-2-by-mistake")}
            for s in scheds.values():
                wait_for_line(s, "Scheduler started with jobs")
            print(f"web servers on ports {ports['web-a']} and {ports['web-b']} (pids "
                  f"{', '.join(str(w.pid) for w in webs.values())}); schedulers pids "
                  f"{', '.join(str(s.pid) for s in scheds.values())}; load for {args.seconds:.0f} s …")
            pids = {**{n: w.pid for n, w in webs.items()}, **{n: s.pid for n, s in scheds.items()}}
            with checks.Watcher(engine) as watcher, checks.MemoryWatcher(pids) as memory:
                load_started = time.monotonic()
                shared.deadline = load_started + args.seconds
                run_load(ports, token, recorder, shared, session)
                load_seconds = time.monotonic() - load_started
                health = {name: json.loads(load.Http(name, port, recorder).request(
                    "healthz", "GET", "/healthz", record=False)[1] or b"{}") for name, port in ports.items()}
            scheduler_exit = {name: s.stop() for name, s in scheds.items()}
            checks.wait_for_quiet(engine)
            board_counts, on_hold = compare_boards(ports, token, session)
        finally:
            for s in scheds.values():
                s.stop()
            web_exit = {name: w.stop() for name, w in webs.items()}
        messages = list(mail.messages)

    verify = subprocess.run([*FLASK, "stock", "verify"], cwd=ROOT, env=env, capture_output=True, text=True)
    results = [
        *checks.answers(recorder),
        *checks.logs({n: w.log() for n, w in webs.items()}, {n: s.log() for n, s in scheds.items()}),
        *checks.schedulers(engine, {n: s.log() for n, s in scheds.items()}),
        *checks.notifications(engine, messages),
        *checks.sla_effects(engine, snapshot),
        *checks.stock(engine, shared, verify.stdout + verify.stderr, verify.returncode == 0),
        *checks.boards(board_counts, on_hold),
        *checks.health(health),
        *checks.memory(memory),
    ]
    report = render(url, started_at, load_before, args, load_seconds, recorder, results, watcher,
                    len(snapshot.past_due), scheduler_exit, web_exit)
    (RUN_DIR / "report.md").write_text(report)
    print(report)
    engine.dispose()
    return 0 if all(r.ok for r in results) else 1


def prepare_database(url: str, *, reset: bool) -> None:
    if is_postgres(url):
        engine = create_engine(url)
        with engine.begin() as conn:
            has_tables = bool(inspect(conn).get_table_names())
            if has_tables and not reset:
                raise SystemExit(f"{make_url(url).database} already has tables; pass --reset to empty it")
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return
    path = sqlite_path(url)
    if path.exists() and not reset:
        raise SystemExit(f"{path} exists; pass --reset to start from an empty file")
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def simulate_downtime(url: str, hours: float) -> None:
    """As if the schedulers had been stopped for `hours`: the running clocks' start, warning,
    notice and due times (and the dispatch deadline on the order) move that much earlier,
    so the first runs catch up on reminders, warnings and breaches at once."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Order, SlaClock

    shift = timedelta(hours=hours)
    app = make_app(url)
    with app.app_context():
        for clock in db.session.scalars(select(SlaClock).where(SlaClock.state == "running")):
            for column in ("started_at", "warn_at", "notice_at", "due_at"):
                if getattr(clock, column) is not None:
                    setattr(clock, column, getattr(clock, column) - shift)
            if clock.kind == "dispatch":
                order = db.session.get(Order, clock.order_id)
                order.ship_by = clock.due_at
        db.session.commit()
        db.engine.dispose()


def setup_load(url: str, ports: dict[str, int], token: str, recorder: load.Recorder, seconds: float) -> load.Shared:
    """The product 40 buyers will fight over (created through the API, as an integrator
    would), and the well-stocked products the ordinary orders draw from."""
    api = load.api_client("web-a", ports["web-a"], recorder, token)
    status, _ = api.json("setup", "POST", "/api/v1/products",
                         {"sku": load.HOT_SKU, "name": "Rehearsal limited edition", "unit_price": "9.90"})
    status2, _ = api.json("setup", "POST", "/api/v1/stock/receipts", {"location": "NL-RTM", "sku": load.HOT_SKU,
                                                                      "qty": load.HOT_UNITS, "reference": "PO-REH"})
    if (status, status2) != (201, 201):
        raise SystemExit(f"setting up the limited product answered {status}, {status2}")
    app = make_app(url)
    products = sellable(app, n=200, location="NL-RTM", min_available=30)
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()
    return load.Shared(products=products, tag=f"REH{int(time.time())}", deadline=time.monotonic() + seconds)


def run_load(ports: dict[str, int], token: str, recorder: load.Recorder, shared: load.Shared,
             session: load.BrowserSession) -> None:
    names = list(ports)

    def api(name: str) -> load.Http:
        return load.api_client(name, ports[name], recorder, token)

    def web(name: str) -> load.Http:
        return load.Http(name, ports[name], recorder)

    def burst_later() -> None:
        time.sleep(max(0.0, (shared.deadline - time.monotonic()) / 3))
        load.hot_burst(lambda i: api(names[i % 2]), shared, "9.90")

    rng = random.Random(8)
    clients = [
        lambda: load.intake(api("web-a"), api("web-b"), shared, random.Random(1)),
        lambda: load.intake(api("web-b"), api("web-a"), shared, random.Random(2)),
        lambda: load.payment_races(api("web-a"), api("web-b"), shared, random.Random(3)),
        burst_later,
    ]
    for i, name in enumerate(names * 2):  # two people per server, one session for both servers
        seed = rng.randrange(10**6) + i
        clients.append(lambda name=name, seed=seed: load.ops_person(web(name), api(name), shared,
                                                                     random.Random(seed), session))
    load.run_clients(clients)


def compare_boards(ports: dict[str, int], token: str, session: load.BrowserSession):
    """Once nothing moves any more: each server's board column counts, and its API list of
    orders on hold."""
    recorder = load.Recorder()
    counts, lists = {}, {}
    for name, port in ports.items():
        _, page, _ = load.Http(name, port, recorder).request("board", "GET", "/orders/board",
                                                             headers={"Cookie": session.cookie})
        counts[name] = dict(re.findall(r'id="count-(\w+)"[^>]*>\s*(\d+)\s*<', page.decode()))
        _, listing = load.api_client(name, port, recorder, token).json(
            "list", "GET", "/api/v1/orders?status=on_hold&limit=200")
        lists[name] = [o["number"] for o in listing.get("items", [])]
    return counts, lists


def render(url, started_at, load_before, args, load_seconds, recorder, results, watcher, past_due,
           scheduler_exit, web_exit) -> str:
    engine = "PostgreSQL" if is_postgres(url) else "SQLite"
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    lines = [
        f"Rehearsal on {engine} ({make_url(url).database}), {started_at:%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores "
        f"({cpu}), Python {platform.python_version()}; load average before "
        f"{' / '.join(f'{x:.2f}' for x in load_before)}, after {' / '.join(f'{x:.2f}' for x in os.getloadavg())}.",
        f"Demo data: {args.demo_orders} orders, every running clock moved {args.downtime_hours:g} h earlier "
        f"(scheduler downtime); {past_due} SLA clocks past due when the schedulers started. "
        f"Load: {load_seconds:.0f} s; 2 gunicorn × 2 sync workers, 2 × `flask jobs run` (heartbeat every 5 s).",
        f"Exit codes: schedulers {scheduler_exit}, web servers {web_exit}."
        + (f" Peak PostgreSQL connections of the deployment: {watcher.peak_connections}." if is_postgres(url) else ""),
        "",
        *recorder.table(load_seconds),
        "",
    ]
    for r in results:
        lines.append(f"- {'PASS' if r.ok else 'FAIL'} {r.name}: {r.detail}")
    lines.append("")
    lines.append(f"{sum(r.ok for r in results)} of {len(results)} checks passed.")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
