"""Creates: book every appointment exactly once, settling unknown outcomes by a sweep.

A create whose outcome is unknown (500/502/504, dropped connection, timeout) is never resent
blindly: the row waits for a reconciliation sweep, one pass over the whole list for every
row waiting at that moment, matching `reference` itself. Found: DONE. Not found:
NOT_APPLIED, then resent as a retry. Rows a crashed earlier run left SENDING or UNKNOWN go
through the same sweep before anything else happens to them.

A reference already on the account that is not this row's booking (cancelled, or for another
slot or claimant) is a CONFLICT, never sent (matching.py).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Coroutine, Sequence
from datetime import UTC, tzinfo
from typing import Any

from batch_scheduler.api import ApiClient
from batch_scheduler.config import SendSettings
from batch_scheduler.errors import LedgerUnavailable, RunStopping
from batch_scheduler.i18n import _
from batch_scheduler.ledger import CANCEL, CREATE, EntryState, LedgerBackend, LedgerEntry
from batch_scheduler.models import (
    ApiResult,
    Appointment,
    AppointmentRequest,
    Outcome,
    ResultKind,
    RowResult,
)
from batch_scheduler.send.engine import Engine
from batch_scheduler.send.existing import check_existing, not_checked, settle_found
from batch_scheduler.send.matching import compare
from batch_scheduler.send.pacing import REAL_TIME, Timing
from batch_scheduler.send.rows import Row, rejection, repeat_of
from batch_scheduler.send.setup import ProgressCallback, SendStats, Setup
from batch_scheduler.send.sweep import sweep
from batch_scheduler.send.triage import CreateTriage, booked_before, found_result, triage_creates

logger = logging.getLogger(__name__)

SETTLE = 0.2  # seconds an unknown create waits before a sweep looks for it (late stores)


async def send_creates(
    items: Sequence[tuple[int, AppointmentRequest]],
    *,
    client: ApiClient,
    ledger: LedgerBackend,
    settings: SendSettings,
    run_id: str,
    on_result: ProgressCallback | None = None,
    stop: asyncio.Event | None = None,
    rng: random.Random | None = None,
    stats: SendStats | None = None,
    zone: tzinfo = UTC,
    timing: Timing = REAL_TIME,
) -> dict[int, RowResult]:
    """Create every appointment exactly once; one RowResult per item, by position.

    `zone` is the sheet's time zone, for a conflict's message. Raises AuthError (after
    stopping cleanly) when the API refuses the credentials.
    """
    setup = Setup(client, ledger, settings, run_id, on_result, stop, rng, stats, timing)
    return await CreateRun(setup, zone).execute(items)


Waiting = dict[str, tuple[float, Row[AppointmentRequest]]]  # reference -> (ready at, row)


class CreateRun(Engine[AppointmentRequest]):
    operation = CREATE

    def __init__(self, setup: Setup, zone: tzinfo = UTC) -> None:
        super().__init__(setup)
        self._zone = zone
        self._waiting: Waiting = {}
        self._arrived = asyncio.Event()
        self._sweep_gap = 0.0  # the last sweep's duration: sweeps take at most half the time

    async def execute(
        self, items: Sequence[tuple[int, AppointmentRequest]]
    ) -> dict[int, RowResult]:
        started = self.clock()
        triage = triage_creates(items, self.ledger, zone=self._zone)
        done, to_send = await self._check_existing(triage, items)
        self.begin(items, done)
        self.stats.started = started
        for position, request in triage.to_reconcile:
            row = Row(position, request.reference, request)
            if self.adopt(row):
                self._wait_for_sweep(row, settle=False)
        fresh = (Row(position, request.reference, request) for position, request in to_send)
        await self.run(self.fresh(fresh))
        return self.finalise(items)

    async def _check_existing(
        self, triage: CreateTriage, items: Sequence[tuple[int, AppointmentRequest]]
    ) -> tuple[dict[int, RowResult], list[tuple[int, AppointmentRequest]]]:
        """Ask the account about the references the ledger has not seen (existing.py): the
        rows settled so far, and the rows still to send."""
        booked = (Outcome.ALREADY_EXISTS, Outcome.CONFLICT)
        done = triage.done
        recheck = [(position, request) for position, request in items
                   if position in done and done[position].outcome in booked]  # fmt: skip
        try:
            check = await check_existing(self, triage.to_send, unseen=triage.unseen,
                                         recheck=recheck, zone=self._zone)  # fmt: skip
        except RunStopping:
            return dict(triage.done), list(triage.to_send)  # the run stops: nothing is sent
        self.stats.existing = check
        done = {**triage.done, **check.results}
        to_send = []
        for position, request in triage.to_send:
            if position in done:
                continue
            if check.failed is not None and position in triage.unseen:
                done[position] = not_checked(check.failed)
            else:
                to_send.append((position, request))
        return done, to_send

    def background(self) -> list[Coroutine[Any, Any, None]]:
        return [self._reconciler()]

    def key_of(self, request: AppointmentRequest) -> str | None:
        return str(request.reference)

    def follower_result(self, result: RowResult, row: Row[AppointmentRequest]) -> RowResult:
        """A row repeating a reference is the same booking only if it asks for the same."""
        found = result.appointment
        if result.outcome not in (Outcome.CREATED, Outcome.ALREADY_EXISTS) or found is None:
            return repeat_of(result)
        match = compare(row.request, found, self._zone)
        return repeat_of(result) if match.is_booking else found_result(match, self._zone)

    def moved_on(self, row: Row[AppointmentRequest], entry: LedgerEntry) -> None:
        """Another run booked the reference since our triage (done: already_exists, or a
        conflict), or left it to be checked (check it: a sweep)."""
        if entry.state is EntryState.DONE:
            cancel = self.ledger.get(CANCEL, entry.appointment_id) if entry.appointment_id else None
            self.finish(row, booked_before(row.request, entry, cancel, self._zone))
        elif entry.state in (EntryState.SENDING, EntryState.UNKNOWN):
            self._wait_for_sweep(row, settle=False)
        else:  # sendable again by the time we look: ask again
            self.queue.push(row)

    async def attempt(self, row: Row[AppointmentRequest]) -> None:
        request = row.request
        result = await self.send(row, lambda: self.client.create(request))
        kind = result.kind
        if kind is ResultKind.SUCCESS and result.value is not None:
            self.record(row, EntryState.DONE, result)
            self.finish(row, RowResult(Outcome.CREATED, result.value, attempts=row.attempts))
        elif kind is ResultKind.REJECTED and _reference_taken(result):
            self.record(row, EntryState.UNKNOWN, result)
            row.taken = True
            self._wait_for_sweep(row, settle=False)
        elif kind is ResultKind.REJECTED:
            self.record(row, EntryState.REJECTED, result)
            self.finish(row, rejection(result, row.attempts))
        elif kind is ResultKind.RETRY_LATER:
            self.record(row, EntryState.NOT_APPLIED, result)
            self.retry(row, result)
        elif kind is ResultKind.FATAL:
            self.record(row, EntryState.NOT_APPLIED, result)
            self.halt(result.message)
        else:  # UNKNOWN, or a success without a body: may be stored
            self.stats.unknown += 1
            self.record(row, EntryState.UNKNOWN, result)
            row.unknown_sent = True
            self._wait_for_sweep(row, settle=True)

    # -------------------------------------------------------- reconciliation

    def _wait_for_sweep(
        self, row: Row[AppointmentRequest], *, settle: bool, delay: float = 0.0
    ) -> None:
        row.waiting_check = True
        if row.started is None:  # an earlier run's row: its deadline starts with the check
            row.started = self.clock()
        self._waiting[row.key] = (self.clock() + (SETTLE if settle else delay), row)
        self._arrived.set()

    def _check_later(self, row: Row[AppointmentRequest], delay: float) -> None:
        self._wait_for_sweep(row, settle=False, delay=delay)

    async def _reconciler(self) -> None:
        """Sweep for the waiting rows: each once it has settled, sweeps at most half the time."""
        last_end = -float("inf")
        while True:
            await self._arrived.wait()
            if not self._waiting:
                self._arrived.clear()
                continue
            first_ready = min(ready for ready, _ in self._waiting.values())
            delay = max(first_ready, last_end + self._sweep_gap) - self.clock()
            if delay > 0:
                await self.sleep(delay)
            now = self.clock()
            batch = {key: row for key, (ready, row) in self._waiting.items() if ready <= now}
            for key in batch:
                del self._waiting[key]
            if not batch:
                continue
            began = self.clock()
            await self._reconcile(batch)
            last_end = self.clock()
            self._sweep_gap = last_end - began

    async def _reconcile(self, batch: dict[str, Row[AppointmentRequest]]) -> None:
        """Claim the rows' keys (no other run may check or send them meanwhile), then look
        for them in one sweep."""
        try:
            refused = await self.writes.claim(CREATE, list(batch))
        except LedgerUnavailable as exc:
            self._write_failed(exc)
            return  # the rows stay waiting: reported as not checked
        for key, refusal in refused.items():
            row = batch.pop(key)
            if refusal.held:
                self.wait_for_holder(row, refusal, then=functools.partial(self._check_later, row))
            elif refusal.entry is not None:
                self.moved_on(row, refusal.entry)
        if not batch:
            return
        try:
            swept = await sweep(self, batch)
        except RunStopping:
            return  # the rows stay waiting: reported as not checked
        if swept.refused is not None:
            self.halt(swept.refused)
            return
        if swept.failed is not None:
            for row in batch.values():
                self._sweep_failed(row, swept.failed)
            return
        found = swept.found
        self._resolve_found({key: found[key] for key in batch if key in found}, batch)
        for key, row in batch.items():
            if key not in found:
                self._resolve_missing(row)

    def _resolve_found(
        self, found: dict[str, list[Appointment]], batch: dict[str, Row[AppointmentRequest]]
    ) -> None:
        """Rows whose reference is on the account: their booking (DONE), or a conflict."""
        settled = {key: settle_found(batch[key].request, items, self._zone,
                                     attempts=batch[key].attempts, sent=batch[key].unknown_sent)
                   for key, items in found.items()}  # fmt: skip
        if settled:
            self.writes.record([done.update for done in settled.values()])
        for key, done in settled.items():
            self.stats.reconciled_found += 1
            self.finish(batch[key], done.result)

    def _resolve_missing(self, row: Row[AppointmentRequest]) -> None:
        self.stats.reconciled_missing += 1
        row.waiting_check = False
        if row.taken:
            self.finish(row, _taken_but_missing(row))
            return
        self.record(row, EntryState.NOT_APPLIED)
        if row.last is None:  # left by an earlier run, never sent in this one: send now
            self.queue.push(row)
        else:
            self.retry(row, row.last)

    def _sweep_failed(self, row: Row[AppointmentRequest], message: str) -> None:
        """The list could not be read: try the sweep again later, within the row's budget."""
        now = self.clock()
        started = row.started if row.started is not None else now
        wait = self.policy.backoff(row.retries + 1, self.rng)
        reason = self.policy.give_up(retries=row.retries, started=started, now=now, wait=wait)
        if reason is None:
            row.retries += 1
            self.stats.retries += 1
            self._waiting[row.key] = (now + wait, row)
            self._arrived.set()
            return
        text = _(
            "Could not check whether the appointment was created ({why}); the next run will "
            "check again before sending it."
        ).format(why=message)
        self.finish(row, RowResult(Outcome.FAILED, error=text, attempts=row.attempts))


def _reference_taken(result: ApiResult[Any]) -> bool:
    messages = result.field_errors.get("reference", ())
    return any("already" in text.lower() and "taken" in text.lower() for text in messages)


def _taken_but_missing(row: Row[AppointmentRequest]) -> RowResult:
    text = _(
        "The server says reference {reference} is already taken, but no appointment with it is "
        "in the list; check it on the platform before booking it again."
    ).format(reference=row.key)
    return RowResult(Outcome.FAILED, error=text, attempts=row.attempts)
