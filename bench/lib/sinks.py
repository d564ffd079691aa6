"""Bulk writers for the benchmark loader: rows in, as fast as each engine takes them.

The generator builds rows as tuples already in the engine's storage form, using the
sink's value formatters (`time`, `money`, `rate`, `flag`), so no per-value conversion
layer sits between the generator and the database:

- SQLite: what app.models.base stores there: naive UTC "YYYY-MM-DD HH:MM:SS.ffffff"
  strings, money as integer cents, rates as basis points, booleans as 0/1. Rows go in
  with executemany, one transaction per batch, foreign keys off and synchronous=OFF.
- PostgreSQL: COPY FROM STDIN through psycopg's cursor.copy (text format), with
  foreign-key triggers skipped for the loading session (session_replication_role =
  replica, as pg_restore --disable-triggers does); CHECK, NOT NULL and UNIQUE
  constraints still apply to every row.

Each sink also knows how to set aside the secondary indexes of the big tables while
loading and build them afterwards, which is much faster than maintaining them row by row.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import make_url

from app.models import Base

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _time_formatter(suffix: str):
    """int epoch seconds -> 'YYYY-MM-DD HH:MM:SS<suffix>' (days cached: millions of calls)."""
    days: dict[int, str] = {}

    def fmt(t: int | None) -> str | None:
        if t is None:
            return None
        d, s = divmod(t, 86400)
        day = days.get(d)
        if day is None:
            day = days[d] = (EPOCH + timedelta(days=d)).strftime("%Y-%m-%d")
        h, s = divmod(s, 3600)
        m, s = divmod(s, 60)
        return f"{day} {h:02d}:{m:02d}:{s:02d}{suffix}"

    return fmt


def _required_columns(table: str) -> set[str]:
    """Columns that must be given: NOT NULL, no server default (Python-side defaults do
    not apply to raw inserts), except SQLite/PostgreSQL-generated integer keys we set anyway."""
    return {c.name for c in Base.metadata.tables[table].columns if not c.nullable and c.server_default is None}


class Sink:
    """Common bookkeeping: row counts and time spent inside the database per table."""

    engine = ""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}
        self.db_seconds = 0.0
        self._checked: set[str] = set()
        self._set_aside: list[tuple[str, str, str]] = []  # (table, index name, CREATE statement)

    def _check(self, table: str, columns: Sequence[str]) -> None:
        if table in self._checked:
            return
        missing = _required_columns(table) - set(columns)
        unknown = set(columns) - {c.name for c in Base.metadata.tables[table].columns}
        if missing or unknown:
            raise ValueError(f"{table}: missing required columns {sorted(missing)}, unknown {sorted(unknown)}")
        self._checked.add(table)

    def load(self, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        self._check(table, columns)
        started = time.perf_counter()
        n = self._write(table, columns, rows)
        self.db_seconds += time.perf_counter() - started
        self.rows[table] = self.rows.get(table, 0) + n

    def _write(self, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> int:
        raise NotImplementedError

    # Secondary indexes ----------------------------------------------------------------

    def set_aside_indexes(self, tables: Iterable[str]) -> int:
        """Drop the plain (non-constraint) indexes of these tables; remember how to rebuild them."""
        found = self._secondary_indexes(list(tables))
        for table, name, ddl in found:
            self.execute(f'DROP INDEX "{name}"')
            self._set_aside.append((table, name, ddl))
        self.commit()
        return len(found)

    def restore_indexes(self) -> int:
        for _table, _name, ddl in self._set_aside:
            self.execute(ddl)
        self.commit()
        n, self._set_aside = len(self._set_aside), []
        return n

    def _secondary_indexes(self, tables: list[str]) -> list[tuple[str, str, str]]:
        raise NotImplementedError

    def execute(self, sql: str, params: Sequence = ()) -> list[tuple]:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError


class SqliteSink(Sink):
    engine = "sqlite"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.path = make_url(url).database
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "foreign_keys=OFF",
            "temp_store=MEMORY",
            "cache_size=-1048576",
            "locking_mode=EXCLUSIVE",
        ):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute("BEGIN")
        self.time = _time_formatter(".000000")

    @staticmethod
    def money(cents: int | None) -> int | None:
        return cents

    @staticmethod
    def rate(basis_points: int) -> int:
        return basis_points

    @staticmethod
    def flag(value: bool) -> int:
        return 1 if value else 0

    def _write(self, table, columns, rows) -> int:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        cursor = self.conn.executemany(sql, rows)
        return cursor.rowcount

    def _secondary_indexes(self, tables):
        marks = ", ".join("?" * len(tables))
        return [
            tuple(r)
            for r in self.conn.execute(
                f"SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({marks}) ORDER BY tbl_name, name",
                tables,
            )
        ]

    def execute(self, sql, params=()):
        return self.conn.execute(sql, params).fetchall()

    def commit(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.execute("BEGIN")

    def set_counters(self, counters: dict[str, int]) -> None:
        """SQLite hands out readable numbers from the counters table (app.services.numbering)."""
        for name, value in counters.items():
            self.conn.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )
        self.commit()

    def analyze(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.execute("ANALYZE")
        self.conn.execute("PRAGMA locking_mode=NORMAL")
        self.conn.execute("PRAGMA journal_mode=WAL")  # what the app uses (app/database.py)
        self.conn.execute("BEGIN")

    def close(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")
        self.conn.close()


class PostgresSink(Sink):
    engine = "postgresql"

    def __init__(self, url: str) -> None:
        super().__init__()
        import psycopg

        sa_url = make_url(url)
        self.conn = psycopg.connect(
            host=sa_url.host or "localhost",
            port=sa_url.port or 5432,
            user=sa_url.username,
            password=sa_url.password,
            dbname=sa_url.database,
        )
        with self.conn.cursor() as cur:
            cur.execute("SET session_replication_role = replica")  # no FK triggers while loading
            cur.execute("SET synchronous_commit = off")
            cur.execute("SET maintenance_work_mem = '1GB'")
        self.time = _time_formatter("+00")

    @staticmethod
    def money(cents: int | None) -> str | None:
        if cents is None:
            return None
        return f"{cents // 100}.{cents % 100:02d}"

    @staticmethod
    def rate(basis_points: int) -> str:
        return f"{basis_points // 100}.{basis_points % 100:02d}"

    @staticmethod
    def flag(value: bool) -> bool:
        return bool(value)

    def _write(self, table, columns, rows) -> int:
        n = 0
        with self.conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            write = copy.write_row
            for row in rows:
                write(row)
                n += 1
        return n

    def _secondary_indexes(self, tables):
        return [
            tuple(r)
            for r in self.execute(
                """SELECT t.relname, i.relname, pg_get_indexdef(i.oid)
               FROM pg_index x
               JOIN pg_class i ON i.oid = x.indexrelid
               JOIN pg_class t ON t.oid = x.indrelid
               JOIN pg_namespace n ON n.oid = t.relnamespace
               WHERE n.nspname = current_schema() AND t.relname = ANY(%s)
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
               ORDER BY t.relname, i.relname""",
                (tables,),
            )
        ]

    def execute(self, sql, params=()):
        with self.conn.cursor() as cur:
            cur.execute(sql, params or None)
            return cur.fetchall() if cur.description else []

    def commit(self) -> None:
        self.conn.commit()

    def set_counters(self, counters: dict[str, int]) -> None:
        """Readable numbers come from sequences on PostgreSQL; keys from each table's serial sequence."""
        from app.services.numbering import SEQUENCES

        for name, value in counters.items():
            if name in SEQUENCES and value > 0:
                self.execute("SELECT setval(%s, %s)", (SEQUENCES[name], value))
        for table in (name for name, t in Base.metadata.tables.items() if "id" in t.c):
            seq = self.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,))
            if seq and seq[0][0]:
                self.execute(f"SELECT setval('{seq[0][0]}', coalesce((SELECT max(id) FROM {table}), 0) + 1, false)")
        self.commit()

    def analyze(self) -> None:
        self.commit()
        self.conn.autocommit = True
        self.execute("VACUUM (ANALYZE)")  # also sets the visibility map, as autovacuum would later
        self.conn.autocommit = False

    def close(self) -> None:
        self.conn.commit()
        self.conn.close()


def open_sink(url: str) -> Sink:
    return PostgresSink(url) if url.startswith("postgresql") else SqliteSink(url)
