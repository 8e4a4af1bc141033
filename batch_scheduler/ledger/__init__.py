"""The ledger: what was claimed, sent and answered, per key, durably (exactly once).

Takes where the ledger lives (a state directory, or a PostgreSQL `state_url` shared by
several machines) and the API's base URL; gives a ledger that the sender claims and marks
each key in before its request goes out (committed first) and records each answer in, so a
re-run, a resume after a crash, another machine's run, or next week's overlapping file never
books a reference twice. The states and their arrows are drawn in sql.py.

    sql.py           the entries, their states and the per-key claims, in SQL both run
    statements.py    the statements that write an entry, with the guards claims rely on
    claims.py        who holds a key (an owner and a lease), and why a key was refused
    account.py       the account index: the account's list as last read, and how far
    schema.py        the tables, and the steps from one schema version to the next
    store.py         Ledger: SQLite, ledger.sqlite3 in the state directory (the default)
    files.py         the private state directory, the SQLite file and its schema
    postgres.py      PostgresLedger: a PostgreSQL database, through a connection pool
    housekeeping.py  `ledger status` and `ledger prune`: counts, the oldest entry, retention
    entries.py       the entry, the update, the states, and a stored answer decoded on use
    group_commit.py  GroupCommit: the marks and answers of a few event-loop turns share one
                     transaction; a request leaves only once its mark is committed
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Protocol

from batch_scheduler.ledger.account import Cursor, IndexedLedger
from batch_scheduler.ledger.claims import DEFAULT_LEASE, Refusal
from batch_scheduler.ledger.entries import CANCEL, CREATE, EntryState, LedgerEntry, LedgerUpdate
from batch_scheduler.ledger.group_commit import GroupCommit
from batch_scheduler.ledger.sql import Later, utc_now
from batch_scheduler.ledger.store import Ledger
from batch_scheduler.models import Appointment


class LedgerBackend(Protocol):
    """The ledger's interface; `Ledger` (SQLite) and `PostgresLedger` implement it.

    The promises every backend keeps: `mark_sending` is durable when it returns (or, inside
    `batch`, when the batch ends), marks only keys whose state allows a send and that no
    other run holds, and returns the others as Refusals; `record` never changes the
    attempts, never moves DONE back, and writes NOT_APPLIED only for the run holding the key
    (or nobody); reads see every committed write, this process's and other runs'.
    """

    base_url: str
    location: str  # where it lives, for people (never a password)
    lease: float  # seconds a claim lasts unless renewed

    def get(self, operation: str, key: str) -> LedgerEntry | None: ...

    def get_many(self, operation: str, keys: Iterable[str]) -> dict[str, LedgerEntry]: ...

    def unresolved(self, operation: str) -> list[LedgerEntry]: ...

    def find_created(self, reference: str) -> LedgerEntry | None: ...

    def mark_sending(
        self,
        operation: str,
        keys: Sequence[str],
        run_id: str,
        references: Mapping[str, str] | None = None,
    ) -> dict[str, Refusal]: ...

    def mark_sending_later(
        self,
        operation: str,
        keys: Sequence[str],
        run_id: str,
        references: Mapping[str, str] | None = None,
    ) -> Later[dict[str, Refusal]]: ...

    def claim(self, operation: str, keys: Sequence[str], run_id: str) -> dict[str, Refusal]: ...

    def claim_later(
        self, operation: str, keys: Sequence[str], run_id: str
    ) -> Later[dict[str, Refusal]]: ...

    def renew(self, run_id: str) -> None: ...

    def release(self, run_id: str) -> None: ...

    def reap_dead_owners(self) -> int: ...

    def record(self, updates: Sequence[LedgerUpdate], run_id: str | None = None) -> None: ...

    def batch(self) -> AbstractContextManager[None]: ...

    def indexed(self, references: Iterable[str]) -> dict[str, list[Appointment]]: ...

    def add_to_index(self, appointments: Sequence[Appointment]) -> None: ...

    def account_cursor(self) -> Cursor | None: ...

    def save_cursor(self, cursor: Cursor) -> None: ...

    def forget_account(self) -> None: ...


def open_ledger(
    state_dir: Path,
    state_url: str | None,
    *,
    base_url: str,
    readonly: bool = False,
    lease: float = DEFAULT_LEASE,
    clock: Callable[[], datetime] = utc_now,
) -> IndexedLedger:
    """The ledger a run uses: the PostgreSQL database `state_url` names, else the SQLite file
    in `state_dir`. `readonly` (a dry run) writes nothing and creates nothing; `clock` is
    for tests that pin the times stored."""
    if state_url:
        from batch_scheduler.ledger import postgres  # psycopg is loaded only when used

        if readonly and not postgres.has_schema(state_url):
            return Ledger.empty(base_url=base_url, location=postgres.where(state_url))
        return postgres.PostgresLedger.open(
            state_url, base_url=base_url, lease=lease, readonly=readonly, clock=clock
        )
    if readonly:
        return Ledger.open_readonly(state_dir, base_url=base_url)
    return Ledger.open(state_dir, base_url=base_url, lease=lease, clock=clock)


__all__ = [
    "CANCEL",
    "CREATE",
    "Cursor",
    "EntryState",
    "GroupCommit",
    "IndexedLedger",
    "Ledger",
    "LedgerBackend",
    "LedgerEntry",
    "LedgerUpdate",
    "Refusal",
    "open_ledger",
]
