"""A row's progress through one send, the queue of rows ready to go, and the results a row
can end with when the run is interrupted or the API refuses it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from batch_scheduler.api.classify import describe
from batch_scheduler.i18n import N_, _
from batch_scheduler.models import ApiResult, Outcome, RowResult
from batch_scheduler.send.pacing import GiveUp, Timing

R = TypeVar("R")

# the words of a row the run stopped before it was final (translated when the row is)
NOT_SENT = N_("Not sent: the run was interrupted.")
NOT_RESENT = N_("Not sent again: the run was interrupted before the retry (nothing was applied).")
IN_FLIGHT = N_(
    "Interrupted while the request was in flight; the next run will check whether it was applied."
)
NOT_CHECKED = N_(
    "Interrupted before it could be checked whether an earlier request was applied; the next "
    "run will check."
)


@dataclass(eq=False, slots=True)
class Row(Generic[R]):
    """One row's progress in this run."""

    position: int
    key: str  # the reference (create) or appointment id (cancel)
    request: R
    attempts: int = 0  # changing requests sent in this run
    retries: int = 0  # retries counted against max_retries
    started: float | None = None  # the clock's time of the first attempt
    sent_at: float | None = None  # the clock's time the last changing request went out
    last: ApiResult[Any] | None = None
    on_wire: bool = False  # marked SENDING and not yet answered
    waiting_check: bool = False  # waiting for a sweep (create) or a show (cancel)
    unknown_sent: bool = False  # a request of this run had an unknown outcome
    taken: bool = False  # the server said the reference is already taken
    held_since: float | None = None  # the clock's time another run was first found holding it
    followers: list[Row[R]] = field(default_factory=list)  # later rows with the same key


class WorkQueue(Generic[R]):
    """Rows ready to go: due retries first, then fresh rows in input order."""

    def __init__(self, fresh: Iterator[Row[R]], timing: Timing) -> None:
        self._fresh = fresh
        self._clock = timing.clock
        self._sleep = timing.sleep
        self._delayed: list[tuple[float, int, Row[R]]] = []
        self._seq = itertools.count()
        self._changed = asyncio.Event()
        self._closed = False

    def push(self, row: Row[R], delay: float = 0.0) -> None:
        heapq.heappush(self._delayed, (self._clock() + delay, next(self._seq), row))
        self._changed.set()

    def close(self) -> None:
        self._closed = True
        self._changed.set()

    async def get(self) -> Row[R] | None:
        """The next row to send, waiting for one; None once the queue is closed."""
        while not self._closed:
            now = self._clock()
            if self._delayed and self._delayed[0][0] <= now:
                return heapq.heappop(self._delayed)[2]
            row = next(self._fresh, None)
            if row is not None:
                return row
            self._changed.clear()
            if self._delayed:
                await first_of(self._changed.wait(), self._sleep(self._delayed[0][0] - now))
            else:
                await self._changed.wait()
        return None


async def first_of(*waits: Awaitable[Any]) -> None:
    """Wait until the first of `waits` is over; the others are cancelled."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def interrupted(row: Row[Any] | None) -> RowResult:
    """The result of a row the run stopped before it was final (None: never reached)."""
    if row is None:
        return RowResult(Outcome.NOT_ATTEMPTED, error=_(NOT_SENT))
    if row.on_wire:
        return RowResult(Outcome.FAILED, error=_(IN_FLIGHT), attempts=row.attempts)
    if row.waiting_check:
        return RowResult(Outcome.FAILED, error=_(NOT_CHECKED), attempts=row.attempts)
    text = _(NOT_RESENT) if row.attempts else _(NOT_SENT)
    return RowResult(Outcome.NOT_ATTEMPTED, error=text, attempts=row.attempts)


def gave_up(
    row: Row[Any], result: ApiResult[Any], reason: GiveUp, elapsed: float, deadline: float
) -> RowResult:
    """The result of a row out of retries (or time), with the last answer in words."""
    last = describe(result)
    if reason is GiveUp.DEADLINE:
        text = _(
            "Gave up after {seconds} s (the time limit per row is {limit} s); the last answer "
            "was {last}."
        ).format(seconds=f"{elapsed:.0f}", limit=f"{deadline:g}", last=last)
    elif result.status_code is not None:
        words = _("The server kept answering {last} after {retries} retries.")
        text = words.format(last=last, retries=row.retries)
    else:
        text = _("Gave up after {retries} retries: {last}.").format(retries=row.retries, last=last)
    if row.waiting_check:
        text += " " + _("The last request may have been applied; the next run will check.")
    return RowResult(Outcome.FAILED, error=text, attempts=row.attempts)


def repeat_of(result: RowResult) -> RowResult:
    """The result of a row repeating an earlier row's key: that row did the work."""
    outcome = {
        Outcome.CREATED: Outcome.ALREADY_EXISTS,
        Outcome.CANCELLED: Outcome.ALREADY_CANCELLED,
    }.get(result.outcome, result.outcome)
    return RowResult(outcome, result.appointment, result.error, 0, result.field_errors)


def rejection(result: ApiResult[Any], attempts: int) -> RowResult:
    """A final 4xx: the API's message (or the status) and its field errors."""
    text = result.message or _("The API refused the request (HTTP {status}).").format(
        status=result.status_code
    )
    return RowResult(Outcome.REJECTED, None, text, attempts, result.field_errors)


def held_elsewhere(operation: str, row: Row[Any], holder: str) -> RowResult:
    """The result of a row whose key another run held for longer than the row could wait."""
    words = {"key": row.key, "holder": holder}
    if operation == "cancel":
        text = _(
            "Not sent: another run (%(holder)s) is cancelling appointment %(key)s and has not "
            "finished with it. Run this sheet again once that run has finished."
        )
    else:
        text = _(
            "Not sent: another run (%(holder)s) is booking reference %(key)s and has not "
            "finished with it. Run this sheet again once that run has finished."
        )
    return RowResult(Outcome.NOT_ATTEMPTED, error=text % words, attempts=row.attempts)
