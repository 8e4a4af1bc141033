"""The SQLite ledger (the default): a file in the state directory, ledger.sqlite3.

A create whose outcome is unknown (timeout, dropped connection, 500/502/504) may have been
stored by the server. So before each request goes out the sender marks its key SENDING
(committed first), and when the answer comes back it records it. A re-run, a resume after a
crash or kill -9, or next week's file with an overlapping row then finds the key and never
books the same reference twice. The states, their arrows and the per-key claims are sql.py's.

The file lives in the state directory (0700), is itself 0600 and holds personal data and
host links from the API's answers: it is never logged. Several runs may share it (files.py);
a claim of a run of this machine whose process is gone is let go at once (claims.py), so a
re-run right after a kill -9 goes on without waiting for the dead run's leases.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from batch_scheduler.ledger.account import IndexedLedger
from batch_scheduler.ledger.claims import DEFAULT_LEASE
from batch_scheduler.ledger.files import (
    connect_readonly,
    connect_writable,
    empty_schema,
    make_private_dir,
)
from batch_scheduler.ledger.sql import normalise_base_url, utc_now

__all__ = ["Ledger", "normalise_base_url"]


class Ledger(IndexedLedger):
    """The SQLite ledger of one base URL, in one state directory."""

    FILE_NAME = "ledger.sqlite3"
    backend = "SQLite"
    begin_statement = "BEGIN IMMEDIATE"
    reaps_local_owners = True

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        base_url: str,
        location: str,
        clock: Callable[[], datetime] = utc_now,
        readonly: bool = False,
        lease: float = DEFAULT_LEASE,
    ) -> None:
        """Use `open` or `open_readonly`; this only wires the parts together."""
        super().__init__(
            base_url=base_url, location=location, clock=clock, readonly=readonly, lease=lease
        )
        self._conn = conn

    @classmethod
    def open(
        cls,
        state_dir: Path,
        *,
        base_url: str,
        clock: Callable[[], datetime] = utc_now,
        lease: float = DEFAULT_LEASE,
    ) -> Ledger:
        """Open (creating if needed) the ledger for writing.

        The directory is made 0700 and the database 0600 (it holds personal data). The
        journal is WAL with synchronous=NORMAL: every commit reaches the operating system
        before the call returns, so it survives a crash or kill -9 of this process, which
        is what exactly-once needs; only an OS crash or power loss may lose the last
        commits. Raises LedgerError if the file is unusable.
        """
        url = normalise_base_url(base_url)
        state_dir = Path(state_dir)
        make_private_dir(state_dir)
        path = state_dir / cls.FILE_NAME
        conn = connect_writable(path)
        return cls(conn, base_url=url, location=str(path), clock=clock, lease=lease)

    @classmethod
    def open_readonly(cls, state_dir: Path, *, base_url: str) -> Ledger:
        """Open for reading only (--dry-run): no writes.

        Works while a run writes (WAL readers do not block the writer). A missing database
        reads as an empty ledger and nothing is created; on an existing one SQLite may add
        its -wal and -shm side files (they hold no new data).
        """
        url = normalise_base_url(base_url)
        path = Path(state_dir) / cls.FILE_NAME
        conn = connect_readonly(path) if path.is_file() else None
        if conn is None:
            return cls.empty(base_url=url, location=str(path))
        return cls(conn, base_url=url, location=str(path), readonly=True)

    @classmethod
    def empty(cls, *, base_url: str, location: str) -> Ledger:
        """A read-only ledger with no entries: a dry run where no ledger exists yet."""
        url = normalise_base_url(base_url)
        return cls(empty_schema(), base_url=url, location=location, readonly=True)

    def close(self) -> None:
        self._conn.close()

    # ------------------------------------------------------------------ the SQL, run

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, params).rowcount

    def run_many(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, params)

    def returned(self, sql: str, params: Sequence[Sequence[Any]]) -> set[str]:
        out: set[str] = set()
        for row_params in params:
            out.update(str(row[0]) for row in self._conn.execute(sql, row_params))
        return out

    def stamp(self, moment: datetime) -> Any:
        return moment.astimezone(UTC).isoformat(timespec="microseconds")
