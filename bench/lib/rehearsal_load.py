"""A busy ops team and two sales channels' worth of API traffic, spread over two web
servers that stand for two machines.

Every request goes through the front door a reverse proxy would use (X-Forwarded-Proto:
https, so the production configuration serves it); a browser session signed in on one
server is used on the other as well (one SECRET_KEY for the deployment). Each request's
answer is recorded; what counts as expected for each kind of request is decided by the
checks (bench/lib/rehearsal_checks.py), not here.
"""

from __future__ import annotations

import functools
import http.client
import json
import random
import re
import statistics
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

from bench.lib.measure import percentile
from bench.lib.workloads import Sellable, order_body

HOST = "127.0.0.1"
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
HOT_SKU = "REH-HOT"
HOT_UNITS = 10


@dataclass
class Answer:
    label: str
    server: str
    status: int  # 0: no answer (connection refused, reset, timed out)
    seconds: float
    excerpt: str = ""


class Recorder:
    """Every answer of the run, thread-safe."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self._lock = threading.Lock()

    def add(self, answer: Answer) -> None:
        with self._lock:
            self.answers.append(answer)

    def by_label(self) -> dict[str, list[Answer]]:
        grouped: dict[str, list[Answer]] = defaultdict(list)
        for a in self.answers:
            grouped[a.label].append(a)
        return dict(sorted(grouped.items()))

    def table(self, seconds: float) -> list[str]:
        rows = ["| request | servers | n | answers | rate/s | p50 ms | p99 ms |", "|---|---|---:|---|---:|---:|---:|"]
        for label, answers in self.by_label().items():
            times = [a.seconds for a in answers if a.status]
            statuses = Counter(str(a.status or "no answer") for a in answers)
            spread = Counter(a.server for a in answers)
            rows.append(
                f"| {label} | {' / '.join(f'{s} {n}' for s, n in sorted(spread.items()))} | {len(answers)} | "
                f"{', '.join(f'{s} × {n}' for s, n in sorted(statuses.items()))} | "
                f"{len(answers) / seconds:.1f} | "
                f"{statistics.median(times) * 1000 if times else float('nan'):.0f} | "
                f"{percentile(times, 99) * 1000 if times else float('nan'):.0f} |"
            )
        return rows


class Http:
    """Requests to one server; a new connection whenever the server closes one (gunicorn's
    sync workers close after every answer)."""

    def __init__(self, name: str, port: int, recorder: Recorder, headers: dict[str, str] | None = None) -> None:
        self.name, self.port, self.recorder = name, port, recorder
        # A browser behind the proxy names the page it posts from; over https Flask-WTF
        # refuses a form post whose Referer is missing or from another site.
        self.headers = {**PROXY_HEADERS, "Referer": f"https://{HOST}:{port}/", **(headers or {})}
        self._conn: http.client.HTTPConnection | None = None

    def request(self, label: str, method: str, path: str, *, body: bytes | None = None,
                headers: dict[str, str] | None = None,
                record: bool = True) -> tuple[int, bytes, http.client.HTTPResponse | None]:
        all_headers = {**self.headers, **(headers or {})}
        started = time.perf_counter()
        try:
            if self._conn is None:
                self._conn = http.client.HTTPConnection(HOST, self.port, timeout=90)
            self._conn.request(method, path, body=body, headers=all_headers)
            response = self._conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError) as exc:
            self.close()
            if record:
                self.recorder.add(Answer(label, self.name, 0, time.perf_counter() - started, repr(exc)[:300]))
            return 0, b"", None
        elapsed = time.perf_counter() - started
        if response.will_close:
            self.close()
        if record:
            excerpt = "" if response.status < 400 else data[:300].decode(errors="replace")
            self.recorder.add(Answer(label, self.name, response.status, elapsed, excerpt))
        return response.status, data, response

    def json(self, label: str, method: str, path: str, payload: dict | None = None) -> tuple[int, dict]:
        body = json.dumps(payload).encode() if payload is not None else None
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        status, data, _ = self.request(label, method, path, body=body, headers=headers)
        try:
            return status, json.loads(data) if data else {}
        except ValueError:
            return status, {}

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def api_client(name: str, port: int, recorder: Recorder, token: str) -> Http:
    return Http(name, port, recorder, {"Authorization": f"Bearer {token}"})


@dataclass
class BrowserSession:
    cookie: str
    csrf: str


def sign_in(port: int, email: str, password: str) -> BrowserSession:
    """Sign in through the login form on one server; the session works on every server."""
    probe = Http("login", port, Recorder())
    status, page, response = probe.request("login page", "GET", "/login")
    if status != 200:
        raise RuntimeError(f"GET /login answered {status}")
    jar = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
    form = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token}).encode()
    cookie = "; ".join(f"{k}={m.value}" for k, m in jar.items())
    status, _, response = probe.request("sign in", "POST", "/login", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    if status not in (302, 303):
        raise RuntimeError(f"signing in as {email} answered {status}: {probe.recorder.answers[-1].excerpt}")
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    cookie = "; ".join(f"{k}={m.value}" for k, m in jar.items())
    status, board, _ = probe.request("board", "GET", "/orders/board", headers={"Cookie": cookie})
    if status != 200:
        raise RuntimeError(f"the board answered {status} after signing in")
    csrf = re.search(rb'<meta name="csrf-token" content="([^"]+)"', board).group(1).decode()
    probe.close()
    return BrowserSession(cookie, csrf)


@dataclass
class Shared:
    """What the clients know of each other's work: orders created, and those paid."""

    products: list[Sellable]
    tag: str
    deadline: float
    created: list[tuple[str, str]] = field(default_factory=list)  # (number, total)
    paid: list[str] = field(default_factory=list)
    pay_races: list[tuple[int, int]] = field(default_factory=list)
    hot_orders: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: int = 0

    def next_id(self) -> int:
        with self.lock:
            self._ids += 1
            return self._ids

    def over(self) -> bool:
        return time.monotonic() >= self.deadline

    def pick(self, pool: list[str], rng: random.Random) -> str | None:
        with self.lock:
            return rng.choice(pool) if pool else None


def create_order(api: Http, shared: Shared, rng: random.Random, *, label: str = "API: create order",
                 lines: list[dict] | None = None) -> tuple[str, str] | None:
    body = order_body(shared.tag, shared.next_id(), shared.products, rng, lines=rng.choice((1, 1, 2)))
    if lines is not None:
        body["lines"] = lines
    status, order = api.json(label, "POST", "/api/v1/orders", body)
    if status != 201:
        return None
    with shared.lock:
        shared.created.append((order["number"], order["total"]))
    return order["number"], order["total"]


def pay(api: Http, number: str, amount: str, *, label: str = "API: record payment") -> int:
    status, _ = api.json(label, "POST", f"/api/v1/orders/{number}/payments",
                         {"amount": amount, "method": "card", "reference": f"psp-{number}"})
    return status


# The clients ------------------------------------------------------------------------------


def intake(api: Http, other: Http, shared: Shared, rng: random.Random) -> None:
    """A channel connector: orders in on its server; payments (and a few cancellations)
    reported to the other one."""
    while not shared.over():
        created = create_order(api, shared, rng)
        if created is None:
            continue
        number, total = created
        roll = rng.random()
        if roll < 0.7:
            if pay(other, number, total) == 201:
                with shared.lock:
                    shared.paid.append(number)
        elif roll < 0.8:
            other.json("API: cancel", "POST", f"/api/v1/orders/{number}/cancel", {"reason": "customer changed mind"})
        time.sleep(rng.uniform(0.02, 0.1))


def ops_person(web: Http, api: Http, shared: Shared, rng: random.Random, session: BrowserSession) -> None:
    """A person at the board: it polls for changes, they search, open orders, and drag
    cards to on hold and back (through the board's own form, or the API)."""
    cookie = {"Cookie": session.cookie}
    htmx = {**cookie, "HX-Request": "true", "X-CSRFToken": session.csrf}
    token = _board_token(web, cookie)
    next_poll = time.monotonic()
    while not shared.over():
        if time.monotonic() >= next_poll:
            token = _poll(web, htmx, token) or token or _board_token(web, cookie)
            next_poll = time.monotonic() + 1.0  # the page polls every 3 s; a team of three
        action = rng.choices(["search", "detail", "web move", "api move", "list", "board"],
                             weights=[15, 15, 25, 20, 15, 3])[0]
        known = shared.pick([n for n, _ in shared.created[-200:]], rng)
        if action == "board":
            token = _board_token(web, cookie) or token
        elif action == "list":
            api.request("API: list ready orders", "GET", "/api/v1/orders?status=ready&limit=50",
                        headers={"Accept": "application/json"})
        elif known is None:
            time.sleep(0.05)
        elif action == "search":
            web.request("page: search by number", "GET", f"/orders/?q={known}", headers=cookie)
        elif action == "detail":
            web.request("page: order detail", "GET", f"/orders/{known}", headers=cookie)
        else:
            number = shared.pick(shared.paid[-100:], rng)
            if number:
                _hold_and_release(web if action == "web move" else None, api, number, htmx)
        time.sleep(rng.uniform(0.05, 0.2))


def _board_token(web: Http, cookie: dict) -> str | None:
    status, page, _ = web.request("page: board", "GET", "/orders/board", headers=cookie)
    found = re.search(rb'data-token="([^"]+)"', page) if status == 200 else None
    return found.group(1).decode() if found else None


def _poll(web: Http, htmx: dict, token: str | None) -> str | None:
    if token is None:
        return None
    status, body, _ = web.request("htmx: board changes", "GET",
                                  f"/orders/board/changes?since={urllib.parse.quote(token)}", headers=htmx)
    found = re.search(rb'data-token="([^"]+)"', body) if status == 200 else None
    return found.group(1).decode() if found else token


def _hold_and_release(web: Http | None, api: Http, number: str, htmx: dict) -> None:
    """ready → on hold (manual) → ready, each step carrying the version just read; a
    colleague moving the same card first makes ours a 409, as it should."""
    status, order = api.json("API: read order", "GET", f"/api/v1/orders/{number}")
    if status != 200 or order.get("status") != "ready":
        return
    version = order["version"]
    for target in ("on_hold", "ready"):
        if web is not None:
            form = urllib.parse.urlencode({"to": target, "version": version, "reason": "rehearsal: customer called"})
            status, card, _ = web.request(f"htmx: move to {target}", "POST", f"/orders/{number}/move",
                                          body=form.encode(),
                                          headers={**htmx, "Content-Type": "application/x-www-form-urlencoded"})
            found = re.search(rb'data-version="(\d+)"', card) if status == 200 else None
            if found is None:
                return
            version = int(found.group(1))  # the card the board puts back carries the new version
        else:
            status, moved = api.json(f"API: move to {target}", "POST", f"/api/v1/orders/{number}/transition",
                                     {"to": target, "version": version, "reason": "rehearsal: customer called"})
            if status != 200:
                return
            version = moved["version"]


def payment_races(first: Http, second: Http, shared: Shared, rng: random.Random) -> None:
    """Every few seconds the same payment arrives at both servers at once (a PSP retrying
    on another machine): exactly one may count."""
    while not shared.over():
        created = create_order(first, shared, rng, label="API: create order (payment race)")
        if created is not None:
            number, total = created
            statuses = _at_once([functools.partial(pay, api, number, total, label="API: same payment twice")
                                 for api in (first, second)])
            with shared.lock:
                shared.pay_races.append(tuple(sorted(statuses)))
                if 201 in statuses:
                    shared.paid.append(number)
        time.sleep(rng.uniform(2, 4))


def _at_once(calls: list[Callable[[], int]]) -> list[int]:
    """Start every call at the same moment, each in its own thread; their answers."""
    barrier = threading.Barrier(len(calls))
    results: list[int] = []

    def run(call: Callable[[], int]) -> None:
        barrier.wait()
        results.append(call())

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def hot_burst(make_api: Callable[[int], Http], shared: Shared, price: str, buyers: int = 40) -> None:
    """`buyers` customers order the last HOT_UNITS units of one product at the same moment;
    make_api(i) gives buyer i its own connection (alternate servers)."""
    barrier = threading.Barrier(buyers)
    rngs = [random.Random(i) for i in range(buyers)]
    apis = [make_api(i) for i in range(buyers)]

    def buy(i: int) -> None:
        barrier.wait()
        created = create_order(apis[i], shared, rngs[i], label="API: create order (40 buyers, 10 units)",
                               lines=[{"sku": HOT_SKU, "qty": 1, "unit_price": price}])
        if created:
            with shared.lock:
                shared.hot_orders.append(created[0])

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(buyers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def run_clients(targets: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
