"""The web page's own SQLite file (state_dir/web/web.sqlite3): accounts, sessions, jobs, audit.

Kept apart from the exactly-once ledger, which it never touches: the page decides nothing
about what is sent. One short-lived connection per call (cheap, and safe from any thread:
request handlers run in a thread pool, the jobs on the worker thread). WAL, so readers never
wait for the worker's progress writes. The file and its folder are private (0600/0700).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sign_in_failures (
    name TEXT PRIMARY KEY,          -- folded user name, known or not (no hint either way)
    failures INTEGER NOT NULL,
    locked_until TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,       -- sha256 of the cookie value: a stolen file gives no cookie
    user_name TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,             -- book | cancel | allocate: what the upload is
    state TEXT NOT NULL,
    file_name TEXT NOT NULL,
    input_name TEXT NOT NULL,       -- the stored file's name in the job's folder
    sheet TEXT,
    uploaded_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    booked_by TEXT,
    booked_at TEXT,
    finished_at TEXT,
    previous_id INTEGER,            -- the upload this one corrects (for "fixed N, new M")
    parent_id INTEGER,              -- the job whose appointments this one cancels
    message TEXT,                   -- why a job stopped, in plain words
    check_json TEXT,                -- counts from the check
    progress_json TEXT,             -- counts while sending, kept after a restart
    outcomes_json TEXT,             -- counts per outcome when finished
    files_deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_by_time ON jobs (created_at);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user_name TEXT,
    action TEXT NOT NULL,
    job_id INTEGER,
    detail TEXT NOT NULL DEFAULT ''  -- counts and codes only, never a claimant's data
);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at);
"""
# Version -> what brings a database of the version before up to it (in one transaction).
_MIGRATIONS: dict[int, str] = {
    # the language each user chose on the page (cy, en); NULL: not chosen, use the default
    2: "ALTER TABLE users ADD COLUMN language TEXT",
}


class WebDb:
    """Opens connections on the web page's database, creating it (privately) on first use."""

    FILE_NAME = "web.sqlite3"

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / self.FILE_NAME
        make_private_dir(self.folder)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        with self.connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            if conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 0:
                conn.execute("INSERT INTO schema_version VALUES (1)")
            _migrate(conn)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode; use `with conn:` for a transaction."""
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA busy_timeout=10000")
            yield conn
        finally:
            conn.close()


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring the database up to SCHEMA_VERSION in one transaction (BEGIN IMMEDIATE: a
    second process opening it at the same time waits, then finds it done). A newer file is
    left as it is: an older program only uses a subset of its columns."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
        for target in range(version + 1, SCHEMA_VERSION + 1):
            conn.execute(_MIGRATIONS[target])
            conn.execute("UPDATE schema_version SET version = ?", (target,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def make_private_dir(path: Path) -> None:
    """Create `path` (and parents) readable by its owner only."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
