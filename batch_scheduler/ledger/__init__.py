"""The ledger: what was claimed, sent and answered, per key, durably (exactly once).

Takes a state directory and the API's base URL; gives a Ledger that the sender marks before
each request goes out (SENDING, committed first) and records each answer in, so a re-run,
a resume after a crash, or next week's overlapping file never books a reference twice.
The states and their arrows are drawn in store.py.

    store.py         Ledger (SQLite): entries by (base URL, operation, key); mark_sending, record
    entries.py       the entry, the update, the states, and a stored answer decoded on use
    files.py         the private state directory, its lock, the SQLite file and its schema
    group_commit.py  GroupCommit: the marks and answers of a few event-loop turns share one
                     transaction; a request leaves only once its mark is committed

`LedgerBackend` is what the sender and triage use of a ledger: a second backend (another
database shared by several machines) implements the same methods with the same promises.
"""

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from batch_scheduler.ledger.entries import CANCEL, CREATE, EntryState, LedgerEntry, LedgerUpdate
from batch_scheduler.ledger.group_commit import GroupCommit
from batch_scheduler.ledger.store import Ledger


class LedgerBackend(Protocol):
    """The ledger's interface; `store.Ledger` (SQLite) is the one backend today.

    The promises every backend keeps: `mark_sending` is durable when it returns (or, inside
    `batch`, when the batch ends), and refuses with LedgerConflictError a key that is DONE,
    SENDING or UNKNOWN; `record` never changes the attempts; reads see this process's
    committed writes.
    """

    base_url: str

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
    ) -> None: ...

    def record(self, updates: Sequence[LedgerUpdate]) -> None: ...

    def batch(self) -> AbstractContextManager[None]: ...


__all__ = [
    "CANCEL",
    "CREATE",
    "EntryState",
    "GroupCommit",
    "Ledger",
    "LedgerBackend",
    "LedgerEntry",
    "LedgerUpdate",
]
