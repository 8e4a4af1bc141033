"""Cancels: cancel every appointment named (by id, or by reference) exactly once.

A resent cancel is harmless (the second answers "already cancelled"), so a cancel of unknown
outcome is checked with a `show` and sent again only if it did not take; so is a cancel an
earlier run left without an answer. Rows named only by reference are found in one sweep of
the list before they are sent.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any

from batch_scheduler.api import ApiClient
from batch_scheduler.config import SendSettings
from batch_scheduler.errors import RunStopping
from batch_scheduler.i18n import _
from batch_scheduler.ledger import CANCEL, EntryState, LedgerBackend, LedgerEntry, LedgerUpdate
from batch_scheduler.models import (
    ApiResult,
    Appointment,
    CancelRequest,
    Outcome,
    ResultKind,
    RowResult,
)
from batch_scheduler.send.engine import Engine
from batch_scheduler.send.matching import CANCELLED_STATUS
from batch_scheduler.send.pacing import REAL_TIME, Timing
from batch_scheduler.send.rows import Row, rejection
from batch_scheduler.send.setup import ProgressCallback, SendStats, Setup
from batch_scheduler.send.sweep import sweep
from batch_scheduler.send.triage import stored, triage_cancels


async def send_cancels(
    items: Sequence[tuple[int, CancelRequest]],
    *,
    client: ApiClient,
    ledger: LedgerBackend,
    settings: SendSettings,
    run_id: str,
    on_result: ProgressCallback | None = None,
    stop: asyncio.Event | None = None,
    rng: random.Random | None = None,
    stats: SendStats | None = None,
    unbooked: Mapping[int, Outcome] | None = None,
    timing: Timing = REAL_TIME,
) -> dict[int, RowResult]:
    """Cancel every appointment named (by id or reference); one RowResult per item.

    `unbooked`: rows never booked, by their outcome in the results given (see triage_cancels).
    """
    setup = Setup(client, ledger, settings, run_id, on_result, stop, rng, stats, timing)
    return await CancelRun(setup).execute(items, unbooked)


class CancelRun(Engine[CancelRequest]):
    operation = CANCEL

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        self._to_resolve: tuple[tuple[int, CancelRequest], ...] = ()
        self._unresolved: set[str] = set()  # ids an earlier run sent with no answer

    async def execute(
        self,
        items: Sequence[tuple[int, CancelRequest]],
        unbooked: Mapping[int, Outcome] | None = None,
    ) -> dict[int, RowResult]:
        triage = triage_cancels(items, self.ledger, unbooked)
        self.begin(items, triage.done)
        self._unresolved = {entry.key for entry in self.ledger.unresolved(CANCEL)}
        fresh = (
            self._new_row(position, appointment_id, request)
            for position, appointment_id, request in triage.to_send
        )
        self._to_resolve = triage.to_resolve
        await self.run(self.fresh(fresh))
        return self.finalise(items)

    def _new_row(
        self, position: int, appointment_id: str, request: CancelRequest
    ) -> Row[CancelRequest]:
        """A cancel an earlier run sent without an answer is checked (show) before resending."""
        check = appointment_id in self._unresolved
        return Row(position, appointment_id, request, waiting_check=check)

    def background(self) -> list[Coroutine[Any, Any, None]]:
        return [self._resolve()] if self._to_resolve else []

    def key_of(self, request: CancelRequest) -> str | None:
        appointment_id = request.appointment_id
        return appointment_id.strip() if appointment_id and appointment_id.strip() else None

    def references(self, row: Row[CancelRequest]) -> Mapping[str, str] | None:
        reference = row.request.reference
        return {row.key: reference.strip()} if reference and reference.strip() else None

    def moved_on(self, row: Row[CancelRequest], entry: LedgerEntry) -> None:
        """Another run cancelled it since our triage (done), or left its cancel without an
        answer (check it with a show before sending)."""
        if entry.state is EntryState.DONE:
            outcome = Outcome.CANCELLED if row.unknown_sent else Outcome.ALREADY_CANCELLED
            self.finish(row, RowResult(outcome, stored(entry), attempts=row.attempts))
            return
        row.waiting_check = entry.state in (EntryState.SENDING, EntryState.UNKNOWN)
        self.queue.push(row)

    async def attempt(self, row: Row[CancelRequest]) -> None:
        if row.waiting_check:
            await self._check(row)
            return
        reason = row.request.cancellation_reason
        result = await self.send(row, lambda: self.client.cancel(row.key, reason))
        if result.kind is ResultKind.SUCCESS and result.value is not None:
            self.record(row, EntryState.DONE, result)
            self.finish(row, RowResult(Outcome.CANCELLED, result.value, attempts=row.attempts))
        elif result.kind is ResultKind.REJECTED:
            self._on_refusal(row, result)
        elif result.kind is ResultKind.RETRY_LATER:
            self.record(row, EntryState.NOT_APPLIED, result)
            self.retry(row, result)
        elif result.kind is ResultKind.FATAL:
            self.record(row, EntryState.NOT_APPLIED, result)
            self.halt(result.message)
        else:
            self.stats.unknown += 1
            self.record(row, EntryState.UNKNOWN, result)
            row.unknown_sent = row.waiting_check = True
            self.retry(row, result)

    def _on_refusal(self, row: Row[CancelRequest], result: ApiResult[Any]) -> None:
        """A 4xx: already cancelled (done), no such appointment, or refused for good."""
        if _already_cancelled(result):
            self.writes.record([LedgerUpdate(CANCEL, row.key, EntryState.DONE,
                                             status=CANCELLED_STATUS)])  # fmt: skip
            outcome = Outcome.CANCELLED if row.unknown_sent else Outcome.ALREADY_CANCELLED
            self.finish(row, RowResult(outcome, attempts=row.attempts))
            return
        self.record(row, EntryState.REJECTED, result)
        if result.status_code == 404:
            text = _("No appointment with id {id} exists.").format(id=row.key)
            self.finish(row, RowResult(Outcome.REJECTED, error=text, attempts=row.attempts))
        else:
            self.finish(row, rejection(result, row.attempts))

    async def _check(self, row: Row[CancelRequest]) -> None:
        """After an unknown cancel: did it take? Cancelled: done. Not: send it again."""
        if row.started is None:
            row.started = self.clock()
        result = await self.read(lambda: self.client.show(row.key))
        self.log(row, result)
        appointment = result.value
        if result.kind is ResultKind.SUCCESS and appointment is not None:
            if appointment.status == CANCELLED_STATUS:
                self.record(row, EntryState.DONE, result)
                outcome = Outcome.CANCELLED if row.unknown_sent else Outcome.ALREADY_CANCELLED
                self.finish(row, RowResult(outcome, appointment, attempts=row.attempts))
            else:
                self.record(row, EntryState.NOT_APPLIED)
                row.waiting_check = False
                self.queue.push(row)
        elif result.kind is ResultKind.REJECTED:
            self._on_refusal(row, result)
        elif result.kind is ResultKind.FATAL:
            self.halt(result.message)
        else:
            self.retry(row, result)

    async def _resolve(self) -> None:
        """Find the ids of the cancels named only by reference, in one sweep."""
        rows = self._to_resolve
        references = {request.reference.strip() for _, request in rows if request.reference}
        try:
            swept = await sweep(self, references)
        except RunStopping:
            return  # the rows stay unsent
        if swept.refused is not None:
            self.halt(swept.refused)
            return
        if swept.failed is not None:
            for position, _request in rows:
                words = _("Could not look up the reference ({why}); nothing was cancelled.")
                text = words.format(why=swept.failed)
                self.emit(position, RowResult(Outcome.FAILED, error=text))
            return
        for position, request in rows:
            reference = (request.reference or "").strip()
            self._resolved(position, request, swept.found.get(reference, []))

    def _resolved(self, position: int, request: CancelRequest, found: list[Appointment]) -> None:
        reference = (request.reference or "").strip()
        live = [item for item in found if item.status != CANCELLED_STATUS]
        result: RowResult | None = None
        if not found:
            result = _no_reference(reference)
        elif not live:
            result = RowResult(Outcome.ALREADY_CANCELLED, found[0])
        elif len(live) > 1:
            ids = ", ".join(item.id for item in live)
            result = RowResult(
                Outcome.REJECTED,
                error=_(
                    "{count} appointments have reference {reference} ({ids}); give the "
                    "appointment_id of the one to cancel."
                ).format(count=len(live), reference=reference, ids=ids),
            )
        if result is None:
            result = self._known_cancel(live[0].id)
        if result is not None:
            self.emit(position, result)
            return
        row = self._new_row(position, live[0].id, request)
        if self.adopt(row):
            self.queue.push(row)

    def _known_cancel(self, appointment_id: str) -> RowResult | None:
        """ALREADY_CANCELLED if the ledger already holds this cancel as done."""
        self.writes.flush()  # read what this run has recorded so far
        entry = self.ledger.get(CANCEL, appointment_id)
        if entry is not None and entry.state is EntryState.DONE:
            return RowResult(Outcome.ALREADY_CANCELLED, stored(entry))
        return None


def _already_cancelled(result: ApiResult[Any]) -> bool:
    texts = [result.message or "", *result.field_errors.get("status", ())]
    return result.status_code == 422 and any(
        "already" in text.lower() and "cancel" in text.lower() for text in texts
    )


def _no_reference(reference: str) -> RowResult:
    words = _("No appointment with reference {reference} was found.")
    return RowResult(Outcome.REJECTED, error=words.format(reference=reference))
