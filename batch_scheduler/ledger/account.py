"""The account index: what the ledger remembers of the account's list, so a run need not read
all of it again to learn whether a reference is already booked.

The API has no filter by reference, so the only way to learn which references the account
holds is to page through its whole list. The index keeps, for every appointment seen there,
its id, reference, status and creation time; the cursor says how far the list was read: how
many items, the id of the last one, and the list's total then. A later run reads only what
was created since (send/existing.py), which works because the list is ordered by created_at,
then id (an assumption: docs/api-contract.md). A reference found in the index is fetched
again before it counts (it may have been cancelled since), so the index needs nothing that
matching a row needs, and keeps no claimant's personal data: it is a list of references,
and retention (housekeeping.py) leaves it alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from batch_scheduler.ledger.sql import SqlLedger
from batch_scheduler.ledger.statements import chunks, marks
from batch_scheduler.models import Appointment

_ADD = """
INSERT INTO account_items (base_url, id, reference, status, created_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (base_url, id) DO UPDATE SET
    reference = excluded.reference,
    status = excluded.status,
    created_at = excluded.created_at
"""

_SAVE_CURSOR = """
INSERT INTO account_cursor (base_url, items_read, last_id, total, per_page, updated_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (base_url) DO UPDATE SET
    items_read = excluded.items_read,
    last_id = excluded.last_id,
    total = excluded.total,
    per_page = excluded.per_page,
    updated_at = excluded.updated_at
"""


@dataclass(frozen=True)
class Cursor:
    """How far the account's list was read: the first `items_read` items, in list order."""

    items_read: int
    last_id: str | None  # the id of the last item read (None when none was)
    total: int  # the list's total when it was read
    per_page: int  # the page size it was read with


def stamp_text(moment: datetime | None) -> str | None:
    """A time as the index keeps it: UTC ISO text with microseconds (so text order is time
    order)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class IndexedLedger(SqlLedger):
    """A ledger with the account index beside its entries (both backends are one)."""

    def indexed(self, references: Iterable[str]) -> dict[str, list[Appointment]]:
        """The appointments the index holds under each of `references` (absent: left out),
        as last seen: id, reference, status and creation time only."""
        out: dict[str, list[Appointment]] = {}
        for chunk in chunks(sorted(set(references))):
            for row in self.rows(
                "SELECT id, reference, status, created_at FROM account_items "
                f"WHERE base_url = ? AND reference IN ({marks(len(chunk))}) ORDER BY created_at",
                (self.base_url, *chunk),
            ):
                item = _appointment(row)
                out.setdefault(str(item.reference), []).append(item)
        return out

    def add_to_index(self, appointments: Sequence[Appointment]) -> None:
        """Remember these appointments as the list showed them (committed)."""
        self._check_writable()
        params = [
            (self.base_url, item.id, None if item.reference is None else str(item.reference),
             item.status, stamp_text(item.created_at))
            for item in appointments
        ]  # fmt: skip
        if params:
            with self._transaction():
                self.run_many(_ADD, params)

    def account_cursor(self) -> Cursor | None:
        found = self.rows(
            "SELECT items_read, last_id, total, per_page FROM account_cursor WHERE base_url = ?",
            (self.base_url,),
        )
        return Cursor(*found[0]) if found else None

    def save_cursor(self, cursor: Cursor) -> None:
        self._check_writable()
        values = (self.base_url, cursor.items_read, cursor.last_id, cursor.total,
                  cursor.per_page, self.stamp(self._now()))  # fmt: skip
        with self._transaction():
            self.run(_SAVE_CURSOR, values)

    def forget_account(self) -> None:
        """Drop the index and the cursor: the next sweep reads the whole list again."""
        self._check_writable()
        with self._transaction():
            self.run("DELETE FROM account_items WHERE base_url = ?", (self.base_url,))
            self.run("DELETE FROM account_cursor WHERE base_url = ?", (self.base_url,))


def _appointment(row: tuple[object, ...]) -> Appointment:
    ident, reference, status, created = row
    return Appointment(
        id=str(ident),
        reference=None if reference is None else str(reference),
        appointment_at=None,
        duration_in_minutes=None,
        status=None if status is None else str(status),
        url=None,
        created_at=_time(created),
    )


def _time(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None
