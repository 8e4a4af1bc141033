"""The SQLite ledger's files: the private state directory and the database file's schema.

The directory is 0700 and the database 0600: it holds personal data. Several runs may use
one state directory at once (the web page beside a CLI run): they share the file, and the
per-key claims (claims.py) keep them off each other's keys; SQLite's WAL journal lets them
read while one writes, and a writer waits its turn (busy_timeout). Opening checks the schema
version: an older one is brought up to date (schema.py), a newer one refused, so a ledger is
never misread.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from batch_scheduler.errors import LedgerError
from batch_scheduler.i18n import _
from batch_scheduler.ledger.schema import (
    SCHEMA_VERSION,
    SQLITE,
    steps,
    too_new,
    version_statement,
)


def make_private_dir(path: Path) -> None:
    """Create the state directory 0700; an existing one is left as the user made it."""
    if path.is_dir():
        return
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask
    except OSError as exc:
        words = _("The state directory {path} cannot be created ({why}); use --state-dir.")
        raise LedgerError(words.format(path=path, why=exc.strerror)) from None


def connect_writable(path: Path) -> sqlite3.Connection:
    # Create the file ourselves so it is 0600 from the first byte; SQLite gives the -wal
    # and -shm files the database file's permissions.
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)
    conn = sqlite3.connect(path, isolation_level=None)
    with _closed_on_error(conn, path):
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        _ensure_schema(conn, path)
    return conn


def connect_readonly(path: Path) -> sqlite3.Connection | None:
    """A read-only connection, or None when the file holds no ledger yet."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    with _closed_on_error(conn, path):
        conn.execute("PRAGMA busy_timeout = 5000")
        version = _schema_version(conn)
        if version is None:
            conn.close()
            return None
        _check_version(version, path)
    return conn


@contextlib.contextmanager
def _closed_on_error(conn: sqlite3.Connection, path: Path) -> Iterator[None]:
    """Close a half-opened connection on any error; explain a file SQLite cannot use."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise LedgerError(
            _("The ledger {path} cannot be used ({why}).").format(path=path, why=exc)
        ) from None
    except BaseException:
        conn.close()
        raise


def _schema_version(conn: sqlite3.Connection) -> int | None:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if not exists:
        return None
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return None if row is None or row[0] is None else int(row[0])


def _check_version(version: int, path: Path) -> None:
    if too_new(version):
        raise LedgerError(
            _(
                "The ledger {path} was written by a newer batch-scheduler (schema version "
                "{version}; this one understands up to {known}). Upgrade batch-scheduler, or use "
                "--state-dir to start a separate ledger."
            ).format(path=path, version=version, known=SCHEMA_VERSION)
        )
    if version < 1:
        words = _("The ledger {path} has an invalid schema version ({version}).")
        raise LedgerError(words.format(path=path, version=version))


def _ensure_schema(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _schema_version(conn)
        if version is not None:
            _check_version(version, path)
        if version != SCHEMA_VERSION:
            for statement in steps(SQLITE, version or 0):
                conn.execute(statement)
            conn.execute(version_statement(version))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def empty_schema() -> sqlite3.Connection:
    """An in-memory ledger with no entries (a dry run where no ledger file exists yet)."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for statement in steps(SQLITE, 0):
        conn.execute(statement)
    return conn
