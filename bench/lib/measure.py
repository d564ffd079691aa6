"""Timing helpers: repeated runs with warm-up and a time budget, medians and p95s,
and the SQL a piece of code runs, captured so it can be replayed bare as a baseline."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.engine import Engine


@dataclass
class Timings:
    seconds: list[float]

    @property
    def n(self) -> int:
        return len(self.seconds)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def p95_ms(self) -> float:
        return percentile(self.seconds, 95) * 1000


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: with 30 runs, p95 is the 29th value)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def repeat(
    fn: Callable[[], object], *, runs: int, warmup: int = 3, budget_s: float = 20.0, min_runs: int = 5
) -> Timings:
    """Call fn `warmup` times untimed, then up to `runs` times timed; stop early once the
    budget is spent (slow figures still get `min_runs` samples)."""
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < runs:
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
        if len(samples) >= min_runs and time.perf_counter() - started > budget_s:
            break
    return Timings(samples)


class SqlCapture:
    """Records the statements an engine executes while `capturing()` is active."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[tuple[str, object]] = []
        self._on = False
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement, parameters, _context, executemany) -> None:
        if self._on and not executemany:
            self.statements.append((statement, parameters))

    @contextmanager
    def capturing(self):
        self.statements, self._on = [], True
        try:
            yield self
        finally:
            self._on = False

    def replayable(self) -> list[tuple[str, object]]:
        """Everything but the transaction control the app emits itself (replay opens its own)."""
        return [
            (sql, params)
            for sql, params in self.statements
            if not sql.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))
        ]


def replay(engine: Engine, statements: list[tuple[str, object]]) -> Callable[[], None]:
    """A function that runs these statements on a raw DBAPI connection inside one transaction,
    fetches every row and rolls back: what the database (and driver) alone cost for them,
    without ORM, templates or HTTP. Writes are undone, so it can be repeated."""
    raw = engine.raw_connection()
    sqlite = engine.dialect.name == "sqlite"

    def run() -> None:
        cursor = raw.cursor()
        if sqlite:
            cursor.execute("BEGIN")
        for sql, params in statements:
            cursor.execute(sql, params)
            if cursor.description is not None:
                cursor.fetchall()
        cursor.close()
        raw.rollback()

    return run
