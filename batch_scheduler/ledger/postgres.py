"""The shared ledger in PostgreSQL (`state_url = "postgresql://..."`): for teams booking from
several machines, and for jobs on machines that keep nothing between runs.

The same tables, statements, states and claims as the SQLite ledger (sql.py, account.py); only
how they run differs: psycopg 3, with connections from a pool (psycopg_pool, one pool per
database per process, so the web page's jobs and a run's lease renewals share connections).
The schema is made, and brought up to date, by the tool (schema.py), under an advisory lock
so two runs starting at once do not both make it.

Every commit is durable on the server before the call returns, so a request leaves only once
its claim and SENDING mark are stored there. A database that cannot be reached when the run
starts is a LedgerError (exit 3, nothing sent); one lost mid-run raises LedgerUnavailable,
which stops the run (exit 4, partial results written). Messages and logs name the host,
port and database, never the password. TCP keepalives and a user timeout make a silent
network loss an error within ~30 s instead of a hang.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool, PoolTimeout

from batch_scheduler.errors import LedgerContention, LedgerError, LedgerUnavailable
from batch_scheduler.i18n import _
from batch_scheduler.ledger.account import IndexedLedger
from batch_scheduler.ledger.claims import DEFAULT_LEASE
from batch_scheduler.ledger.schema import (
    POSTGRES,
    SCHEMA_VERSION,
    steps,
    too_new,
    version_statement,
)
from batch_scheduler.ledger.sql import Later, normalise_base_url, utc_now
from batch_scheduler.ledger.statements import MARK_SENDING, RECORD, as_arrays

CONNECT_TIMEOUT = 10  # seconds to reach the server
# a silent network (no reset) is noticed within ~30 s, instead of a run that hangs
_TCP = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
        "keepalives_count": 3, "tcp_user_timeout": 30_000}  # fmt: skip
_MIGRATION_LOCK = 7_216_425_001  # pg_advisory_xact_lock key: one schema change at a time
_LOST = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout)
_CONTENTION = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)

# the pool's own attempts to reconnect to a database that went away would repeat, line after
# line, what LedgerUnavailable says once (and it names the host, port and database anyway)
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
logger = logging.getLogger(__name__)

_pools: dict[str, ConnectionPool[psycopg.Connection[Any]]] = {}
_pools_lock = threading.Lock()


def where(url: str) -> str:
    """The database as people may see it: host:port/database, never the password."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "the state_url given"
    host = str(parts.get("host") or "localhost")
    return f"{host}:{parts.get('port') or 5432}/{parts.get('dbname') or parts.get('user') or ''}"


def password_of(url: str) -> str | None:
    try:
        value = conninfo_to_dict(url).get("password")
    except psycopg.ProgrammingError:
        return None
    return str(value) if value else None


class PostgresLedger(IndexedLedger):
    """The ledger of one base URL in a PostgreSQL database."""

    backend = "PostgreSQL"
    begin_statement = "BEGIN"
    reads_after_commit = True

    def __init__(
        self,
        pool: ConnectionPool[psycopg.Connection[Any]],
        *,
        base_url: str,
        location: str,
        clock: Callable[[], datetime] = utc_now,
        readonly: bool = False,
        lease: float = DEFAULT_LEASE,
    ) -> None:
        """Use `open`; this only wires the parts together."""
        super().__init__(
            base_url=base_url, location=location, clock=clock, readonly=readonly, lease=lease
        )
        self._pool = pool
        self._sql: dict[str, str] = {}
        self._pipeline: psycopg.Pipeline | None = None  # while a batch is under way
        with self._lost():
            self._conn: psycopg.Connection[Any] | None = pool.getconn(timeout=CONNECT_TIMEOUT)

    @classmethod
    def open(
        cls,
        url: str,
        *,
        base_url: str,
        clock: Callable[[], datetime] = utc_now,
        lease: float = DEFAULT_LEASE,
        readonly: bool = False,
    ) -> PostgresLedger:
        """Connect (making or updating the schema unless `readonly`); LedgerError if the
        database cannot be reached or used."""
        location = where(url)
        pool = _pool_for(url, migrate=not readonly)
        logger.info("ledger: the PostgreSQL database %s", location)  # never the password
        return cls(pool, base_url=normalise_base_url(base_url), location=location,
                   clock=clock, readonly=readonly, lease=lease)  # fmt: skip

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(Exception):
                self._pool.putconn(conn)

    # ------------------------------------------------------------------ the SQL, run

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lost():
            return self._connection().execute(self._text(sql), params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._lost():
            cursor = self._connection().execute(self._text(sql), params)
            if self._pipeline is not None and cursor.rowcount < 0:
                self._pipeline.sync()  # its count is known once its answer is in
            return cursor.rowcount

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """SqlLedger.batch in pipeline mode: BEGIN, the writes and COMMIT travel together,
        and the client waits once, at the end, for all their answers: it returns only once
        the COMMIT is done (or raises what failed: then nothing of the batch was written).
        Which keys a mark took is read from those answers afterwards (`returned_later`)."""
        try:
            with self._lost(), self._connection().pipeline() as pipeline:
                self._pipeline = pipeline
                with super().batch():
                    yield
        except BaseException:
            self._pipeline = None
            self._rollback()  # out of the pipeline: a transaction an error left open ends
            raise
        finally:
            self._pipeline = None

    def control(self, statement: str) -> None:
        if self._pipeline is None:
            self.run(statement)
            return
        with self._lost():  # its answer is awaited with the others' when the batch ends
            self._connection().execute(statement)

    def returned_later(self, sql: str, params: Sequence[Sequence[Any]]) -> Later[set[str]]:
        if self._pipeline is None:
            return super().returned_later(sql, params)
        with self._lost():  # sent now; the answers come in when the batch ends
            cursors = self._send_many(sql, params)

        def taken() -> set[str]:
            with self._lost():
                return {str(row[0]) for cursor in cursors for row in cursor.fetchall()}

        return taken

    def run_many(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        if sql not in _ARRAYS:
            with self._lost(), self._connection().cursor() as cursor:
                cursor.executemany(self._text(sql), params)
            return
        with self._lost():  # in a batch: sent now, its answer awaited when the batch ends
            self._send_many(sql, params)

    def _send_many(self, sql: str, params: Sequence[Sequence[Any]]) -> list[psycopg.Cursor[Any]]:
        """Send `sql` for every row of `params`: as one statement per part without a
        repeated key where it has an array form (`as_arrays`), else one per row."""
        conn = self._connection()
        if sql not in _ARRAYS:
            text = self._text(sql)
            return [conn.execute(text, row_params) for row_params in params]
        text, width = _ARRAYS[sql][0], len(_ARRAYS[sql][1])
        return [conn.execute(text, _columns(part, width)) for part in _distinct_keys(params)]

    def returned(self, sql: str, params: Sequence[Sequence[Any]]) -> set[str]:
        out: set[str] = set()
        if not params:
            return out
        with self._lost(), self._connection().cursor() as cursor:
            cursor.executemany(self._text(sql), params, returning=True)
            while True:
                out.update(str(row[0]) for row in cursor.fetchall())
                if not cursor.nextset():
                    break
        return out

    def stamp(self, moment: datetime) -> Any:
        return moment.astimezone(UTC)

    def _text(self, sql: str) -> str:
        """The statement with psycopg's placeholders (the SQL is written with `?`)."""
        text = self._sql.get(sql)
        if text is None:
            text = self._sql[sql] = sql.replace("?", "%s")
        return text

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            raise LedgerUnavailable(_lost_words(self.location, "the connection was closed"))
        return self._conn

    @contextlib.contextmanager
    def _lost(self) -> Iterator[None]:
        """A connection lost (or never had) is LedgerUnavailable: the run stops cleanly. A
        transaction the server undoes to break a deadlock with another run's is
        LedgerContention: it is tried again."""
        try:
            yield
        except _CONTENTION as exc:
            raise LedgerContention(_first_line(exc)) from None
        except _LOST as exc:
            raise LedgerUnavailable(_lost_words(self.location, _first_line(exc))) from None


# ---------------------------------------------------------------- many rows in one statement

_TEXT, _TIME = "text", "timestamptz"
_MARK_TYPES = (_TEXT,) * 6 + (_TIME,) * 2  # base_url ... owner, lease_until, updated_at
_RECORD_TYPES = (_TEXT,) * 9 + (_TIME,)  # base_url ... error, updated_at
# psycopg's placeholders; the arrays travel in binary (%b): quoting text arrays in Python
# cost more client time than the round trips this saves
_ARRAYS = {
    sql: (as_arrays(sql, types).replace("?::", "%b::").replace("?", "%s"), types)
    for sql, types in ((MARK_SENDING, _MARK_TYPES), (RECORD, _RECORD_TYPES))
}


def _distinct_keys(params: Sequence[Sequence[Any]]) -> list[list[Sequence[Any]]]:
    """Rows split into parts without a repeated key (base_url, operation, key: the first
    three values), each key's rows in order: its first in the first part, and so on."""
    parts: list[list[Sequence[Any]]] = []
    seen: dict[tuple[Any, ...], int] = {}
    for row in params:
        key = tuple(row[:3])
        index = seen[key] = seen.get(key, -1) + 1
        if index == len(parts):
            parts.append([])
        parts[index].append(row)
    return parts


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[Any]:
    """The parameters of `as_arrays`: the first `width` values of the rows as arrays, then
    the values after them (the same in every row)."""
    rest = list(rows[0][width:])
    if any(list(row[width:]) != rest for row in rows):
        raise ValueError("The values after VALUES differ between rows.")
    return [[row[i] for row in rows] for i in range(width)] + rest


# ---------------------------------------------------------------- connecting


def _pool_for(url: str, *, migrate: bool) -> ConnectionPool[psycopg.Connection[Any]]:
    """This process's pool for `url`, made (after a first connection that checks the URL
    and the schema) on first use."""
    with _pools_lock:
        pool = _pools.get(url)
        if pool is not None:
            return pool
        conninfo = _with_timeouts(url)
        _check_and_migrate(conninfo, where(url), migrate=migrate)
        pool = ConnectionPool(
            conninfo, min_size=1, max_size=8, kwargs={"autocommit": True},
            check=ConnectionPool.check_connection, open=True, name="batch-scheduler-ledger",
        )  # fmt: skip
        _pools[url] = pool
        return pool


def _with_timeouts(url: str) -> str:
    given = conninfo_to_dict(url)
    extra = {k: v for k, v in {**_TCP, "connect_timeout": CONNECT_TIMEOUT}.items()
             if k not in given}  # fmt: skip
    return make_conninfo(url, **extra)


def _check_and_migrate(conninfo: str, location: str, *, migrate: bool) -> None:
    """Connect once: a clear LedgerError now beats a pool retrying in the background."""
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            version = _version(conn)
            if version is not None and too_new(version):
                words = _(
                    "The ledger database {location} was written by a newer batch-scheduler "
                    "(schema version {version}; this one understands up to {known}). Upgrade "
                    "batch-scheduler, or point state_url at another database."
                )
                raise LedgerError(
                    words.format(location=location, version=version, known=SCHEMA_VERSION)
                )
            if migrate and version != SCHEMA_VERSION:
                _migrate(conn)
    except (psycopg.Error, PoolTimeout) as exc:
        words = _(
            "The ledger database {location} cannot be used: {why}. Check state_url "
            "(BATCH_SCHEDULER_STATE_URL or the config file): host, port, database, user and "
            "password. Nothing was sent."
        )
        raise LedgerError(words.format(location=location, why=_first_line(exc))) from None


def _version(conn: psycopg.Connection[Any]) -> int | None:
    exists = conn.execute("SELECT to_regclass('schema_version')").fetchone()
    if exists is None or exists[0] is None:
        return None
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return None if row is None or row[0] is None else int(row[0])


def _migrate(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        version = _version(conn)  # again: another run may have done it while we waited
        if version == SCHEMA_VERSION:
            return
        for statement in steps(POSTGRES, version or 0):
            conn.execute(statement)
        conn.execute(version_statement(version))


def has_schema(url: str) -> bool:
    """Whether the database at `url` holds a ledger yet (a dry run reads nothing else)."""
    try:
        with psycopg.connect(_with_timeouts(url), autocommit=True) as conn:
            return _version(conn) is not None
    except psycopg.Error as exc:
        words = _("The ledger database {location} cannot be used: {why}.")
        raise LedgerError(words.format(location=where(url), why=_first_line(exc))) from None


@atexit.register
def _close_pools() -> None:
    with _pools_lock:
        for pool in _pools.values():
            with contextlib.suppress(Exception):
                pool.close(timeout=1)
        _pools.clear()


def forget_pools() -> None:
    """Close every pool (tests whose database went away and came back use it)."""
    _close_pools()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0].rstrip(".") if text else type(exc).__name__


def _lost_words(location: str, reason: str) -> str:
    return (
        f"The ledger database {location} stopped answering ({reason}). The run stopped "
        "and nothing more was sent; run it again once the database is back: rows sent "
        "without an answer are checked with the API first."
    )
