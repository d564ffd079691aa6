"""What bench/run.py measures, one function per group of figures.

Each returns Figures (bench/lib/report.py) with the app's own number, a baseline
measured in the same run, and the target of DESIGN.md §8 (or of the brief for pages
§8 does not list).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from urllib.parse import quote

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.extensions import db
from bench.lib import workloads
from bench.lib.appsetup import BENCH_EMAIL, BENCH_PASSWORD
from bench.lib.measure import SqlCapture, Timings, repeat, replay
from bench.lib.pages import PageError, WebClient, next_page_link
from bench.lib.report import LATENCY, MEDIAN, RATE, Figure, Target, baseline_ms
from bench.lib.server import Gunicorn, LoadResult, drive, json_request, login_cookie

PAGE_100 = Target(LATENCY, 100, "< 100 ms")


@dataclass
class Context:
    url: str
    app: Flask
    engine: Engine
    capture: SqlCapture
    web: WebClient  # signed in
    api: WebClient  # bearer token only
    token: str
    quick: bool
    runs: int
    budget_s: float
    tag: str

    @property
    def postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


def prepare(url: str, app: Flask, *, quick: bool) -> Context:
    from app.services import users
    from app.services.actors import Actor

    with app.app_context():
        engine = db.engine
        user = users.find_by_email(BENCH_EMAIL)
        _, token = users.issue_token(user.id, "bench", actor=Actor.cli())
        db.session.remove()
    web = WebClient(app)
    web.login(BENCH_EMAIL, BENCH_PASSWORD)
    return Context(
        url=url,
        app=app,
        engine=engine,
        capture=SqlCapture(engine),
        web=web,
        api=WebClient(app),
        token=token,
        quick=quick,
        runs=10 if quick else 30,
        budget_s=5.0 if quick else 20.0,
        tag=f"{int(time.time())}",
    )


def _timed(ctx: Context, fn) -> Timings:
    return repeat(fn, runs=ctx.runs, budget_s=ctx.budget_s)


def _figure(ctx: Context, group: str, name: str, call, target: Target | None, note: str = "") -> Figure:
    """Time `call` and, as its baseline, the same SQL replayed bare on the engine."""
    try:
        with ctx.capture.capturing():
            call()
    except PageError as exc:
        return Figure(group, name, note=f"not measured: {exc}")
    statements = ctx.capture.replayable()
    ours = _timed(ctx, call)
    bare = _timed(ctx, replay(ctx.engine, statements))
    return Figure(
        group,
        name,
        ours.median_ms,
        ours.p95_ms,
        ours.n,
        target=target,
        note=note,
        statements=statements,
        baseline=baseline_ms(bare.median_ms, bare.p95_ms, f"its {len(statements)} SQL statements bare"),
    )


def _page(
    ctx: Context, group: str, name: str, path: str, target: Target | None, *, fragment: bool = False, note: str = ""
) -> Figure:
    return _figure(ctx, group, name, lambda: ctx.web.get(path, fragment=fragment), target, note)


def _api_get(ctx: Context, group: str, name: str, path: str, target: Target | None, note: str = "") -> Figure:
    return _figure(ctx, group, name, lambda: ctx.api.get(path, headers=ctx.auth()), target, note)


def _html(ctx: Context, path: str) -> str:
    """The page, or "" when it fails (its own figure already says so)."""
    try:
        return ctx.web.get(path)
    except PageError:
        return ""


# Samples of the data set ---------------------------------------------------------------------


@dataclass(frozen=True)
class Samples:
    delivered: str  # an order number from the middle of the history
    open_order: str
    email: str
    name: str
    sku: str


def samples(ctx: Context) -> Samples:
    with ctx.app.app_context():
        q = db.session.execute
        max_id = q(text("SELECT max(id) FROM orders")).scalar_one()
        delivered = q(
            text("SELECT number FROM orders WHERE id >= :i AND status = 'delivered' ORDER BY id LIMIT 1"),
            {"i": max_id // 2},
        ).scalar_one()
        open_order = q(text("SELECT number FROM orders WHERE status = 'ready' ORDER BY id DESC LIMIT 1")).scalar_one()
        email, name = q(text("SELECT email, name FROM customers WHERE id = 50")).one()
        sku = q(
            text(
                "SELECT sku FROM order_lines WHERE order_id = (SELECT id FROM orders WHERE number = :n) "
                "ORDER BY line_no LIMIT 1"
            ),
            {"n": delivered},
        ).scalar_one()
        db.session.remove()
    return Samples(delivered, open_order, email, name, sku)


# Pages --------------------------------------------------------------------------------------


def order_pages(ctx: Context, s: Samples) -> list[Figure]:
    figures = [_page(ctx, "orders", "list, first page (`/orders/`)", "/orders/", PAGE_100, note="full page, 50 rows")]
    link = next_page_link(_html(ctx, "/orders/"))
    if link:
        figures.append(_page(ctx, "orders", "list, next page (htmx load-more)", link, PAGE_100, fragment=True))
    searches = [("number", s.delivered), ("e-mail", s.email), ("SKU", s.sku), ("customer name", s.name)]
    for label, term in searches:
        figures.append(
            _page(
                ctx,
                "search",
                f"`/orders/?q=` by {label}",
                f"/orders/?q={quote(term)}",
                Target(LATENCY, 100, "< 100 ms"),
                note=f"q = {term}",
            )
        )
    for label, term in searches:
        figures.append(
            _api_get(
                ctx,
                "search",
                f"`GET /api/v1/orders?q=` by {label}",
                f"/api/v1/orders?q={quote(term)}&limit=50",
                Target(LATENCY, 100, "< 100 ms"),
            )
        )
    figures.append(
        _page(ctx, "orders", "detail, delivered order", f"/orders/{s.delivered}", PAGE_100, note=s.delivered)
    )
    figures.append(_page(ctx, "orders", "detail, open order", f"/orders/{s.open_order}", PAGE_100, note=s.open_order))
    return figures


def stock_pages(ctx: Context) -> list[Figure]:
    figures = [_page(ctx, "stock", "grid, first page (`/inventory/`)", "/inventory/", PAGE_100)]
    link = next_page_link(_html(ctx, "/inventory/"))
    if link:
        figures.append(_page(ctx, "stock", "grid, next page (htmx)", link, PAGE_100, fragment=True))
    return figures


def board_pages(ctx: Context) -> list[Figure]:
    if not ctx.web.has_route("/orders/board"):
        return [Figure("board", "board", note="not measured: no /orders/board route in app.url_map yet")]
    figures = [_page(ctx, "board", "first render (`/orders/board`)", "/orders/board", PAGE_100)]
    link = next_page_link(_html(ctx, "/orders/board"), contains="column=")
    if link:
        figures.append(
            _page(
                ctx,
                "board",
                "a column's next page (htmx)",
                link,
                PAGE_100,
                fragment=True,
                note=link.split("column=")[1].split("&")[0] + " column",
            )
        )
    else:
        figures.append(Figure("board", "a column's next page", note="not measured: no load-more link on the board"))
    figures.append(drag_moves(ctx))
    return figures


def drag_moves(ctx: Context) -> Figure:
    """A card dragged from ready to on hold and back: POST /orders/<n>/move as htmx sends it."""
    if not any(r.rule == "/orders/<number>/move" for r in ctx.app.url_map.iter_rules()):
        return Figure("board", "drag-move", note="not measured: no /orders/<number>/move route")
    numbers = workloads.ready_orders(ctx.app, 3 + ctx.runs // 2)

    def move(number: str, to: str) -> None:
        ctx.web.post(f"/orders/{number}/move", {"to": to, "reason": "manual", "view": "board"})

    try:
        with ctx.capture.capturing():
            move(numbers[0], "on_hold")
        statements = ctx.capture.replayable()
        move(numbers[0], "ready")
        for number in numbers[1:3]:  # warm-up
            move(number, "on_hold")
            move(number, "ready")
    except PageError as exc:
        return Figure("board", "drag-move", note=f"not measured: {exc}")
    samples_s = []
    for number in numbers[3:]:
        for to in ("on_hold", "ready"):
            t0 = time.perf_counter()
            move(number, to)
            samples_s.append(time.perf_counter() - t0)
    ours = Timings(samples_s)
    bare = _timed(ctx, replay(ctx.engine, statements))
    return Figure(
        "board",
        "drag-move (POST `/orders/<n>/move`, ready ⇄ on hold)",
        ours.median_ms,
        ours.p95_ms,
        ours.n,
        target=Target(LATENCY, 50, "< 50 ms"),
        statements=statements,
        baseline=baseline_ms(bare.median_ms, bare.p95_ms, f"its {len(statements)} SQL statements bare, rolled back"),
    )


# Services --------------------------------------------------------------------------------------


def stock_verify(ctx: Context) -> Figure:
    from app.services import stock_verify as verify_service

    report = {}

    def run() -> None:
        with ctx.app.app_context():
            report["r"] = verify_service.verify()
            db.session.remove()

    with ctx.capture.capturing():
        run()
    statements = ctx.capture.replayable()
    runs = 3 if ctx.quick else 5
    ours = repeat(run, runs=runs, warmup=1, min_runs=runs)
    bare = repeat(replay(ctx.engine, statements), runs=runs, warmup=1, min_runs=runs)
    r = report["r"]
    return Figure(
        "stock",
        "`flask stock verify` (stock_verify.verify())",
        ours.median_ms,
        ours.p95_ms,
        ours.n,
        target=Target(LATENCY, 10_000, "< 10 s over 1M moves"),
        statements=statements,
        baseline=baseline_ms(bare.median_ms, bare.p95_ms, f"its {len(statements)} SQL statements bare"),
        note=f"{r.moves_counted:,} moves, {r.levels_checked:,} levels, {len(r.drifts)} drifts",
    )


def allocation(ctx: Context, products: list[workloads.Sellable]) -> Figure:
    """Intake of single-line orders through app.services.orders.create_order, one order per
    app context and write transaction, as the API calls it: channel and idempotency check,
    customer, number, review (address, prices), routing and the reservation, SLA clock,
    audit events, commit. The orders stay in the data set (new, allocated)."""
    n = 500 if ctx.quick else 2000
    rng = random.Random(7)
    bodies = [workloads.order_body(f"{ctx.tag}-alloc", i, products, rng, lines=1) for i in range(n + 50)]
    count, seconds = workloads.allocation_throughput(ctx.app, bodies)
    bare_n, bare_s = workloads.bare_reservations(ctx.engine, [p.level_id for p in products], 5000)
    note = f"{1000 * seconds / count:.2f} ms per order"
    if ctx.postgres:
        note += "; the ≥ 1,000/s target is for SQLite"
    figure = Figure(
        "write",
        "allocation, single process (orders.create_order, 1 line)",
        rate=count / seconds,
        rate_unit="orders/s",
        n=count,
        note=note,
        target=None if ctx.postgres else Target(RATE, 1000, "≥ 1,000 orders/s (SQLite)"),
        baseline=f"{bare_n / bare_s:,.0f} reservations/s (bare conditional UPDATE, one per transaction)",
    )
    return figure


def allocation_only(ctx: Context, n: int | None = None) -> Figure:
    """The allocation service alone, for single-line orders: the orders the intake figure just
    created give their reservation back (untimed, one transaction), then each is allocated
    again in its own app context and write transaction: the order loaded and locked,
    app.services.allocation.allocate_order (stock rows locked, routing, reservation,
    allocation row, audit event), commit. The data set ends as it began."""
    from app.services import allocation as allocation_service
    from app.services.actors import Actor
    from app.services.orders import get_order
    from app.services.tx import begin_write

    n = n or (500 if ctx.quick else 2000)
    actor = Actor(label="bench")
    with ctx.app.app_context():
        numbers = list(db.session.execute(
            text("SELECT number FROM orders WHERE external_id LIKE :tag ORDER BY id DESC LIMIT :n"),
            {"tag": f"BENCH-{ctx.tag}-alloc-%", "n": n},
        ).scalars())
        begin_write()
        for number in numbers:
            allocation_service.release_order(get_order(number, for_update=True), actor=actor, reason="bench_released")
        db.session.commit()
        db.session.remove()

    def allocate(number: str) -> None:
        with ctx.app.app_context():
            begin_write()
            allocation_service.allocate_order(get_order(number, for_update=True), actor=actor)
            db.session.commit()
            db.session.remove()

    started = time.perf_counter()
    for number in numbers:
        allocate(number)
    seconds = time.perf_counter() - started
    return Figure(
        "write",
        "allocation alone, single process (allocation.allocate_order, 1 line)",
        rate=len(numbers) / seconds,
        rate_unit="orders/s",
        n=len(numbers),
        note=f"{1000 * seconds / max(len(numbers), 1):.2f} ms per order",
        target=None if ctx.postgres else Target(RATE, 1000, "≥ 1,000 orders/s (SQLite)"),
        baseline="the bare conditional UPDATE above",
    )


# Through gunicorn ---------------------------------------------------------------------------------


def _load_figure(group: str, name: str, result: LoadResult, unit: str, **kwargs) -> Figure:
    """A figure from a load run; when nothing answered there is nothing to judge."""
    if result.ok == 0:
        return Figure(
            group, name, note=f"not measured: every request failed (first: {_first_line(result.first_error)})"
        )
    note = _errors(result) + kwargs.pop("note", "")
    return Figure(
        group,
        name,
        result.p50_ms,
        result.p95_ms,
        result.ok,
        rate=result.per_second,
        rate_unit=unit,
        note=note,
        **kwargs,
    )


def served(ctx: Context, products: list[workloads.Sellable], database_url: str) -> list[Figure]:
    """Through gunicorn (2 workers): order intake with 1 and 8 clients, the API list and the
    orders page with 8 clients, and DESIGN.md §8's bare reference pages (keyset and OFFSET)."""
    figures: list[Figure] = []
    rng = random.Random(11)
    create_total = {1: 200 if ctx.quick else 600, 8: 400 if ctx.quick else 1500}
    read_budget = 5.0 if ctx.quick else 10.0
    level_ids = [p.level_id for p in products]
    with Gunicorn("wsgi:app", database_url) as server:
        port = server.port
        for clients in (1, 8):
            bodies = [
                workloads.order_body(f"{ctx.tag}-api{clients}", i, products, rng)
                for i in range(create_total[clients] + 20)
            ]
            post = [json_request("POST", "/api/v1/orders", body, ctx.token) for body in bodies]
            drive(port, post.__getitem__, clients=clients, total=20)  # warm-up: imports, pools, statements
            result = drive(
                port,
                lambda i, requests=post: requests[20 + i],
                clients=clients,
                total=create_total[clients],
                budget_s=60,
            )
            bare_n, bare_s = workloads.bare_reservations(ctx.engine, level_ids, 2000, clients=clients)
            target = Target(RATE, 100, "≥ 100 orders/s (PostgreSQL)") if clients == 8 and ctx.postgres else None
            figures.append(
                _load_figure(
                    "API",
                    f"`POST /api/v1/orders`, {clients} client{'s' if clients > 1 else ''}",
                    result,
                    "orders/s",
                    target=target,
                    baseline=f"{bare_n / bare_s:,.0f} bare reservations/s with {clients} connection(s)",
                    note="" if ctx.postgres or clients == 1 else "the ≥ 100/s target is for PostgreSQL",
                )
            )
        listing = drive(
            port,
            lambda i: json_request("GET", "/api/v1/orders?limit=50", None, ctx.token),
            clients=8,
            total=100_000,
            budget_s=read_budget,
        )
        figures.append(
            _load_figure(
                "API",
                "`GET /api/v1/orders?limit=50`, 8 clients — throughput",
                listing,
                "req/s",
                target=Target(RATE, 170, "≥ 170 req/s (10 × the reference OMS)"),
            )
        )
        figures.append(
            _load_figure(
                "API",
                "`GET /api/v1/orders?limit=50`, 8 clients — median",
                listing,
                "req/s",
                target=Target(MEDIAN, 17, "p50 < 17 ms (⅕ of the reference OMS's 85 ms)"),
            )
        )
        figures[-1].rate = None
        cookie = login_cookie(port, BENCH_EMAIL, BENCH_PASSWORD)
        page = drive(
            port,
            lambda i: ("GET", "/orders/", None, {"Cookie": cookie}),
            clients=8,
            total=100_000,
            budget_s=read_budget,
        )

    offset_at = _order_count(ctx) // 2
    with Gunicorn("bench.lib.bare_app:app", database_url) as bare_server:
        bare = drive(bare_server.port, lambda i: ("GET", "/", None, {}), clients=8, total=100_000, budget_s=read_budget)
        deep = drive(
            bare_server.port,
            lambda i: ("GET", f"/offset?offset={offset_at}", None, {}),
            clients=8,
            total=100_000,
            budget_s=read_budget,
        )
    figures.append(
        _load_figure(
            "served",
            "`/orders/` first page, 8 clients (signed in)",
            page,
            "req/s",
            target=Target(
                RATE, 0.7 * bare.per_second, f"≥ 70 % of the bare page: ≥ {0.7 * bare.per_second:,.0f} req/s"
            ),
            baseline=f"bare page {bare.per_second:,.0f} req/s",
        )
    )
    figures.append(
        _load_figure(
            "served",
            "reference: bare Flask page, one keyset query, 8 clients",
            bare,
            "req/s",
            note="DESIGN.md §8 measured 1,100–1,300 req/s",
        )
    )
    figures.append(
        _load_figure(
            "served",
            f"reference: bare page with OFFSET {offset_at:,}, 8 clients",
            deep,
            "req/s",
            note="DESIGN.md §8 measured 100 req/s at OFFSET 500,000",
        )
    )
    return figures


def _errors(result) -> str:
    return f"{result.errors} errors (first: {_first_line(result.first_error)}); " if result.errors else ""


def _first_line(error: str) -> str:
    return error.replace("\\n", " ").split("<!doctype")[0][:120]


def _order_count(ctx: Context) -> int:
    with ctx.app.app_context():
        n = db.session.execute(text("SELECT max(id) FROM orders")).scalar_one()
        db.session.remove()
    return n
