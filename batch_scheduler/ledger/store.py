"""The durable exactly-once ledger: what was sent, and what came back, per key.

A create whose outcome is unknown (timeout, dropped connection, 500/502/504) may have been
stored by the server. So before each request goes out the sender marks its key SENDING
(committed first), and when the answer comes back it records it. A re-run, a resume after a
crash or kill -9, or next week's file with an overlapping row then finds the key and never
books the same reference twice.

Entries are keyed by (base_url, operation, key): key is the reference for "create" and the
appointment id for "cancel". The base URL is part of the key, so a sandbox run never
satisfies a production run.

States and what may follow them (`mark_sending` enforces the arrows into SENDING):

    (none), REJECTED, NOT_APPLIED --mark_sending--> SENDING --record--> any other state
    SENDING found at start-up, UNKNOWN --> reconcile with the server, then record
        DONE (found) or NOT_APPLIED (not there), and only then send again
    DONE is final: the key is never sent again

The file lives in the state directory (0700), is itself 0600 and holds personal data and
host links from the API's answers: it is never logged. One run at a time holds the state
directory (an exclusive flock on `lock`, released on close or when the process dies).

Not thread-safe: one Ledger, one sqlite3 connection, used from the thread that opened it
(the sender's event loop thread).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from batch_scheduler.errors import LedgerConflictError
from batch_scheduler.ledger.entries import (
    COLUMNS,
    CREATE,
    OPERATIONS,
    EntryState,
    LedgerEntry,
    LedgerUpdate,
    entry_from_row,
    json_text,
)
from batch_scheduler.ledger.files import (
    SCHEMA,
    acquire_lock,
    connect_readonly,
    connect_writable,
    make_private_dir,
)

_CHUNK = 500  # keys per IN (...) query: far below SQLite's variable limit

_MARK_SENDING = """
INSERT INTO entries (base_url, operation, key, state, attempts, reference, run_id, updated_at)
VALUES (?, ?, ?, 'sending', 1, ?, ?, ?)
ON CONFLICT (base_url, operation, key) DO UPDATE SET
    state = 'sending',
    attempts = attempts + 1,
    reference = COALESCE(excluded.reference, reference),
    error = NULL,
    run_id = excluded.run_id,
    updated_at = excluded.updated_at
"""

_RECORD = """
INSERT INTO entries (base_url, operation, key, state, attempts, reference, appointment_id,
                     status, response, error, updated_at)
VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)
ON CONFLICT (base_url, operation, key) DO UPDATE SET
    state = excluded.state,
    reference = COALESCE(excluded.reference, reference),
    appointment_id = COALESCE(excluded.appointment_id, appointment_id),
    status = COALESCE(excluded.status, status),
    response = COALESCE(excluded.response, response),
    error = excluded.error,
    updated_at = excluded.updated_at
"""


_SENDABLE = (EntryState.REJECTED.value, EntryState.NOT_APPLIED.value)
_UNRESOLVED = (EntryState.SENDING.value, EntryState.UNKNOWN.value)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def normalise_base_url(base_url: str) -> str:
    """The base URL as stored: without a trailing slash, so both spellings match."""
    url = base_url.strip().rstrip("/")
    if not url:
        raise ValueError("The ledger needs a non-empty base URL.")
    return url


def _check_operation(operation: str) -> None:
    if operation not in OPERATIONS:
        raise ValueError(f"Unknown ledger operation {operation!r}; expected one of {OPERATIONS}.")


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Ledger:
    """The SQLite ledger of one base URL, in one state directory. See the module docstring."""

    FILE_NAME = "ledger.sqlite3"

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        base_url: str,
        clock: Callable[[], datetime],
        lock_fd: int | None,
        readonly: bool,
    ) -> None:
        """Use `open` or `open_readonly`; this only wires the parts together."""
        self.base_url = base_url
        self._conn = conn
        self._clock = clock
        self._lock_fd = lock_fd
        self._readonly = readonly
        self._batching = False  # inside batch(): writes are savepoints of one transaction

    # ------------------------------------------------------------------ opening and closing

    @classmethod
    def open(
        cls,
        state_dir: Path,
        *,
        base_url: str,
        clock: Callable[[], datetime] = _utc_now,
    ) -> Ledger:
        """Open (creating if needed) the ledger for writing, holding the state directory.

        The directory is made 0700 and the database 0600 (it holds personal data). The
        journal is WAL with synchronous=NORMAL: every commit reaches the operating system
        before the call returns, so it survives a crash or kill -9 of this process, which
        is what exactly-once needs; only an OS crash or power loss may lose the last
        commits. Raises StateLockedError if another process (or another Ledger in this
        one) holds the directory, LedgerError if the file is unusable.
        """
        url = normalise_base_url(base_url)
        state_dir = Path(state_dir)
        make_private_dir(state_dir)
        lock_fd = acquire_lock(state_dir)
        try:
            conn = connect_writable(state_dir / cls.FILE_NAME)
        except BaseException:
            os.close(lock_fd)
            raise
        return cls(conn, base_url=url, clock=clock, lock_fd=lock_fd, readonly=False)

    @classmethod
    def open_readonly(cls, state_dir: Path, *, base_url: str) -> Ledger:
        """Open for reading only (--dry-run): no lock, no writes.

        Works while a real run holds the directory (WAL readers do not block the writer).
        A missing database reads as an empty ledger and nothing is created; on an existing
        one SQLite may add its -wal and -shm side files (they hold no new data).
        """
        url = normalise_base_url(base_url)
        path = Path(state_dir) / cls.FILE_NAME
        conn = connect_readonly(path) if path.is_file() else None
        if conn is None:
            conn = sqlite3.connect(":memory:", isolation_level=None)
            conn.executescript(SCHEMA)
        return cls(conn, base_url=url, clock=_utc_now, lock_fd=None, readonly=True)

    def close(self) -> None:
        """Close the database, then release the state directory."""
        self._conn.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ reading

    def get(self, operation: str, key: str) -> LedgerEntry | None:
        _check_operation(operation)
        row = self._conn.execute(
            f"SELECT {COLUMNS} FROM entries WHERE base_url = ? AND operation = ? AND key = ?",
            (self.base_url, operation, key),
        ).fetchone()
        return entry_from_row(row) if row else None

    def get_many(self, operation: str, keys: Iterable[str]) -> dict[str, LedgerEntry]:
        """The entries that exist among `keys`, by key (missing keys are left out)."""
        _check_operation(operation)
        out: dict[str, LedgerEntry] = {}
        for chunk in _chunks(sorted(set(keys))):  # sorted: neighbouring index pages
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT {COLUMNS} FROM entries "
                f"WHERE base_url = ? AND operation = ? AND key IN ({marks})",
                (self.base_url, operation, *chunk),
            )
            for row in rows:
                out[row[2]] = entry_from_row(row)
        return out

    def unresolved(self, operation: str) -> list[LedgerEntry]:
        """SENDING or UNKNOWN entries: their outcome must be checked with the server."""
        _check_operation(operation)
        rows = self._conn.execute(
            f"SELECT {COLUMNS} FROM entries "
            "WHERE base_url = ? AND operation = ? AND state IN (?, ?) ORDER BY updated_at, key",
            (self.base_url, operation, *_UNRESOLVED),
        )
        return [entry_from_row(row) for row in rows]

    def find_created(self, reference: str) -> LedgerEntry | None:
        """The DONE create entry for `reference` (so a cancel by reference knows the id)."""
        entry = self.get(CREATE, reference)
        return entry if entry and entry.state is EntryState.DONE else None

    # ------------------------------------------------------------------ writing

    def mark_sending(
        self,
        operation: str,
        keys: Sequence[str],
        run_id: str,
        references: Mapping[str, str] | None = None,
    ) -> None:
        """Record, in one committed transaction, that requests for `keys` are about to go out.

        Call it before sending (inside `batch`, send only once the batch has committed);
        attempts += 1. Refuses (LedgerConflictError, nothing
        written) a duplicate key, or a key whose state is DONE, UNKNOWN or SENDING: those
        must not be sent now. To resend after reconciliation found nothing, first record
        NOT_APPLIED. For "create", the reference defaults to the key.
        """
        _check_operation(operation)
        self._check_writable()
        if len(set(keys)) != len(keys):
            raise LedgerConflictError("mark_sending was given the same key twice in one batch.")
        references = references or {}
        now = self._now()
        params = [
            (
                self.base_url,
                operation,
                key,
                references.get(key, key if operation == CREATE else None),
                run_id,
                now,
            )
            for key in keys
        ]
        with self._transaction():
            self._refuse_unsendable(operation, keys)
            self._conn.executemany(_MARK_SENDING, params)

    def record(self, updates: Sequence[LedgerUpdate]) -> None:
        """Record a batch of answers in one committed transaction; attempts are unchanged.

        Fields given as None keep their previous value, except `error`, which is replaced.
        A key with no entry yet (e.g. found by reconciliation) is added with 0 attempts.
        """
        self._check_writable()
        now = self._now()
        params = [self._record_params(update, now) for update in updates]
        with self._transaction():
            self._conn.executemany(_RECORD, params)

    # ------------------------------------------------------------------ helpers

    def _record_params(self, update: LedgerUpdate, now: str) -> tuple[Any, ...]:
        _check_operation(update.operation)
        state = EntryState(update.state)
        if state is EntryState.SENDING:
            raise ValueError("Use mark_sending, not record, to mark a key as sending.")
        reference = update.reference
        if reference is None and update.operation == CREATE:
            reference = update.key
        return (
            self.base_url,
            update.operation,
            update.key,
            state.value,
            reference,
            update.appointment_id,
            update.status,
            json_text(update.response),
            update.error,
            now,
        )

    def _refuse_unsendable(self, operation: str, keys: Sequence[str]) -> None:
        states: set[str] = set()
        blocked = 0
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                "SELECT state FROM entries WHERE base_url = ? AND operation = ? "
                f"AND key IN ({marks}) AND state NOT IN (?, ?)",
                (self.base_url, operation, *chunk, *_SENDABLE),
            )
            for (state,) in rows:
                states.add(state)
                blocked += 1
        if blocked:
            raise LedgerConflictError(
                f"{blocked} {operation} key(s) must not be sent now (ledger states: "
                f"{', '.join(sorted(states))}); DONE is final, UNKNOWN/SENDING need reconciliation "
                "and a NOT_APPLIED record first."
            )

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Make every write inside one transaction: one commit for all of them (group commit).

        Nothing inside is durable until the block ends; a write that raises inside is undone
        on its own (a savepoint) and the others still commit. An error outside any write
        undoes the whole batch.
        """
        self._check_writable()
        if self._batching:
            raise RuntimeError("Ledger.batch() cannot be nested.")
        self._conn.execute("BEGIN IMMEDIATE")
        self._batching = True
        try:
            yield
        except BaseException:
            self._batching = False
            self._conn.execute("ROLLBACK")
            raise
        self._batching = False
        self._conn.execute("COMMIT")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write: its own committed transaction, or a savepoint inside `batch`."""
        begin, undo, end = (
            ("SAVEPOINT write", "ROLLBACK TO write", "RELEASE write")
            if self._batching
            else ("BEGIN IMMEDIATE", "ROLLBACK", "COMMIT")
        )
        self._conn.execute(begin)
        try:
            yield
        except BaseException:
            self._conn.execute(undo)
            if self._batching:
                self._conn.execute(end)
            raise
        self._conn.execute(end)

    def _check_writable(self) -> None:
        if self._readonly:
            raise RuntimeError("This ledger was opened read-only (dry run); it cannot record.")

    def _now(self) -> str:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("The ledger clock must return timezone-aware datetimes.")
        return now.astimezone(UTC).isoformat()
