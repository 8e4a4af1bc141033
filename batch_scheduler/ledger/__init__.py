"""The ledger: what was claimed, sent and answered, per key, durably (exactly once).

Takes a state directory and the API's base URL; gives a Ledger that the sender marks before
each request goes out (SENDING, committed first) and records each answer in, so a re-run,
a resume after a crash, or next week's overlapping file never books a reference twice.
The states and their arrows are drawn in store.py.

    store.py         Ledger: entries by (base URL, operation, key); mark_sending, record
    files.py         the private state directory, its lock, the SQLite file and its schema
    group_commit.py  GroupCommit: many rows' marks and answers in one commit (async batching)
"""

from batch_scheduler.ledger.group_commit import GroupCommit
from batch_scheduler.ledger.store import (
    CANCEL,
    CREATE,
    EntryState,
    Ledger,
    LedgerEntry,
    LedgerUpdate,
)

__all__ = [
    "CANCEL",
    "CREATE",
    "EntryState",
    "GroupCommit",
    "Ledger",
    "LedgerEntry",
    "LedgerUpdate",
]
