"""Which failures mean that a service the app depends on cannot be reached (answered 503,
"try again in a few minutes"), as opposed to bad input or a fault in the code.

Only a failure to reach the database counts as its outage: a value the database refuses (a
NUL byte, a number out of range) or a missing table is the request's fault or the code's,
and an outage page for it would send operators after a database that is up.
"""

from __future__ import annotations

import sqlite3

import redis
from limits.errors import StorageError
from sqlalchemy import exc

# PostgreSQL SQLSTATEs beyond class 08 (connection exception) that mean the server cannot
# serve this connection: admin shutdown, crash shutdown, cannot connect now (starting up or
# shutting down), too many connections.
SERVER_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})

# SQLite primary result codes that mean the file cannot be used just now: busy (a writer
# held the lock past the busy timeout), cannot open, disk I/O error.
SQLITE_UNAVAILABLE_CODES = frozenset(
    {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR}
)


def database_unreachable(error: BaseException) -> bool:
    """True when `error` says the database could not be reached (psycopg 3 or sqlite3)."""
    if isinstance(error, exc.TimeoutError):  # no pooled connection came free in time
        return True
    if not isinstance(error, exc.DBAPIError):
        return False
    if error.connection_invalidated:  # SQLAlchemy saw the connection drop
        return True
    original = error.orig
    code = getattr(original, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in SQLITE_UNAVAILABLE_CODES
    state = getattr(original, "sqlstate", None)
    if state:
        return state.startswith("08") or state in SERVER_UNAVAILABLE_STATES
    # psycopg's own failures carry no SQLSTATE: the connection was refused, timed out, or
    # was lost (a refusal by the server, such as a query cancelled, has its SQLSTATE).
    return isinstance(error, exc.OperationalError) and not isinstance(original, sqlite3.Error)


def store_unreachable(error: BaseException) -> bool:
    """True when `error` says Redis (the sign-in limits' store or the job queue) could not
    be reached or could not serve: every failure of the limits' store counts, as sign-in
    cannot be throttled without it."""
    if isinstance(error, StorageError):
        return True
    return isinstance(error, (redis.ConnectionError, redis.TimeoutError))


def failure_name(error: BaseException) -> str:
    """The class of `error` (and of the driver's error under SQLAlchemy's or the limits'
    wrapper, with its SQLSTATE), for the log: never the message, which may hold values."""
    name = type(error).__name__
    inner = getattr(error, "orig", None) or getattr(error, "storage_error", None)
    if isinstance(inner, BaseException):
        name += f" ({type(inner).__module__}.{type(inner).__name__}"
        state = getattr(inner, "sqlstate", None) or getattr(inner, "sqlite_errorname", None)
        name += f" {state})" if state else ")"
    return name
