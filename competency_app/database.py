"""Engine set-up that differs between SQLite and PostgreSQL, and shared column types.

SQLite: WAL journal, foreign keys, a busy timeout, and `BEGIN IMMEDIATE` for transactions
that will write (deferred transactions silently lose concurrent read-modify-write updates).
Requests that may write (any method but GET/HEAD/OPTIONS) and CLI commands mark the
context as writing; read-only requests keep cheap deferred transactions.

`unit_of_work()` is the one place a request or a command commits.
"""

from __future__ import annotations

import contextvars
import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, event, insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.types import TypeDecorator

from competency_app.extensions import db

_writing = contextvars.ContextVar("writing", default=True)


def mark_read_only(read_only: bool) -> None:
    """Mark the current context (request) as read-only or writing."""
    _writing.set(not read_only)


def configure_sqlite(engine: Engine) -> None:
    """Install the SQLite pragmas and explicit BEGIN on `engine` (no-op for other dialects)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised via engine
        # Let SQLAlchemy's "begin" event issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _writing.get() else "BEGIN")


class ForeignKeyViolation(RuntimeError):
    """A migration left rows whose foreign keys point at nothing; it was not committed.

    A RuntimeError, so `flask db upgrade` prints its message and exits 1 (no traceback)."""


@contextmanager
def foreign_keys_deferred(connection: Connection) -> Iterator[None]:
    """SQLite: foreign keys off on `connection` for the block, restored after it.

    A migration that rebuilds a table (`batch_alter_table`) drops the old one; with
    foreign keys on, that drop deletes every row of every `ON DELETE CASCADE` child (and a
    drop with plain references fails). SQLite ignores the pragma inside a transaction, so
    it is set here, before the migration's transaction begins; `check_foreign_keys` then
    runs before that transaction commits. No-op for other dialects (PostgreSQL alters
    tables in place and checks every key as it is written).
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    if connection.in_transaction():
        raise RuntimeError("foreign keys can only be turned off outside a transaction")
    driver = connection.connection.driver_connection
    assert driver is not None  # a live connection
    was_on = driver.execute("PRAGMA foreign_keys").fetchone()[0]
    driver.execute("PRAGMA foreign_keys=OFF")
    if driver.execute("PRAGMA foreign_keys").fetchone()[0]:
        raise RuntimeError("SQLite did not turn foreign keys off (a transaction is open)")
    try:
        yield
    finally:
        if was_on and connection.connection.is_valid:
            driver.execute("PRAGMA foreign_keys=ON")


def check_foreign_keys(connection: Connection) -> None:
    """SQLite: raise ForeignKeyViolation, naming each table and the first offending rows,
    if any row's foreign key points at nothing (run it inside the migration's transaction,
    which then rolls back). No-op for other dialects."""
    if connection.dialect.name != "sqlite":
        return
    violations = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if not violations:
        return
    by_table: dict[tuple[str, str], list[int]] = {}
    for table, rowid, parent, _key in violations:
        by_table.setdefault((table, parent), []).append(rowid)
    lines = [
        f"{table}: {len(rowids)} row(s) point at no {parent} (rowid "
        + ", ".join(map(str, rowids[:5]))
        + (", …)" if len(rowids) > 5 else ")")
        for (table, parent), rowids in sorted(by_table.items())
    ]
    raise ForeignKeyViolation(
        "Migration stopped and not committed: the database would hold rows whose foreign "
        "keys point at nothing.\n"
        + "\n".join(lines)
        + "\nNothing was changed: correct or delete these rows, then run the upgrade again."
    )


@contextmanager
def unit_of_work() -> Iterator[None]:
    """One transaction per request or command: commit when the block ends, roll back if
    anything in it raises (the exception then goes on to its handler or error page).

    Services flush and never commit or roll back the caller's session; a view or CLI
    command wraps its service call(s) in this block. An error raised at commit (a
    concurrent change found at flush, for instance) is rolled back and re-raised too.
    The transaction itself is opened by the first statement, so SQLite's
    `BEGIN IMMEDIATE` for writing requests and commands applies unchanged.
    """
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(DateTime(timezone=dialect.name != "sqlite"))


def chunks(items: list, size: int = 500) -> Iterator[list]:
    """`items` in slices of `size`, e.g. to keep `IN (...)` lists within what both
    databases take comfortably."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@functools.cache
def _insert_into(table):
    """A table's INSERT, built once (building it costs more than running one row)."""
    return insert(table)


def insert_rows(session, table, rows: list[dict]) -> None:
    """Insert many rows into `table` (a Core Table) in the session's transaction, fast.

    SQLite, or a single row: executemany. PostgreSQL: COPY … FROM STDIN (an executemany
    runs row by row, and a batched INSERT costs more to build than to run; for one row the
    COPY's extra round trips cost more than an INSERT). Values go through each
    column's own bind processing, so enums, JSON and aware datetimes are stored exactly as
    an ORM insert would store them.
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql" or len(rows) == 1:
        session.flush()  # as `session.execute` would: pending rows first
        statement = _insert_into(table)
        for start in range(0, len(rows), 5000):
            connection.execute(statement, rows[start : start + 5000])
        return
    names = list(rows[0])
    processors = []
    for name in names:
        column_type = table.c[name].type
        if isinstance(column_type, JSON):
            processors.append(json.dumps)
        else:
            processors.append(column_type.bind_processor(connection.dialect))
    columns = ", ".join(f'"{name}"' for name in names)
    with (
        connection.connection.driver_connection.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row(
                [
                    value if process is None or value is None else process(value)
                    for process, value in zip(processors, (row[n] for n in names), strict=True)
                ]
            )
