"""Before the first create: which of these references does the account already hold?

A ledger knows only what its own runs sent. A reference booked from another laptop, by the
nightly job in a fresh container, or before a state directory was lost, is unknown to it,
and an API that silently accepts a repeated reference would book it twice. So before a run
creates a reference its ledger has never seen, it reads the account's list once for the
whole batch (the sweep the sender already has, at list_per_page, within the rate limit):
a reference found there is settled as the reconciliation settles one (`settle_found`: the
row's own booking -> already_exists with the server's id, status and link; anything else ->
a conflict), and is not sent.

`send.check_existing` (`--check-existing`):
    auto    read the list when some row's reference is unknown to the ledger (the default)
    always  read the whole list on every run, and check the known rows too
    never   do not read it: unsafe against an API that accepts a repeated reference

Cheap on the tenth weekly run too: the ledger remembers how far it has read the list (its
account index and cursor, ledger/account.py), so a later run reads only the pages created
since. That needs the list's order, created_at then id (docs/api-contract.md: an
assumption, checked here as far as it can be): when the total has shrunk, or the last item
read is no longer where it was, the order cannot be trusted and the whole list is read
again. References found only in the index (seen on an earlier run, so their status may have
changed since) are fetched again one by one, or, when that would take more requests than
reading the whole list, the whole list is read instead.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from batch_scheduler.i18n import gettext as _
from batch_scheduler.ledger import CREATE, Cursor, EntryState, LedgerUpdate
from batch_scheduler.models import Appointment, AppointmentRequest, Outcome, Page, RowResult
from batch_scheduler.send.engine import Engine
from batch_scheduler.send.matching import CANCELLED_STATUS, best_match
from batch_scheduler.send.setup import ledger_update
from batch_scheduler.send.sweep import Swept, is_last, read, read_page, sweep
from batch_scheduler.send.triage import found_result

logger = logging.getLogger(__name__)

INDEX_BATCH = 2_000  # appointments remembered per transaction while reading the list

Requests = Sequence[tuple[int, AppointmentRequest]]


@dataclass(frozen=True)
class Settled:
    """A reference found on the account, settled: the row's result and the ledger's record."""

    result: RowResult
    update: LedgerUpdate


def settle_found(
    request: AppointmentRequest,
    found: Sequence[Appointment],
    zone: tzinfo,
    *,
    attempts: int = 0,
    sent: bool = False,
) -> Settled:
    """The account holds `found` under the request's reference (not empty): the row's own
    booking (created, when this run's request of unknown outcome made it; else
    already_exists) or a conflict (kept UNKNOWN in the ledger: checked again next run, never
    sent blindly). Several live appointments under one reference are named in a warning."""
    key = str(request.reference)
    match = best_match(request, found, zone)
    if not match.is_booking:
        logger.info("reference %s is held by another appointment: conflict", key)
        conflict = ledger_update(CREATE, key, EntryState.UNKNOWN, None, "conflict")
        return Settled(found_result(match, zone, attempts), conflict)
    chosen = match.appointment
    others = [item for item in found if item is not chosen and item.status != CANCELLED_STATUS]
    outcome = Outcome.CREATED if sent and not others else Outcome.ALREADY_EXISTS
    warning = _duplicates_warning(key, chosen, others) if others else None
    if warning:
        logger.warning("reference %s: %d appointments on the server", key, len(others) + 1)
    result = RowResult(outcome, chosen, warning, attempts=attempts)
    return Settled(result, ledger_update(CREATE, key, EntryState.DONE, chosen))


def _duplicates_warning(reference: str, chosen: Appointment, others: list[Appointment]) -> str:
    ids = ", ".join(item.id for item in others)
    return _(
        "Warning: the server holds {count} live appointments with reference {reference}: this "
        "row is matched to {id}; the duplicate(s) {ids} should be checked and cancelled by hand."
    ).format(count=len(others) + 1, reference=reference, id=chosen.id, ids=ids)


# ---------------------------------------------------------------- the check


@dataclass
class ExistingCheck:
    """What the check did, for the Summary (and what it settled)."""

    how: str = "not needed"  # "full", "incremental", "not needed", "off"
    pages: int = 0  # list pages read (and appointments fetched again)
    seconds: float = 0.0
    found: int = 0  # rows whose reference the account already holds
    results: dict[int, RowResult] = field(default_factory=dict)  # the rows it settled
    failed: str | None = None  # the list could not be read: the rows it was for wait


async def check_existing(
    engine: Engine[AppointmentRequest],
    to_check: Requests,
    *,
    unseen: Collection[int],
    recheck: Requests = (),
    zone: tzinfo,
) -> ExistingCheck:
    """Look up `to_check` (rows about to be created) on the account when the mode asks for
    it: `unseen` are the positions whose reference the ledger has never seen; `recheck` are
    rows the ledger holds as booked (only `always` checks them again). Raises RunStopping
    when the run stops meanwhile."""
    mode = engine.settings.check_existing
    check = ExistingCheck()
    if mode == "never":
        check.how = "off"
        return check
    rows = [*to_check, *(recheck if mode == "always" else ())]
    if not rows or (mode == "auto" and not unseen):
        return check
    started = engine.clock()
    reader = _AccountReader(engine, check)
    found = await reader.find({str(request.reference) for _, request in rows},
                              full=mode == "always")  # fmt: skip
    check.seconds = engine.clock() - started
    if isinstance(found, Swept):
        check.failed = found.failed
        if found.refused is not None:
            engine.halt(found.refused)
        return check
    updates = []
    rechecked = {position for position, _ in recheck}
    for position, request in rows:
        items = found.get(str(request.reference))
        if not items:
            continue
        settled = settle_found(request, items, zone)
        check.results[position] = settled.result
        if position not in rechecked:
            check.found += 1
            updates.append(settled.update)
    engine.writes.record(updates)
    return check


class _AccountReader:
    """Reads the account's list, from where the ledger left off when it may, remembering
    every appointment seen (the index) and how far it read (the cursor)."""

    def __init__(self, engine: Engine[AppointmentRequest], check: ExistingCheck) -> None:
        self.engine = engine
        self.ledger = engine.ledger
        self.check = check
        self.per_page = engine.settings.list_per_page
        self._unsaved: list[Appointment] = []
        self._end: tuple[int, str | None, int] = (0, None, 0)  # items read, last id, total

    async def find(self, wanted: set[str], *, full: bool) -> dict[str, list[Appointment]] | Swept:
        """The appointments the account holds under each of `wanted` (absent: left out)."""
        cursor = None if full else self.ledger.account_cursor()
        found = await self._read_since(cursor, wanted) if cursor is not None else None
        if found is None:
            found = await self._read_all(wanted)
        if isinstance(found, Swept):
            return found
        earlier = self.ledger.indexed(wanted - found.keys())  # seen by earlier runs only
        stale = [item for items in earlier.values() for item in items]
        total_pages = math.ceil(self._end[2] / self.per_page)
        if len(stale) > total_pages:  # fetching each again costs more than reading all
            logger.info("%d references seen before: reading the whole list again", len(stale))
            return await self._read_all(wanted)
        return await self._refresh(found, stale)

    async def _read_all(self, wanted: set[str]) -> dict[str, list[Appointment]] | Swept:
        self.check.how = "full"
        self.ledger.forget_account()
        self._end = (0, None, 0)
        return await self._sweep(wanted, 1, {})

    async def _read_since(
        self, cursor: Cursor, wanted: set[str]
    ) -> dict[str, list[Appointment]] | Swept | None:
        """Read only what was created after the cursor; None when the list is not as it was
        then (the total shrank, or the last item read is not where it was)."""
        self._end = (cursor.items_read, cursor.last_id, cursor.total)
        self.check.how = "incremental"
        if cursor.items_read == 0:
            return await self._sweep(wanted, 1, {})
        number, offset = divmod(cursor.items_read - 1, self.per_page)
        page = await read_page(self.engine, number + 1)
        if isinstance(page, Swept):
            return page
        self.check.pages += 1
        moved = offset >= len(page.items) or page.items[offset].id != cursor.last_id
        if moved or (page.total is not None and page.total < cursor.total):
            logger.info("the account's list is not as it was when last read: reading it all")
            return None
        newer = page.items[offset + 1 :]
        found: dict[str, list[Appointment]] = {}
        for item in newer:
            if item.reference in wanted:
                found.setdefault(str(item.reference), []).append(item)
        self._remember(number + 1, page, newer)
        if is_last(page, number + 1):
            self._save()
            return found
        return await self._sweep(wanted, number + 2, found)

    async def _sweep(
        self, wanted: set[str], first_page: int, found: dict[str, list[Appointment]]
    ) -> dict[str, list[Appointment]] | Swept:
        swept = await sweep(self.engine, wanted, first_page=first_page, on_page=self._on_page)
        if swept.failed is not None or swept.refused is not None:
            self._flush()
            return swept
        for reference, items in swept.found.items():
            found.setdefault(reference, []).extend(items)
        self._save()
        return found

    async def _refresh(
        self, found: dict[str, list[Appointment]], stale: list[Appointment]
    ) -> dict[str, list[Appointment]] | Swept:
        """Fetch again the appointments found only in the index: their status may have
        changed since they were seen. One gone (404) no longer counts."""
        fresh: list[Appointment] = []
        for item in stale:
            got = await read(
                self.engine, _show(self.engine, item.id), _("appointment {id}").format(id=item.id)
            )
            self.check.pages += 1
            if isinstance(got, Swept):
                if got.status == 404:
                    continue
                return got
            fresh.append(got)
            found.setdefault(str(got.reference), []).append(got)
        self.ledger.add_to_index(fresh)
        return found

    # -------------------------------------------------------- remembering what was read

    def _on_page(self, number: int, page: Page) -> None:
        self.check.pages += 1
        self._remember(number, page, page.items)

    def _remember(self, number: int, page: Page, new: Sequence[Appointment]) -> None:
        if page.items:
            read_to = (number - 1) * self.per_page + len(page.items)
            self._end = (read_to, page.items[-1].id, max(page.total or 0, read_to))
        self._unsaved.extend(new)
        if len(self._unsaved) >= INDEX_BATCH:
            self._flush()

    def _flush(self) -> None:
        self.ledger.add_to_index(self._unsaved)
        self._unsaved = []

    def _save(self) -> None:
        self._flush()
        items_read, last_id, total = self._end
        self.ledger.save_cursor(Cursor(items_read, last_id, total, self.per_page))


def _show(engine: Engine[Any], appointment_id: str) -> Any:
    return lambda: engine.client.show(appointment_id)


def not_checked(failed: str) -> RowResult:
    """A row not sent because the account's list could not be read first."""
    text = _(
        "Not sent: could not check first whether the account already holds this reference "
        "(%(problem)s). Run again later."
    )
    return RowResult(Outcome.NOT_ATTEMPTED, error=text % {"problem": failed})
