"""Looking after a ledger: what it holds (`batch-scheduler ledger status`) and forgetting old
entries (`batch-scheduler ledger prune --older-than 90d`), on either backend.

Entries hold the API's answers, so personal data: keep them only as long as a re-run might
need them. Pruning forgets entries last written before the cutoff, except those that must
still be checked with the server (SENDING, UNKNOWN) and those a live run holds. A pruned
reference is not forgotten by the account: a later run asks the account before booking it
(send.check_existing, auto by default), so it is not booked twice. The account index keeps
no personal data (account.py) and is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from batch_scheduler.ledger.account import IndexedLedger
from batch_scheduler.ledger.entries import EntryState, as_time
from batch_scheduler.ledger.schema import SCHEMA_VERSION

_KEPT = (EntryState.SENDING.value, EntryState.UNKNOWN.value)


@dataclass(frozen=True)
class Status:
    """What a ledger holds, over every base URL."""

    backend: str
    location: str
    schema_version: int
    counts: dict[tuple[str, str, str], int]  # (base URL, operation, state) -> entries
    oldest: datetime | None  # the entry written longest ago
    newest: datetime | None
    held: int  # entries a run holds now (a live lease)
    indexed: int  # appointments in the account index

    @property
    def entries(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Pruned:
    deleted: int  # entries forgotten (or that would be, on a dry run)
    kept_unresolved: int  # older entries kept: still to be checked with the server
    kept_held: int  # older entries kept: a run holds them now


def status(ledger: IndexedLedger, now: datetime) -> Status:
    """Counts per base URL, operation and state, the oldest and newest entry, claims held."""
    counts = {
        (str(base), str(operation), str(state)): int(n)
        for base, operation, state, n in ledger.rows(
            "SELECT base_url, operation, state, COUNT(*) FROM entries "
            "GROUP BY base_url, operation, state ORDER BY base_url, operation, state"
        )
    }
    ((oldest, newest),) = ledger.rows("SELECT MIN(updated_at), MAX(updated_at) FROM entries")
    ((held,),) = ledger.rows(
        "SELECT COUNT(*) FROM entries WHERE owner IS NOT NULL AND lease_until >= ?",
        (ledger.stamp(now),),
    )
    ((indexed,),) = ledger.rows("SELECT COUNT(*) FROM account_items")
    return Status(
        backend=ledger.backend,
        location=ledger.location,
        schema_version=SCHEMA_VERSION,
        counts=counts,
        oldest=as_time(oldest) if oldest else None,
        newest=as_time(newest) if newest else None,
        held=int(held),
        indexed=int(indexed),
    )


def prune(
    ledger: IndexedLedger, before: datetime, now: datetime, *, dry_run: bool = False
) -> Pruned:
    """Forget the entries last written before `before` (see the module docstring);
    `dry_run`: only count them."""
    cutoff, at = ledger.stamp(before), ledger.stamp(now)
    old = "updated_at < ?"
    free = "(owner IS NULL OR lease_until < ?)"
    ((unresolved,),) = ledger.rows(
        f"SELECT COUNT(*) FROM entries WHERE {old} AND state IN (?, ?)", (cutoff, *_KEPT)
    )
    ((held,),) = ledger.rows(
        f"SELECT COUNT(*) FROM entries WHERE {old} AND state NOT IN (?, ?) AND NOT {free}",
        (cutoff, *_KEPT, at),
    )
    where = f"FROM entries WHERE {old} AND state NOT IN (?, ?) AND {free}"
    if dry_run:
        ((deleted,),) = ledger.rows(f"SELECT COUNT(*) {where}", (cutoff, *_KEPT, at))
    else:
        with ledger.batch():
            deleted = ledger.run(f"DELETE {where}", (cutoff, *_KEPT, at))
    return Pruned(deleted=deleted, kept_unresolved=int(unresolved), kept_held=int(held))
