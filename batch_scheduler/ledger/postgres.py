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
from batch_scheduler.ledger.sql import normalise_base_url, utc_now

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
        and the client waits only where it needs an answer (which keys a mark took) and at
        the end, for the COMMIT. It returns only once that is committed."""
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

    def run_many(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        with self._lost(), self._connection().cursor() as cursor:
            cursor.executemany(self._text(sql), params)

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
