"""The ledger in SQL, as both backends run it: entries, their states and the per-key claims.

Entries are keyed by (base_url, operation, key): key is the reference for "create" and the
appointment id for "cancel". The base URL is part of the key, so a sandbox run never
satisfies a production run.

States and what may follow them:

    (none), REJECTED, NOT_APPLIED --mark_sending--> SENDING --record--> any other state
    SENDING found at start-up, UNKNOWN --> claim, reconcile with the server, then record
        DONE (found) or NOT_APPLIED (not there), and only then send again
    DONE is final: the key is never sent again, and no record moves it back

Claims (claims.py): `mark_sending` and `claim` take a key only when no other run holds it
(a live lease), in the statement that writes it, so two runs on two machines can never both
take one key; what they could not take comes back as a Refusal. A record of NOT_APPLIED
(the one state that lets a key be sent again) is written only by the run that holds the key,
or when nobody does; DONE and REJECTED release the claim.

The statements are written once, with `?` for parameters (those that write an entry, and
their guards, in statements.py); a backend (store.py for SQLite,
postgres.py for PostgreSQL) runs them and says how a time is stored. Not thread-safe: one
ledger, one connection, used from the thread that opened it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Self, TypeVar

from batch_scheduler.errors import LedgerConflictError
from batch_scheduler.ledger.claims import DEFAULT_LEASE, Owner, Refusal, live_holder, machine
from batch_scheduler.ledger.entries import (
    COLUMNS,
    CREATE,
    EntryState,
    LedgerEntry,
    LedgerUpdate,
    as_time,
    check_operation,
    entry_from_row,
    json_text,
)
from batch_scheduler.ledger.statements import CLAIM, MARK_SENDING, RECORD, chunks, marks

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_UNRESOLVED = (EntryState.SENDING.value, EntryState.UNKNOWN.value)

T = TypeVar("T")
Later = Callable[[], T]  # a result to read later (inside a batch: once it has committed)


def normalise_base_url(base_url: str) -> str:
    """The base URL as stored: without a trailing slash, so both spellings match."""
    url = base_url.strip().rstrip("/")
    if not url:
        raise ValueError("The ledger needs a non-empty base URL.")
    return url


def utc_now() -> datetime:
    return datetime.now(UTC)


class SqlLedger:
    """The ledger of one base URL; see the module docstring. A backend subclasses it."""

    backend: ClassVar[str] = ""  # "SQLite" or "PostgreSQL", for people
    begin_statement: ClassVar[str] = "BEGIN"
    reaps_local_owners: ClassVar[bool] = False  # claims.py: one machine's file
    # in a `batch`, rows a write returns are read once it has committed (postgres.py)
    reads_after_commit: ClassVar[bool] = False

    def __init__(
        self,
        *,
        base_url: str,
        location: str,
        clock: Callable[[], datetime] = utc_now,
        readonly: bool = False,
        lease: float = DEFAULT_LEASE,
    ) -> None:
        self.base_url = base_url
        self.location = location  # where it lives, for people (never a password)
        self.lease = lease  # seconds a claim lasts unless renewed
        self._clock = clock
        self._readonly = readonly
        self._machine = machine()
        self._batching = False  # inside batch(): writes are savepoints of one transaction
        self._reaped_at: datetime | None = None

    # ------------------------------------------------------------------ what a backend runs

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the rows it changed."""
        raise NotImplementedError

    def run_many(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    def returned(self, sql: str, params: Sequence[Sequence[Any]]) -> set[str]:
        """Run a statement once per parameter row; the first column of every row returned."""
        raise NotImplementedError

    def returned_later(self, sql: str, params: Sequence[Sequence[Any]]) -> Later[set[str]]:
        """`returned`, read when asked (in a `batch`, once committed: `reads_after_commit`)."""
        found = self.returned(sql, params)
        return lambda: found

    def control(self, statement: str) -> None:
        """BEGIN or COMMIT of a batch (a backend may send it without waiting for it)."""
        self.run(statement)

    def stamp(self, moment: datetime) -> Any:
        """A time as this backend stores it."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reading

    def get(self, operation: str, key: str) -> LedgerEntry | None:
        check_operation(operation)
        found = self.rows(
            f"SELECT {COLUMNS} FROM entries WHERE base_url = ? AND operation = ? AND key = ?",
            (self.base_url, operation, key),
        )
        return entry_from_row(found[0]) if found else None

    def get_many(self, operation: str, keys: Iterable[str]) -> dict[str, LedgerEntry]:
        """The entries that exist among `keys`, by key (missing keys are left out)."""
        check_operation(operation)
        out: dict[str, LedgerEntry] = {}
        for chunk in chunks(sorted(set(keys))):  # sorted: neighbouring index pages
            for row in self.rows(
                f"SELECT {COLUMNS} FROM entries "
                f"WHERE base_url = ? AND operation = ? AND key IN ({marks(len(chunk))})",
                (self.base_url, operation, *chunk),
            ):
                out[row[2]] = entry_from_row(row)
        return out

    def unresolved(self, operation: str) -> list[LedgerEntry]:
        """SENDING or UNKNOWN entries: their outcome must be checked with the server."""
        check_operation(operation)
        found = self.rows(
            f"SELECT {COLUMNS} FROM entries "
            "WHERE base_url = ? AND operation = ? AND state IN (?, ?) ORDER BY updated_at, key",
            (self.base_url, operation, *_UNRESOLVED),
        )
        return [entry_from_row(row) for row in found]

    def find_created(self, reference: str) -> LedgerEntry | None:
        """The DONE create entry for `reference` (so a cancel by reference knows the id)."""
        entry = self.get(CREATE, reference)
        return entry if entry and entry.state is EntryState.DONE else None

    # ------------------------------------------------------------------ claims and marks

    def owner_of(self, run_id: str) -> str:
        """The owner a run of this process claims keys as."""
        return str(Owner(self._machine, os.getpid(), run_id))

    def mark_sending(
        self,
        operation: str,
        keys: Sequence[str],
        run_id: str,
        references: Mapping[str, str] | None = None,
    ) -> dict[str, Refusal]:
        """Claim `keys` for `run_id` and mark them SENDING (`mark_sending_later`); the keys
        refused."""
        return self.mark_sending_later(operation, keys, run_id, references)()

    def mark_sending_later(
        self,
        operation: str,
        keys: Sequence[str],
        run_id: str,
        references: Mapping[str, str] | None = None,
    ) -> Later[dict[str, Refusal]]:
        """Claim `keys` for `run_id` and mark them SENDING, in one committed transaction.

        Call it before sending (inside `batch`, send only once the batch has committed);
        attempts += 1. A key is marked only when its state allows a send (none, REJECTED,
        NOT_APPLIED) and no other run holds it; the others are returned as Refusals, and
        must not be sent now. The same key twice in one call is a bug (LedgerConflictError,
        nothing written). For "create", the reference defaults to the key. Inside `batch`,
        call what it returns only once the batch has committed (`reads_after_commit`).
        """
        check_operation(operation)
        self._check_writable()
        if len(set(keys)) != len(keys):
            raise LedgerConflictError("mark_sending was given the same key twice in one batch.")
        references = references or {}
        now = self._now()
        owner, until = self.owner_of(run_id), self.stamp(now + timedelta(seconds=self.lease))
        at = self.stamp(now)
        default = operation == CREATE
        params = [
            (self.base_url, operation, key, references.get(key, key if default else None),
             run_id, owner, until, at)
            for key in sorted(keys)  # rows locked in one order: fewer deadlocks between runs
        ]  # fmt: skip
        with self._transaction():
            return self._refusals_later(operation, keys, (MARK_SENDING, params), owner, now)

    def claim(self, operation: str, keys: Sequence[str], run_id: str) -> dict[str, Refusal]:
        """Claim existing entries (`claim_later`); the keys refused."""
        return self.claim_later(operation, keys, run_id)()

    def claim_later(
        self, operation: str, keys: Sequence[str], run_id: str
    ) -> Later[dict[str, Refusal]]:
        """Claim existing entries (to check them with the server) without changing them.

        Keys another run holds, and DONE ones (nothing left to check), come back as
        Refusals; keys with no entry need no claim. Inside `batch`, as `mark_sending_later`.
        """
        check_operation(operation)
        self._check_writable()
        now = self._now()
        owner, at = self.owner_of(run_id), self.stamp(now)
        until = self.stamp(now + timedelta(seconds=self.lease))
        params = [(owner, until, self.base_url, operation, key, owner, at)
                  for key in sorted(keys)]  # fmt: skip
        with self._transaction():
            refused = self._refusals_later(operation, keys, (CLAIM, params), owner, now)
        return lambda: {k: r for k, r in refused().items() if r.entry is not None}

    def _refusals_later(
        self, operation: str, keys: Sequence[str], taking: tuple[str, list[Any]], owner: str,
        now: datetime,
    ) -> Later[dict[str, Refusal]]:  # fmt: skip
        """Run the statement that takes `keys`; why each key it did not take was refused,
        read in the transaction, or after it where the backend `reads_after_commit`."""
        taken = self.returned_later(*taking)

        def refusals() -> dict[str, Refusal]:
            done = taken()
            return self._refusals(operation, [k for k in keys if k not in done], owner, now)

        if self.reads_after_commit:
            return refusals
        found = refusals()
        return lambda: found

    def renew(self, run_id: str) -> None:
        """Extend every claim of `run_id` by a lease from now (committed)."""
        self._check_writable()
        until = self.stamp(self._now() + timedelta(seconds=self.lease))
        with self._transaction():
            self.run("UPDATE entries SET lease_until = ? WHERE owner = ?",
                     (until, self.owner_of(run_id)))  # fmt: skip

    def release(self, run_id: str) -> None:
        """Give up every claim of `run_id` (its run ends), committed."""
        self._check_writable()
        with self._transaction():
            self.run("UPDATE entries SET owner = NULL, lease_until = NULL WHERE owner = ?",
                     (self.owner_of(run_id),))  # fmt: skip

    def _refusals(
        self, operation: str, keys: Sequence[str], owner: str, now: datetime
    ) -> dict[str, Refusal]:
        """Why each of `keys` was not taken: who holds it, and its entry as it is now."""
        out: dict[str, Refusal] = {}
        for chunk in chunks(keys):
            for row in self.rows(
                f"SELECT {COLUMNS}, owner, lease_until FROM entries "
                f"WHERE base_url = ? AND operation = ? AND key IN ({marks(len(chunk))})",
                (self.base_url, operation, *chunk),
            ):
                holder, until = row[-2], row[-1]
                live = live_holder(holder, as_time(until) if until else None, owner, now)
                out[row[2]] = Refusal(row[2], holder if live else None, entry_from_row(row[:-2]))
        for key in keys:
            out.setdefault(key, Refusal(key, None, None))
        return out

    def reap_dead_owners(self) -> int:
        """Let go, at once, of the claims of this machine's runs whose process is gone.

        Only where the ledger is one machine's (`reaps_local_owners`); at most once a
        second. Returns how many runs' claims were let go."""
        now = self._now()
        if not self.reaps_local_owners or self._readonly:
            return 0
        if self._reaped_at is not None and now - self._reaped_at < timedelta(seconds=1):
            return 0
        self._reaped_at = now
        found = self.rows(
            "SELECT DISTINCT owner FROM entries WHERE owner IS NOT NULL AND lease_until >= ?",
            (self.stamp(now),),
        )
        dead = [text for (text,) in found if (o := Owner.parse(text)) and o.is_dead()]
        if dead:
            with self._transaction():
                self.run_many("UPDATE entries SET lease_until = ? WHERE owner = ?",
                              [(self.stamp(EPOCH), text) for text in dead])  # fmt: skip
        return len(dead)

    # ------------------------------------------------------------------ answers

    def record(self, updates: Sequence[LedgerUpdate], run_id: str | None = None) -> None:
        """Record a batch of answers in one committed transaction; attempts are unchanged.

        Fields given as None keep their previous value, except `error`, which is replaced.
        A key with no entry yet (e.g. found by reconciliation) is added with 0 attempts.
        DONE is never overwritten by another state; NOT_APPLIED is written only by the run
        holding the key (`run_id`) or when nobody holds it.
        """
        self._check_writable()
        now = self._now()
        owner = self.owner_of(run_id) if run_id else None
        in_order = sorted(
            updates, key=lambda u: (u.operation, u.key)
        )  # stable: one key's stay in order
        params = [self._record_params(update, now, owner) for update in in_order]
        with self._transaction():
            self.run_many(RECORD, params)

    def _record_params(
        self, update: LedgerUpdate, now: datetime, owner: str | None
    ) -> tuple[Any, ...]:
        check_operation(update.operation)
        state = EntryState(update.state)
        if state is EntryState.SENDING:
            raise ValueError("Use mark_sending, not record, to mark a key as sending.")
        reference = update.reference
        if reference is None and update.operation == CREATE:
            reference = update.key
        return (
            self.base_url, update.operation, update.key, state.value, reference,
            update.appointment_id, update.status, json_text(update.response), update.error,
            self.stamp(now), owner,
        )  # fmt: skip

    # ------------------------------------------------------------------ transactions

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Make every write inside one transaction: one commit for all of them (group commit).

        Nothing inside is durable until the block ends, and an error anywhere inside undoes
        the whole batch (the group commit fails every waiter of it: none of its requests may
        leave). No savepoint per write: on a database over the network each would cost two
        round trips, and nobody needs one write of a batch kept when another failed."""
        self._check_writable()
        if self._batching:
            raise RuntimeError("The ledger's batch() cannot be nested.")
        self.control(self.begin_statement)
        self._batching = True
        try:
            yield
        except BaseException:
            self._batching = False
            self._rollback()
            raise
        self._batching = False
        self.control("COMMIT")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write: its own committed transaction, or part of the `batch` under way."""
        if self._batching:
            yield
            return
        self.run(self.begin_statement)
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        self.run("COMMIT")

    def _rollback(self) -> None:
        """Undo the open transaction; a connection already lost has nothing to undo."""
        with contextlib.suppress(Exception):
            self.run("ROLLBACK")

    def _check_writable(self) -> None:
        if self._readonly:
            raise RuntimeError("This ledger was opened read-only (dry run); it cannot record.")

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("The ledger clock must return timezone-aware datetimes.")
        return now.astimezone(UTC)
