"""Query plans for the figures that miss their target: which statement costs the time, and why.

Each captured statement is run once on its own to find the slow ones; those get
EXPLAIN QUERY PLAN (SQLite) or EXPLAIN (ANALYZE, BUFFERS) (PostgreSQL, inside a
transaction that is rolled back).
"""

from __future__ import annotations

import time

from sqlalchemy.engine import Engine


def _timed_statements(engine: Engine, statements: list[tuple[str, object]]) -> list[tuple[float, str, object]]:
    raw = engine.raw_connection()
    sqlite = engine.dialect.name == "sqlite"
    out = []
    try:
        cursor = raw.cursor()
        if sqlite:
            cursor.execute("BEGIN")
        for sql, params in statements:
            t0 = time.perf_counter()
            cursor.execute(sql, params)
            if cursor.description is not None:
                cursor.fetchall()
            out.append((time.perf_counter() - t0, sql, params))
        cursor.close()
    finally:
        raw.rollback()
        raw.close()
    return out


def explain(engine: Engine, sql: str, params: object) -> str:
    sqlite = engine.dialect.name == "sqlite"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if sqlite:
            cursor.execute("BEGIN")
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            rows = cursor.fetchall()
            return "\n".join(f"{'  ' * _depth(rows, r)}{r[3]}" for r in rows)
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(r[0] for r in cursor.fetchall())
    finally:
        raw.rollback()
        raw.close()


def _depth(rows: list[tuple], row: tuple) -> int:
    """SQLite's plan rows are (id, parent, notused, detail): indent by nesting depth."""
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent:
        depth += 1
        parent = parents.get(parent, 0)
    return depth


def slow_statement_plans(
    engine: Engine, statements: list[tuple[str, object]], *, top: int = 1, min_ms: float = 5.0
) -> list[tuple[float, str, object, str]]:
    """(ms, sql, params, plan) for the slowest statements (at most `top`, each ≥ min_ms)."""
    timed = sorted(_timed_statements(engine, statements), key=lambda t: t[0], reverse=True)
    return [
        (seconds * 1000, sql, params, explain(engine, sql, params))
        for seconds, sql, params in timed[:top]
        if seconds * 1000 >= min_ms
    ]
