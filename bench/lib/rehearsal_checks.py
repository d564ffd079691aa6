"""What a rehearsal must show, each as a check with a verdict and the evidence.

Read from the database after the run (plain SQL, either engine), from the answers the
clients received, from the mail the outbox delivered and from the processes' logs.
"""

from __future__ import annotations

import email
import json
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header, make_header
from pathlib import Path

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine

from app.models.base import UTCDateTime
from bench.lib.rehearsal_load import HOT_SKU, HOT_UNITS, Recorder, Shared

# Refusals that are the right answer to a race the load provokes on purpose.
EXPECTED_REFUSALS = {
    "API: same payment twice": {409, 422},  # the second copy of a payment: more than is still due
    "API: move to on_hold": {409},  # a colleague moved the card first (stale version)
    "API: move to ready": {409},
    "htmx: move to on_hold": {409},
    "htmx: move to ready": {409},
}
PER_ORDER_KINDS = ("payment_reminder_1", "payment_reminder_2", "auto_cancelled", "dispatch_warning",
                   "dispatch_breach", "order_shipped")


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def _rows(engine: Engine, sql: str, **params) -> list:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def _details(value) -> dict:
    if isinstance(value, dict):
        return value
    return json.loads(value) if value else {}


def _moment(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# Watching while it runs -----------------------------------------------------------------


class Watcher:
    """On PostgreSQL, polls how many connections the deployment holds."""

    def __init__(self, engine: Engine, interval: float = 0.2) -> None:
        self.engine, self.interval = engine, interval
        self.peak_connections = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="watcher", daemon=True)

    def __enter__(self) -> Watcher:
        if self.engine.dialect.name == "postgresql":
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                with self.engine.connect() as conn:
                    n = conn.execute(text("SELECT count(*) FROM pg_stat_activity "
                                          "WHERE application_name = 'orderdeck'")).scalar()
                self.peak_connections = max(self.peak_connections, int(n))
            except Exception as exc:  # a busy moment; the next poll tries again
                self.errors.append(repr(exc)[:200])
            self._stop.wait(self.interval)


# Every upsert of job_runs (one per job run) copied into a table of the rehearsal's own, so
# that each run of each scheduler is on record with its result and times.
JOB_HISTORY = {
    "postgresql": [
        """CREATE TABLE rehearsal_job_history (id bigserial PRIMARY KEY, name text, runner text,
           started_at timestamptz, finished_at timestamptz, status text, result text)""",
        """CREATE FUNCTION rehearsal_log_job_run() RETURNS trigger AS $$ BEGIN
             INSERT INTO rehearsal_job_history (name, runner, started_at, finished_at, status, result)
             VALUES (NEW.name, NEW.runner, NEW.last_started_at, NEW.last_finished_at, NEW.last_status,
                     NEW.last_result);
             RETURN NEW; END $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER rehearsal_job_history AFTER INSERT OR UPDATE ON job_runs
           FOR EACH ROW EXECUTE FUNCTION rehearsal_log_job_run()""",
    ],
    "sqlite": [
        """CREATE TABLE rehearsal_job_history (id INTEGER PRIMARY KEY, name TEXT, runner TEXT,
           started_at TIMESTAMP, finished_at TIMESTAMP, status TEXT, result TEXT)""",
        *(f"""CREATE TRIGGER rehearsal_job_history_{event.lower()} AFTER {event} ON job_runs BEGIN
             INSERT INTO rehearsal_job_history (name, runner, started_at, finished_at, status, result)
             VALUES (NEW.name, NEW.runner, NEW.last_started_at, NEW.last_finished_at, NEW.last_status,
                     NEW.last_result); END""" for event in ("INSERT", "UPDATE")),
    ],
}


def record_job_history(engine: Engine) -> None:
    with engine.begin() as conn:
        for statement in JOB_HISTORY[engine.dialect.name]:
            conn.execute(text(statement))


@dataclass
class Before:
    """The clocks that are past due when the schedulers start: each must end exactly once."""

    started: datetime
    past_due: dict[int, tuple[str, str, datetime]]  # clock id -> (order number, kind, due_at)


def before(engine: Engine) -> Before:
    now = datetime.now(UTC)
    query = text("""
        SELECT c.id, o.number, c.kind, c.due_at FROM sla_clocks c JOIN orders o ON o.id = c.order_id
        WHERE c.state = 'running' AND c.due_at <= :now""").bindparams(bindparam("now", now, type_=UTCDateTime()))
    with engine.connect() as conn:
        rows = list(conn.execute(query))
    return Before(now, {cid: (number, kind, _moment(due)) for cid, number, kind, due in rows})


# The checks -------------------------------------------------------------------------------


def answers(recorder: Recorder) -> list[Check]:
    broken = [a for a in recorder.answers if a.status == 0 or a.status >= 500]
    refused = [a for a in recorder.answers if 400 <= a.status < 500
               and a.status not in EXPECTED_REFUSALS.get(a.label, set())]
    races = Counter(a.status for a in recorder.answers if a.label in EXPECTED_REFUSALS and 400 <= a.status < 500)
    return [
        Check("no 5xx and no dropped connection", not broken,
              f"{len(recorder.answers)} requests; {len(broken)} failed"
              + "".join(f"\n    {a.label} on {a.server}: {a.status or 'no answer'} {a.excerpt[:160]}"
                        for a in broken[:5])),
        Check("no refusal except the races provoked on purpose", not refused,
              f"expected refusals: {dict(races) or 'none'}; unexpected: {len(refused)}"
              + "".join(f"\n    {a.label} on {a.server}: {a.status} {a.excerpt[:160]}" for a in refused[:5])),
    ]


def logs(web_logs: dict[str, str], scheduler_logs: dict[str, str]) -> list[Check]:
    bad = {}
    for name, log in {**web_logs, **scheduler_logs}.items():
        found = [line for line in log.splitlines()
                 if re.search(r"Traceback|WORKER TIMEOUT|\[CRITICAL\]|\[ERROR\]| ERROR |job \w+ failed", line)]
        if found:
            bad[name] = found
    return [Check("no error in the logs of the 4 processes", not bad,
                  "; ".join(f"{name}: {lines[0][:200]} (+{len(lines) - 1} more)" for name, lines in bad.items())
                  or "gunicorn and scheduler logs have no traceback, worker timeout or failed job")]


def schedulers(engine: Engine, scheduler_logs: dict[str, str]) -> list[Check]:
    executed = {name: Counter(re.findall(r'Job "(\w+) \(trigger[^"]*" executed successfully', log))
                for name, log in scheduler_logs.items()}
    runs: dict[str, list[tuple[str, datetime, datetime, str]]] = defaultdict(list)
    for name, runner, started, finished, result in _rows(
            engine, "SELECT name, runner, started_at, finished_at, result FROM rehearsal_job_history ORDER BY id"):
        runs[name].append((runner, _moment(started), _moment(finished), _result_kind(result or "")))
    beating = {runner for runner, *_ in runs["heartbeat"]}
    every_job_in_both = all(len(counts) == 6 for counts in executed.values())
    detail = [f"{name}: " + ", ".join(f"{job} ×{n}" for job, n in sorted(counts.items()))
              for name, counts in executed.items()]
    detail.append(f"heartbeats from {len(beating)} processes ({', '.join(sorted(beating))})")
    overlaps = []
    for job, job_runs in sorted(runs.items()):
        if job == "heartbeat":
            continue
        detail.append(f"{job}: " + ", ".join(
            f"{kind} ×{n}" for kind, n in sorted(Counter(f"{r[0]} {r[3]}" for r in job_runs).items())))
        working = [r for r in job_runs if r[3] == "did work"]
        overlaps += [(job, a[0], b[0]) for i, a in enumerate(working) for b in working[i + 1:]
                     if a[0] != b[0] and a[1] < b[2] and b[1] < a[2]]
    return [
        Check("both schedulers alive: heartbeats from both, every job run by both",
              len(beating) >= 2 and every_job_in_both, "\n    ".join(detail)),
        Check("no sweep did its work in both schedulers at the same time", not overlaps,
              f"{sum(len(r) for j, r in runs.items() if j != 'heartbeat')} job runs on record; "
              f"{sum(1 for j, r in runs.items() if j != 'heartbeat' for x in r if x[3].startswith('skipped'))} "
              f"found the other scheduler running the same sweep and stepped aside; overlapping work: {overlaps[:3]}"),
    ]


def _result_kind(result: str) -> str:
    if result.startswith("skipped"):
        return "skipped (the other scheduler held the guard)"
    if result in ("nothing due", "SMTP not configured") or result.startswith("sent 0, failed 0, dead 0"):
        return "nothing to do"
    return "did work"


def notifications(engine: Engine, mail: list[bytes]) -> list[Check]:
    doubled = _rows(engine, f"""
        SELECT kind, order_id, recipient, count(*) FROM notifications
        WHERE kind IN ({', '.join(f"'{k}'" for k in PER_ORDER_KINDS)})
        GROUP BY kind, order_id, recipient HAVING count(*) > 1""")
    by_kind = dict(_rows(engine, "SELECT kind, count(*) FROM notifications GROUP BY kind ORDER BY kind"))
    by_status = dict(_rows(engine, "SELECT status, count(*) FROM notifications GROUP BY status"))
    sent = Counter((r, s) for r, s in _rows(engine, "SELECT recipient, subject FROM notifications "
                                                      "WHERE status = 'sent'"))
    delivered = Counter()
    for raw in mail:
        message = email.message_from_bytes(raw)
        delivered[(message["To"], str(make_header(decode_header(message["Subject"] or ""))))] += 1
    twice = {key: n for key, n in delivered.items() if n > sent.get(key, 0)}
    return [
        Check("each notification decided once (per order, kind and recipient)", not doubled,
              f"{sum(by_kind.values())} notifications: {by_kind}; doubled: {len(doubled)}"),
        Check("each notification delivered once by the outbox", not twice and sum(delivered.values()) == sent.total(),
              f"{sum(delivered.values())} messages received by the mail server, {sent.total()} marked sent "
              f"(statuses {by_status}); delivered more often than queued: {len(twice)}"),
    ]


def sla_effects(engine: Engine, snapshot: Before) -> list[Check]:
    breaches = Counter()
    for entity_id, details in _rows(engine, "SELECT entity_id, details FROM events WHERE action = 'clock_breached'"):
        d = _details(details)
        breaches[(entity_id, d.get("kind"), _moment(d["due_at"]) if d.get("due_at") else None)] += 1
    doubled = {key: n for key, n in breaches.items() if n > 1}
    states = dict(_rows(engine, "SELECT id, state FROM sla_clocks"))
    unbreached, not_once = [], []
    for clock_id, (number, kind, due) in snapshot.past_due.items():
        if states.get(clock_id) != "breached":
            unbreached.append((number, kind, states.get(clock_id)))
        elif breaches[(number, kind, due)] != 1:
            not_once.append((number, kind, breaches[(number, kind, due)]))
    reminders = Counter()
    for kind, order_id in _rows(engine, "SELECT kind, order_id FROM notifications "
                                        "WHERE kind IN ('payment_reminder_1', 'payment_reminder_2')"):
        reminders[(order_id, kind[-1])] += 1
    for order_id, details in _rows(engine, """
            SELECT o.id, e.details FROM events e JOIN orders o ON o.number = e.entity_id
            WHERE e.entity_type = 'order' AND e.action LIKE 'reminder_skipped_%'"""):
        reminders[(order_id, str(_details(details).get("reminder")))] += 1
    reminded_twice = {k: n for k, n in reminders.items() if n > 1}
    cancels = _rows(engine, """SELECT entity_id, count(*) FROM events WHERE action = 'status_changed'
                               AND to_state = 'cancelled' GROUP BY entity_id HAVING count(*) > 1""")
    return [
        Check("every clock past due at the start breached exactly once",
              not unbreached and not not_once and not doubled,
              f"{len(snapshot.past_due)} clocks past due when the schedulers started; not breached: {len(unbreached)} "
              f"{unbreached[:3]}; breach events != 1: {len(not_once)} {not_once[:3]}; "
              f"clocks with two breach events: {len(doubled)}"),
        Check("each payment reminder sent or skipped once per order", not reminded_twice,
              f"{sum(reminders.values())} reminder outcomes for {len({k[0] for k in reminders})} orders; "
              f"twice: {len(reminded_twice)}"),
        Check("no order cancelled twice", not cancels, f"orders with two cancellations: {len(cancels)}"),
    ]


def stock(engine: Engine, shared: Shared, verify_output: str, verify_ok: bool) -> list[Check]:
    hot = _rows(engine, """
        SELECT coalesce(sum(a.qty), 0) FROM allocations a JOIN products p ON p.id = a.product_id
        WHERE p.sku = :sku""", sku=HOT_SKU)[0][0]
    held = _rows(engine, """
        SELECT count(DISTINCT o.id) FROM orders o JOIN order_lines l ON l.order_id = o.id
        WHERE l.sku = :sku AND o.status = 'on_hold' AND o.hold_reason = 'stock'""", sku=HOT_SKU)[0][0]
    levels = _rows(engine, "SELECT count(*) FROM stock_levels WHERE reserved < 0 OR reserved > on_hand OR on_hand < 0")
    overpaid = _rows(engine, "SELECT number, paid_amount, total FROM orders WHERE paid_amount > total")
    double_paid = [r for r in shared.pay_races if r.count(201) != 1]
    buyers = len(shared.hot_orders)
    return [
        Check(f"{buyers} buyers for {HOT_UNITS} units: exactly {HOT_UNITS} allocated, the rest held for stock",
              int(hot) == HOT_UNITS and held == buyers - HOT_UNITS,
              f"allocated {hot}, on hold for stock {held}, orders {buyers}"),
        Check("`flask stock verify`: every level equals its ledger and its allocations", verify_ok,
              verify_output.strip().splitlines()[-1] if verify_output.strip() else "no output"),
        Check("no level below zero or reserved beyond on hand", levels[0][0] == 0, f"{levels[0][0]} such levels"),
        Check("a payment sent to both servers at once counts once", not double_paid and not overpaid,
              f"{len(shared.pay_races)} races, answers {Counter(shared.pay_races)}; orders paid beyond their "
              f"total: {len(overpaid)}"),
    ]


def boards(counts: dict[str, dict[str, str]], lists: dict[str, list[str]]) -> list[Check]:
    (a, board_a), (b, board_b) = counts.items()
    (_, list_a), (_, list_b) = lists.items()
    same = board_a == board_b and bool(board_a) and list_a == list_b
    return [Check("both web servers show the same board", same,
                  f"column counts {a}: {board_a}; {b}: {'same' if board_a == board_b else board_b}; "
                  f"on-hold list via the API: {len(list_a)} orders, {'same' if list_a == list_b else 'DIFFERENT'}")]


def health(answers_by_server: dict[str, dict]) -> list[Check]:
    ok = all(body.get("status") == "ok" and body.get("scheduler", {}).get("status") == "ok"
             for body in answers_by_server.values())
    return [Check("/healthz on both servers: database and scheduler ok", ok,
                  "; ".join(f"{name}: {body.get('status')}, heartbeat {body.get('scheduler', {}).get('age_seconds')} s "
                            "old" for name, body in answers_by_server.items()))]


def wait_for_quiet(engine: Engine, seconds: float = 2.0) -> None:
    """Let the last transactions of the stopped processes finish before reading."""
    time.sleep(seconds)
    engine.dispose()


# Memory -----------------------------------------------------------------------------

MEMORY_GROWTH_BOUND_MB = 64  # per service, end of the run against the end of its warm-up


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (gunicorn master + workers)."""
    children: dict[int, list[int]] = defaultdict(list)
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = dict(line.split(":", 1) for line in (entry / "status").read_text().splitlines() if ":" in line)
        except OSError:
            continue
        child = int(entry.name)
        children[int(fields.get("PPid", "0").strip())].append(child)
        rss[child] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo.extend(children.get(current, []))
    return total / 1024


class MemoryWatcher:
    """Samples each service's resident memory (its whole process tree) every `interval` s."""

    def __init__(self, pids: dict[str, int], interval: float = 10.0) -> None:
        self.pids, self.interval = pids, interval
        self.samples: dict[str, list[tuple[float, float]]] = {name: [] for name in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="memory", daemon=True)

    def __enter__(self) -> MemoryWatcher:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while True:
            now = time.monotonic() - self._started
            for name, pid in self.pids.items():
                self.samples[name].append((now, _tree_rss_mb(pid)))
            if self._stop.wait(self.interval):
                break

    def growth(self, name: str) -> tuple[float, float, float]:
        """(RSS at the end of warm-up: the max of the first quarter, max of the last quarter,
        overall max), in MB."""
        samples = self.samples[name]
        quarter = max(1, len(samples) // 4)
        warm = max(rss for _, rss in samples[:quarter])
        end = max(rss for _, rss in samples[-quarter:])
        return warm, end, max(rss for _, rss in samples)


def memory(watcher: MemoryWatcher) -> list[Check]:
    rows, ok = [], True
    for name in watcher.pids:
        warm, end, peak = watcher.growth(name)
        ok = ok and end - warm <= MEMORY_GROWTH_BOUND_MB
        rows.append(f"{name} {warm:.0f} → {end:.0f} MB (peak {peak:.0f})")
    return [Check(f"memory: no service grew more than {MEMORY_GROWTH_BOUND_MB} MB after its warm-up", ok,
                  "; ".join(rows) + f" ({len(next(iter(watcher.samples.values())))} samples)")]
