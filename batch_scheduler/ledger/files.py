"""The ledger's files: the private state directory, its lock, and the SQLite file's schema.

One run at a time holds the state directory (an exclusive flock on `lock`, released on
close or when the process dies). The directory is 0700 and the database 0600: it holds
personal data. Opening checks the schema version, so a newer ledger is never misread.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from batch_scheduler.errors import LedgerError, StateLockedError
from batch_scheduler.i18n import _

SCHEMA_VERSION = 1
LOCK_NAME = "lock"

SCHEMA = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE entries (
    id INTEGER PRIMARY KEY,
    base_url TEXT NOT NULL,
    operation TEXT NOT NULL,
    key TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    reference TEXT,
    appointment_id TEXT,
    status TEXT,
    response TEXT,
    error TEXT,
    run_id TEXT,
    updated_at TEXT NOT NULL,
    UNIQUE (base_url, operation, key)
);
CREATE INDEX entries_by_state ON entries (base_url, operation, state);
"""


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


def acquire_lock(state_dir: Path) -> int:
    """Take the exclusive, non-blocking flock on state_dir/lock and write our pid into it.

    The descriptor is not inherited by child processes (Python's default), so the lock
    ends with this process, however it ends.
    """
    path = state_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        words = _("The state directory {folder} cannot be used ({why}); use --state-dir.")
        raise LedgerError(words.format(folder=state_dir, why=exc.strerror)) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_pid(fd)
        os.close(fd)
        raise StateLockedError(
            _(
                "Another batch-scheduler run (pid {pid}) is using the state directory "
                "{folder}; wait for it to finish, or use --state-dir"
            ).format(pid=holder, folder=state_dir)
        ) from None
    except BaseException:
        os.close(fd)
        raise
    os.fchmod(fd, 0o600)  # the umask may have narrowed it at creation
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _read_pid(fd: int) -> str:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return text if text.isdigit() else "unknown"


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
    if version > SCHEMA_VERSION:
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
        if version is None:
            for statement in filter(str.strip, SCHEMA.split(";")):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        else:
            _check_version(version, path)  # migrations from older versions go here
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
