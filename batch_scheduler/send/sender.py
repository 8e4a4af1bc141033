"""Sending: creates and cancels in bulk, paced, retried, and applied exactly once.

What makes it exactly once (docs/architecture.md, "Exactly once"):
- Before a request goes out its key is marked SENDING in the ledger (a committed
  transaction); the answer is recorded as soon as it comes back.
- A create whose outcome is unknown (500/502/504, dropped connection, timeout) is never
  resent blindly: the row waits for a reconciliation sweep, one pass over the whole list
  for every row waiting at that moment, matching `reference` itself. Found: DONE. Not
  found: NOT_APPLIED, then resent as a retry. Rows a crashed earlier run left SENDING or
  UNKNOWN go through the same sweep before anything else happens to them.
- A resent cancel is harmless (the second answers "already cancelled"), so an unknown
  cancel is checked with a `show` and sent again if it did not take.

How it is paced: a fixed pool of `concurrency` workers pulls rows from one queue (due
retries first, then fresh rows in input order, created lazily: 100k rows are not 100k
tasks); every request, list pages included, takes a token from one adaptive `RateLimiter`
and one of `concurrency` slots. Each worker makes one request per row it takes.

Stopping: when `stop` is set nothing new starts; requests in flight get `drain_timeout`
to come back, then are cancelled (their keys stay SENDING for the next run to check).
Every row still gets exactly one RowResult. A FATAL answer (401 after renewal, 403) stops
the run the same way and raises AuthError.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import random
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from http import HTTPStatus
from typing import Any, TypeVar

from batch_scheduler.api import ApiClient
from batch_scheduler.config import SendSettings
from batch_scheduler.errors import AuthError
from batch_scheduler.ledger import CANCEL, CREATE, EntryState, GroupCommit, Ledger, LedgerUpdate
from batch_scheduler.models import (
    ApiResult,
    Appointment,
    AppointmentRequest,
    CancelRequest,
    Outcome,
    Page,
    ResultKind,
    RowResult,
)
from batch_scheduler.send.matching import CANCELLED_STATUS, best_match, compare
from batch_scheduler.send.pacing import GiveUp, RateLimiter, RetryPolicy
from batch_scheduler.send.triage import found_result, stored, triage_cancels, triage_creates

__all__ = ["ProgressCallback", "SendStats", "send_cancels", "send_creates"]

T = TypeVar("T")
logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, RowResult], None]

SETTLE = 0.2  # seconds an unknown create waits before a sweep looks for it (late stores)
NOT_SENT = "Not sent: the run was interrupted."
NOT_RESENT = "Not sent again: the run was interrupted before the retry (nothing was applied)."
IN_FLIGHT = (
    "Interrupted while the request was in flight; the next run will check whether it was applied."
)
NOT_CHECKED = (
    "Interrupted before it could be checked whether an earlier request was applied; the next "
    "run will check."
)
_STATUS_WORDS = {429: "too many requests", 502: "bad gateway", 504: "gateway timeout"}
# RETRY_LATER answers that concern the whole service: 429, and None (no connection at all).
_SERVICE_WIDE = (429, None)


# ---------------------------------------------------------------- statistics


@dataclass
class SendStats:
    """Counts of one send, for the Summary sheet and the logs."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0  # 429 answers
    unknown: int = 0  # answers that left the outcome unknown
    reconciled_found: int = 0
    reconciled_missing: int = 0
    sweeps: int = 0
    started: float = 0.0  # time.monotonic()
    finished: float = 0.0

    def achieved_rate(self) -> float:
        """Requests per second over the whole send (0 when nothing was timed)."""
        elapsed = self.finished - self.started
        return self.requests / elapsed if elapsed > 0 else 0.0


# ---------------------------------------------------------------- public entry points


async def send_creates(
    items: Sequence[tuple[int, AppointmentRequest]],
    *,
    client: ApiClient,
    ledger: Ledger,
    settings: SendSettings,
    run_id: str,
    on_result: ProgressCallback | None = None,
    stop: asyncio.Event | None = None,
    rng: random.Random | None = None,
    stats: SendStats | None = None,
    zone: tzinfo = UTC,
) -> dict[int, RowResult]:
    """Create every appointment exactly once; one RowResult per item, by position.

    A reference already on the account that is not this row's booking (cancelled, or for
    another slot or claimant) is a CONFLICT, never sent (matching.py); `zone` is the sheet's
    time zone, for its message. Raises AuthError (after stopping cleanly) when the API
    refuses the credentials.
    """
    run = _CreateRun(client, ledger, settings, run_id, on_result, stop, rng, stats, zone=zone)
    return await run.execute(items)


async def send_cancels(
    items: Sequence[tuple[int, CancelRequest]],
    *,
    client: ApiClient,
    ledger: Ledger,
    settings: SendSettings,
    run_id: str,
    on_result: ProgressCallback | None = None,
    stop: asyncio.Event | None = None,
    rng: random.Random | None = None,
    stats: SendStats | None = None,
    unbooked: Mapping[int, Outcome] | None = None,
) -> dict[int, RowResult]:
    """Cancel every appointment named (by id or reference); one RowResult per item.

    `unbooked`: rows never booked, by their outcome in the results given (see triage_cancels).
    """
    run = _CancelRun(client, ledger, settings, run_id, on_result, stop, rng, stats)
    return await run.execute(items, unbooked)


# ---------------------------------------------------------------- rows and the work queue


@dataclass(eq=False, slots=True)
class _Row:
    """One row's progress in this run."""

    position: int
    key: str  # the reference (create) or appointment id (cancel)
    request: Any  # AppointmentRequest or CancelRequest
    earlier_run: bool = False  # the ledger said SENDING/UNKNOWN when the run began
    attempts: int = 0  # changing requests sent in this run
    retries: int = 0  # retries counted against max_retries
    started: float | None = None  # monotonic time of the first attempt
    sent_at: float | None = None  # monotonic time the last changing request went out
    last: ApiResult[Any] | None = None
    on_wire: bool = False  # marked SENDING and not yet answered
    waiting_check: bool = False  # waiting for a sweep (create) or a show (cancel)
    unknown_sent: bool = False  # a request of this run had an unknown outcome
    taken: bool = False  # the server said the reference is already taken
    followers: list[_Row] = field(default_factory=list)  # later rows with the same key


class _WorkQueue:
    """Rows ready to go: due retries first, then fresh rows in input order."""

    def __init__(self, fresh: Iterator[_Row], clock: Callable[[], float]) -> None:
        self._fresh = fresh
        self._clock = clock
        self._delayed: list[tuple[float, int, _Row]] = []
        self._seq = itertools.count()
        self._changed = asyncio.Event()
        self._closed = False

    def push(self, row: _Row, delay: float = 0.0) -> None:
        heapq.heappush(self._delayed, (self._clock() + delay, next(self._seq), row))
        self._changed.set()

    def close(self) -> None:
        self._closed = True
        self._changed.set()

    async def get(self) -> _Row | None:
        """The next row to send, waiting for one; None once the queue is closed."""
        while not self._closed:
            now = self._clock()
            if self._delayed and self._delayed[0][0] <= now:
                return heapq.heappop(self._delayed)[2]
            row = next(self._fresh, None)
            if row is not None:
                return row
            timeout = self._delayed[0][0] - now if self._delayed else None
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)
        return None


class _Fatal(Exception):
    """The API refused the credentials during a sweep."""


class _SweepFailed(Exception):
    """A page of the list could not be fetched, even after retrying."""


class _Closing(Exception):
    """The run is stopping: the request about to go out is not sent."""


# ---------------------------------------------------------------- the shared engine


class _Run:
    """The pool, pacing, retries, stop and drain shared by creates and cancels."""

    operation = ""

    def __init__(
        self,
        client: ApiClient,
        ledger: Ledger,
        settings: SendSettings,
        run_id: str,
        on_result: ProgressCallback | None,
        stop: asyncio.Event | None,
        rng: random.Random | None,
        stats: SendStats | None,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.settings = settings
        self.run_id = run_id
        self.stats = stats if stats is not None else SendStats()
        self.policy = RetryPolicy.from_settings(settings)
        self.limiter = RateLimiter(
            settings.rate, burst=min(float(settings.concurrency), max(1.0, settings.rate))
        )
        self.results: dict[int, RowResult] = {}
        self._on_result = on_result
        self._stop = stop or asyncio.Event()
        self._rng = rng or random.Random()
        self._clock = time.monotonic
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._touched: dict[int, _Row] = {}
        self._leaders: dict[str, _Row] = {}
        self._pending = 0  # positions still without a result
        self._crash: BaseException | None = None
        self._writes = GroupCommit(ledger, run_id, self._write_failed)
        self._all_done = asyncio.Event()
        self._halted = asyncio.Event()
        self._fatal: str | None = None
        self._stopping = False
        self._in_flight: set[asyncio.Task[None]] = set()
        self._queue = _WorkQueue(iter(()), self._clock)

    # -------------------------------------------------------- to be provided per operation

    async def attempt(self, row: _Row) -> None:
        raise NotImplementedError

    def background(self) -> list[Coroutine[Any, Any, None]]:
        return []

    def key_of(self, request: Any) -> str | None:
        raise NotImplementedError

    def as_follower(self, result: RowResult, row: _Row) -> RowResult:
        """The result of `row`, which repeats the key of the row that got `result`."""
        return _as_follower(result)

    # -------------------------------------------------------- the run

    def _begin(self, items: Sequence[tuple[int, Any]], done: Mapping[int, RowResult]) -> None:
        self.stats.started = self._clock()
        self._pending = len(items)
        for position, result in done.items():
            self._emit(position, result)

    async def _run(self, fresh: Iterator[_Row]) -> None:
        """Run the pool until every row is final, `stop` is set, or a FATAL answer."""
        self._queue = _WorkQueue(fresh, self._clock)
        if self._pending == 0:
            return
        workers = [asyncio.create_task(self._worker()) for _ in range(self.settings.concurrency)]
        helpers = [asyncio.create_task(job) for job in self.background()]
        ends = [
            asyncio.create_task(self._all_done.wait()),
            asyncio.create_task(self._halted.wait()),
            asyncio.create_task(self._stop.wait()),
        ]
        error: BaseException | None = None
        try:
            error = await self._watch(workers + helpers, ends)
        finally:
            graceful = error is None and not self._all_done.is_set()
            await self._shutdown(workers + helpers + ends, graceful=graceful)
            self._writes.flush()
            self.stats.finished = self._clock()
        error = error or self._crash
        if error is not None:
            raise error
        if self._fatal is not None:
            raise AuthError(self._fatal)

    async def _watch(
        self, tasks: list[asyncio.Task[None]], ends: list[asyncio.Task[Any]]
    ) -> BaseException | None:
        """Wait for an end (done, halted, stopped) or a task that crashed; return the crash."""
        watched: set[asyncio.Task[Any]] = set(tasks) | set(ends)
        while True:
            done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    return task.exception()
            if done & set(ends):
                return None
            watched -= done

    async def _shutdown(self, tasks: list[asyncio.Task[Any]], *, graceful: bool) -> None:
        """Start nothing new; give requests in flight drain_timeout, then cancel them."""
        self._stopping = True
        self._queue.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        in_flight = set(self._in_flight)
        if in_flight and graceful:
            await asyncio.wait(in_flight, timeout=self.settings.drain_timeout)
        for task in in_flight:
            task.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)

    async def _worker(self) -> None:
        while (row := await self._queue.get()) is not None:
            await self.limiter.acquire()
            if self._closing():
                return
            task = asyncio.create_task(self._attempt(row))
            self._in_flight.add(task)
            task.add_done_callback(self._attempt_done)
            await asyncio.shield(task)

    async def _attempt(self, row: _Row) -> None:
        with contextlib.suppress(_Closing):
            await self.attempt(row)

    def _closing(self) -> bool:
        """True once nothing new may start: stop was asked, or the credentials failed."""
        return self._stopping or self._stop.is_set() or self._halted.is_set()

    def _write_failed(self, error: BaseException) -> None:
        """A ledger commit failed (disk full, ...): stop, and raise it after the drain."""
        if self._crash is None:
            self._crash = error
        self._halted.set()

    def _attempt_done(self, task: asyncio.Task[None]) -> None:
        """Forget a finished attempt; keep its crash (a bug) to raise after the drain."""
        self._in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None and self._crash is None:
            self._crash = task.exception()

    # -------------------------------------------------------- rows

    def _adopt(self, row: _Row) -> bool:
        """Register a row; False (and the row follows) when an earlier row has its key."""
        self._touched[row.position] = row
        leader = self._leaders.get(row.key)
        if leader is None:
            self._leaders[row.key] = row
            return True
        leader.followers.append(row)
        if leader.position in self.results:
            self._emit(row.position, self.as_follower(self.results[leader.position], row))
        return False

    def _fresh(self, rows: Iterable[_Row]) -> Iterator[_Row]:
        """Leaders among `rows`, registered only when a worker reaches them."""
        for row in rows:
            if self._adopt(row):
                yield row

    def _finish(self, row: _Row, result: RowResult) -> None:
        """A row's final result: report it and its followers, once."""
        if row.position in self.results:
            return
        row.waiting_check = False
        self._emit(row.position, result)
        for follower in row.followers:
            self._emit(follower.position, self.as_follower(result, follower))

    def _emit(self, position: int, result: RowResult) -> None:
        """Report one position's final result (once); the run ends with the last one."""
        if position in self.results:
            return
        self.results[position] = result
        self._pending -= 1
        if self._pending == 0:
            self._all_done.set()
            self._queue.close()
        if self._on_result is not None:
            self._on_result(position, result)

    def _halt(self, message: str) -> None:
        if self._fatal is None:
            self._fatal = message
        self._halted.set()

    def _finalise(self, items: Sequence[tuple[int, Any]]) -> dict[int, RowResult]:
        """Give every row without a result its interrupted result; results in input order."""
        for position, request in items:
            if position in self.results:
                continue
            row = self._touched.get(position)
            key = row.key if row is not None else self.key_of(request)
            leader = self._leaders.get(key) if key is not None else None
            if leader is not None and leader is not row:
                self._emit(position, _as_follower(self._interrupted(leader)))
            else:
                self._emit(position, self._interrupted(row))
        self.stats.finished = self._clock()
        return {position: self.results[position] for position, _ in items}

    def _interrupted(self, row: _Row | None) -> RowResult:
        if row is None:
            return RowResult(Outcome.NOT_ATTEMPTED, error=NOT_SENT)
        if row.position in self.results:
            return self.results[row.position]
        if row.on_wire:
            return RowResult(Outcome.FAILED, error=IN_FLIGHT, attempts=row.attempts)
        if row.waiting_check:
            return RowResult(Outcome.FAILED, error=NOT_CHECKED, attempts=row.attempts)
        text = NOT_RESENT if row.attempts else NOT_SENT
        return RowResult(Outcome.NOT_ATTEMPTED, error=text, attempts=row.attempts)

    # -------------------------------------------------------- requests and retries

    async def _send(self, row: _Row, call: Callable[[], Awaitable[ApiResult[T]]]) -> ApiResult[T]:
        """Mark the key SENDING, send the changing request, note the answer."""
        async with self._slots:
            if self._closing():
                raise _Closing
            refs = self._refs(row)
            reference = refs.get(row.key) if refs else None
            await self._writes.mark_sending(self.operation, row.key, reference)
            row.on_wire = True
            row.attempts += 1
            if row.started is None:
                row.started = self._clock()
            self.stats.requests += 1
            row.sent_at = self._clock()
            result = await call()
            row.on_wire = False
        row.last = result
        self._log(row, result)
        return result

    async def _read(self, call: Callable[[], Awaitable[ApiResult[T]]]) -> ApiResult[T]:
        """One read request within the concurrency limit (the caller holds a rate token)."""
        async with self._slots:
            if self._closing():
                raise _Closing
            self.stats.requests += 1
            return await call()

    def _refs(self, row: _Row) -> Mapping[str, str] | None:
        return None

    def _log(self, row: _Row, result: ApiResult[Any]) -> None:
        logger.debug(
            "%s %s attempt %d: HTTP %s -> %s",
            self.operation,
            row.key,
            row.attempts,
            result.status_code if result.status_code is not None else "-",
            result.kind.value,
        )

    def _record(self, row: _Row, state: EntryState, result: ApiResult[Any] | None = None) -> None:
        """Record an answer for the row's key (the appointment it carried, if any)."""
        appointment = result.value if result is not None else None
        error = result.message if result is not None and state is not EntryState.DONE else None
        self._writes.record([_update(self.operation, row.key, state, appointment, error)])

    def _retry(self, row: _Row, result: ApiResult[Any], *, counted: bool = True) -> None:
        """Schedule the row again after backoff (or the 429 wait), or fail it for good."""
        now = self._clock()
        if result.kind is ResultKind.RETRY_LATER and result.status_code in _SERVICE_WIDE:
            # A 429, or no connection at all (refused, connect timeout): the service, not
            # this row, is in trouble. The wait counts against the row's deadline only, so
            # a server away for a while (a restart) is ridden out. Only a 429 slows us.
            wait = self.policy.throttle_wait(result.retry_after)
            if result.status_code == 429:
                self.stats.throttled += 1
                self.limiter.throttle(wait, sent_at=row.sent_at)
            counted = False
        else:
            wait = self.policy.backoff(row.retries + 1, self._rng)
            if result.retry_after is not None:
                wait = max(wait, result.retry_after)
        started = row.started if row.started is not None else now
        reason = self.policy.give_up(
            retries=row.retries, started=started, now=now, wait=wait, counted=counted
        )
        if reason is not None:
            self._finish(row, self._gave_up(row, result, reason, now - started))
            return
        row.retries += counted
        self.stats.retries += 1
        if not self._stopping:
            self._queue.push(row, wait)

    def _gave_up(
        self, row: _Row, result: ApiResult[Any], reason: GiveUp, elapsed: float
    ) -> RowResult:
        last = describe(result)
        if reason is GiveUp.DEADLINE:
            text = (
                f"Gave up after {elapsed:.0f} s (the time limit per row is "
                f"{self.policy.deadline:g} s); the last answer was {last}."
            )
        elif result.status_code is not None:
            text = f"The server kept answering {last} after {row.retries} retries."
        else:
            text = f"Gave up after {row.retries} retries: {last}."
        if row.waiting_check:
            text += " The last request may have been applied; the next run will check."
        return RowResult(Outcome.FAILED, error=text, attempts=row.attempts)

    # -------------------------------------------------------- the list, swept once

    async def sweep(self, references: Iterable[str]) -> dict[str, list[Appointment]]:
        """Page through the whole list once; the appointments carrying each reference.

        Pages go through the same limiter and slots as every other request. Raises _Fatal
        on refused credentials, _SweepFailed when a page keeps failing.
        """
        wanted = set(references)
        found: dict[str, list[Appointment]] = {}
        seen: set[str] = set()
        self.stats.sweeps += 1
        number = 1
        while True:
            page = await self._page(number)
            for item in page.items:
                if item.reference in wanted and item.id not in seen:
                    seen.add(item.id)
                    found.setdefault(item.reference, []).append(item)
            if not page.items or (page.last_page is not None and number >= page.last_page):
                break
            number += 1
        logger.debug(
            "sweep %d: %d page(s), %d of %d found",
            self.stats.sweeps,
            number,
            len(found),
            len(wanted),
        )
        return found

    async def _page(self, number: int) -> Page:
        per_page = self.settings.list_per_page
        for retry in itertools.count(1):
            await self.limiter.acquire()
            sent_at = self._clock()
            result = await self._read(lambda: self.client.list_page(number, per_page))
            if result.kind is ResultKind.SUCCESS and result.value is not None:
                return result.value
            if result.kind is ResultKind.FATAL:
                raise _Fatal(result.message or "The API refused the credentials.")
            if result.kind is ResultKind.REJECTED or retry > self.policy.max_retries:
                raise _SweepFailed(f"page {number} of the list: {describe(result)}")
            if result.status_code == 429:
                self.stats.throttled += 1
                wait = self.policy.throttle_wait(result.retry_after)
                self.limiter.throttle(wait, sent_at=sent_at)
            else:
                wait = self.policy.backoff(retry, self._rng)
            self.stats.retries += 1
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")


# ---------------------------------------------------------------- creates


class _CreateRun(_Run):
    operation = CREATE

    def __init__(self, *args: Any, zone: tzinfo = UTC) -> None:
        super().__init__(*args)
        self._zone = zone
        self._waiting: dict[str, tuple[float, _Row]] = {}  # reference -> (ready at, row)
        self._arrived = asyncio.Event()
        self._sweep_gap = 0.0  # the last sweep's duration: sweeps take at most half the time

    async def execute(self, items: Sequence[tuple[int, Any]]) -> dict[int, RowResult]:
        triage = triage_creates(items, self.ledger, zone=self._zone)
        self._begin(items, triage.done)
        for position, request in triage.to_reconcile:
            row = _Row(position, request.reference, request, earlier_run=True)
            if self._adopt(row):
                self._wait_for_sweep(row, settle=False)
        fresh = (_Row(position, request.reference, request) for position, request in triage.to_send)
        await self._run(self._fresh(fresh))
        return self._finalise(items)

    def background(self) -> list[Coroutine[Any, Any, None]]:
        return [self._reconciler()]

    def key_of(self, request: Any) -> str | None:
        return str(request.reference)

    def as_follower(self, result: RowResult, row: _Row) -> RowResult:
        """A row repeating a reference is the same booking only if it asks for the same."""
        found = result.appointment
        if result.outcome not in (Outcome.CREATED, Outcome.ALREADY_EXISTS) or found is None:
            return _as_follower(result)
        match = compare(row.request, found, self._zone)
        return _as_follower(result) if match.is_booking else found_result(match, self._zone)

    async def attempt(self, row: _Row) -> None:
        request: AppointmentRequest = row.request
        result = await self._send(row, lambda: self.client.create(request))
        kind = result.kind
        if kind is ResultKind.SUCCESS and result.value is not None:
            self._record(row, EntryState.DONE, result)
            self._finish(row, RowResult(Outcome.CREATED, result.value, attempts=row.attempts))
        elif kind is ResultKind.REJECTED and _reference_taken(result):
            self._record(row, EntryState.UNKNOWN, result)
            row.taken = True
            self._wait_for_sweep(row, settle=False)
        elif kind is ResultKind.REJECTED:
            self._record(row, EntryState.REJECTED, result)
            self._finish(row, _rejected(result, row.attempts))
        elif kind is ResultKind.RETRY_LATER:
            self._record(row, EntryState.NOT_APPLIED, result)
            self._retry(row, result)
        elif kind is ResultKind.FATAL:
            self._record(row, EntryState.NOT_APPLIED, result)
            self._halt(result.message or "The API refused the credentials.")
        else:  # UNKNOWN, or a success without a body: may be stored
            self.stats.unknown += 1
            self._record(row, EntryState.UNKNOWN, result)
            row.unknown_sent = True
            self._wait_for_sweep(row, settle=True)

    # -------------------------------------------------------- reconciliation

    def _wait_for_sweep(self, row: _Row, *, settle: bool) -> None:
        row.waiting_check = True
        if row.started is None:  # an earlier run's row: its deadline starts with the check
            row.started = self._clock()
        self._waiting[row.key] = (self._clock() + (SETTLE if settle else 0.0), row)
        self._arrived.set()

    async def _reconciler(self) -> None:
        """Sweep for the waiting rows: each once it has settled, sweeps at most half the time."""
        last_end = -float("inf")
        while True:
            await self._arrived.wait()
            if not self._waiting:
                self._arrived.clear()
                continue
            first_ready = min(ready for ready, _ in self._waiting.values())
            await _sleep_until(max(first_ready, last_end + self._sweep_gap), self._clock)
            now = self._clock()
            batch = {key: row for key, (ready, row) in self._waiting.items() if ready <= now}
            for key in batch:
                del self._waiting[key]
            if not batch:
                continue
            began = self._clock()
            await self._reconcile(batch)
            last_end = self._clock()
            self._sweep_gap = last_end - began

    async def _reconcile(self, batch: dict[str, _Row]) -> None:
        try:
            found = await self.sweep(batch)
        except _Closing:
            return  # the rows stay waiting: reported as not checked
        except _Fatal as exc:
            self._halt(str(exc))
            return
        except _SweepFailed as exc:
            for row in batch.values():
                self._sweep_failed(row, str(exc))
            return
        self._resolve_found({key: found[key] for key in batch if key in found}, batch)
        for key, row in batch.items():
            if key not in found:
                self._resolve_missing(row)

    def _resolve_found(self, found: dict[str, list[Appointment]], batch: dict[str, _Row]) -> None:
        """Rows whose reference is on the account: their booking (DONE), or a conflict.

        A conflict stays UNKNOWN in the ledger: never sent blindly, checked again next run
        (by then the sheet may have been fixed, or the appointment changed)."""
        matches = {key: best_match(batch[key].request, items, self._zone)
                   for key, items in found.items()}  # fmt: skip
        updates = [
            _update(CREATE, key, EntryState.DONE, match.appointment)
            if match.is_booking
            else _update(CREATE, key, EntryState.UNKNOWN, None, "conflict")
            for key, match in matches.items()
        ]
        if updates:
            self._writes.record(updates)
        for key, match in matches.items():
            row = batch[key]
            self.stats.reconciled_found += 1
            if not match.is_booking:
                logger.info("reference %s is held by another appointment: conflict", key)
                self._finish(row, found_result(match, self._zone, row.attempts))
                continue
            outcome = Outcome.CREATED if row.unknown_sent else Outcome.ALREADY_EXISTS
            others = [item for item in found[key] if item is not match.appointment
                      and item.status != CANCELLED_STATUS]  # fmt: skip
            warning = _duplicates_warning(key, match.appointment, others) if others else None
            if warning:
                outcome = Outcome.ALREADY_EXISTS
                logger.warning("reference %s: %d appointments on the server", key, len(others) + 1)
            self._finish(row, RowResult(outcome, match.appointment, warning, attempts=row.attempts))

    def _resolve_missing(self, row: _Row) -> None:
        self.stats.reconciled_missing += 1
        row.waiting_check = False
        if row.taken:
            self._finish(row, _taken_but_missing(row))
            return
        self._record(row, EntryState.NOT_APPLIED)
        if row.last is None:  # left by an earlier run, never sent in this one: send now
            self._queue.push(row)
        else:
            self._retry(row, row.last)

    def _sweep_failed(self, row: _Row, message: str) -> None:
        """The list could not be read: try the sweep again later, within the row's budget."""
        now = self._clock()
        started = row.started if row.started is not None else now
        wait = self.policy.backoff(row.retries + 1, self._rng)
        reason = self.policy.give_up(retries=row.retries, started=started, now=now, wait=wait)
        if reason is None:
            row.retries += 1
            self.stats.retries += 1
            self._waiting[row.key] = (now + wait, row)
            self._arrived.set()
            return
        text = (
            f"Could not check whether the appointment was created ({message}); the next run "
            "will check again before sending it."
        )
        self._finish(row, RowResult(Outcome.FAILED, error=text, attempts=row.attempts))


# ---------------------------------------------------------------- cancels


class _CancelRun(_Run):
    operation = CANCEL

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._to_resolve: tuple[tuple[int, CancelRequest], ...] = ()
        self._unresolved: set[str] = set()  # ids an earlier run sent with no answer

    async def execute(
        self, items: Sequence[tuple[int, Any]], unbooked: Mapping[int, Outcome] | None = None
    ) -> dict[int, RowResult]:
        triage = triage_cancels(items, self.ledger, unbooked)
        self._begin(items, triage.done)
        self._unresolved = {entry.key for entry in self.ledger.unresolved(CANCEL)}
        fresh = (
            self._new_row(position, appointment_id, request)
            for position, appointment_id, request in triage.to_send
        )
        self._to_resolve = triage.to_resolve
        await self._run(self._fresh(fresh))
        return self._finalise(items)

    def _new_row(self, position: int, appointment_id: str, request: CancelRequest) -> _Row:
        """A cancel an earlier run sent without an answer is checked (show) before resending."""
        check = appointment_id in self._unresolved
        return _Row(position, appointment_id, request, waiting_check=check)

    def background(self) -> list[Coroutine[Any, Any, None]]:
        return [self._resolve()] if self._to_resolve else []

    def key_of(self, request: Any) -> str | None:
        appointment_id = request.appointment_id
        return appointment_id.strip() if appointment_id and appointment_id.strip() else None

    def _refs(self, row: _Row) -> Mapping[str, str] | None:
        reference = row.request.reference
        return {row.key: reference.strip()} if reference and reference.strip() else None

    async def attempt(self, row: _Row) -> None:
        if row.waiting_check:
            await self._check(row)
            return
        request: CancelRequest = row.request
        result = await self._send(
            row, lambda: self.client.cancel(row.key, request.cancellation_reason)
        )
        if result.kind is ResultKind.SUCCESS and result.value is not None:
            self._record(row, EntryState.DONE, result)
            self._finish(row, RowResult(Outcome.CANCELLED, result.value, attempts=row.attempts))
        elif result.kind is ResultKind.REJECTED:
            self._rejected(row, result)
        elif result.kind is ResultKind.RETRY_LATER:
            self._record(row, EntryState.NOT_APPLIED, result)
            self._retry(row, result)
        elif result.kind is ResultKind.FATAL:
            self._record(row, EntryState.NOT_APPLIED, result)
            self._halt(result.message or "The API refused the credentials.")
        else:
            self.stats.unknown += 1
            self._record(row, EntryState.UNKNOWN, result)
            row.unknown_sent = row.waiting_check = True
            self._retry(row, result)

    def _rejected(self, row: _Row, result: ApiResult[Any]) -> None:
        if _already_cancelled(result):
            self._writes.record([LedgerUpdate(CANCEL, row.key, EntryState.DONE,
                                             status=CANCELLED_STATUS)])  # fmt: skip
            outcome = Outcome.CANCELLED if row.unknown_sent else Outcome.ALREADY_CANCELLED
            self._finish(row, RowResult(outcome, attempts=row.attempts))
            return
        self._record(row, EntryState.REJECTED, result)
        if result.status_code == 404:
            text = f"No appointment with id {row.key} exists."
            self._finish(row, RowResult(Outcome.REJECTED, error=text, attempts=row.attempts))
        else:
            self._finish(row, _rejected(result, row.attempts))

    async def _check(self, row: _Row) -> None:
        """After an unknown cancel: did it take? Cancelled: done. Not: send it again."""
        if row.started is None:
            row.started = self._clock()
        result = await self._read(lambda: self.client.show(row.key))
        self._log(row, result)
        appointment = result.value
        if result.kind is ResultKind.SUCCESS and appointment is not None:
            if appointment.status == CANCELLED_STATUS:
                self._record(row, EntryState.DONE, result)
                outcome = Outcome.CANCELLED if row.unknown_sent else Outcome.ALREADY_CANCELLED
                self._finish(row, RowResult(outcome, appointment, attempts=row.attempts))
            else:
                self._record(row, EntryState.NOT_APPLIED)
                row.waiting_check = False
                self._queue.push(row)
        elif result.kind is ResultKind.REJECTED:
            self._rejected(row, result)
        elif result.kind is ResultKind.FATAL:
            self._halt(result.message or "The API refused the credentials.")
        else:
            self._retry(row, result)

    async def _resolve(self) -> None:
        """Find the ids of the cancels named only by reference, in one sweep."""
        rows = self._to_resolve
        references = {request.reference.strip() for _, request in rows if request.reference}
        try:
            found = await self.sweep(references)
        except _Closing:
            return  # the rows stay unsent
        except _Fatal as exc:
            self._halt(str(exc))
            return
        except _SweepFailed as exc:
            for position, _ in rows:
                text = f"Could not look up the reference ({exc}); nothing was cancelled."
                self._emit(position, RowResult(Outcome.FAILED, error=text))
            return
        for position, request in rows:
            self._resolved(position, request, found.get((request.reference or "").strip(), []))

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
                error=f"{len(live)} appointments have reference {reference} ({ids}); give the "
                "appointment_id of the one to cancel.",
            )
        if result is None:
            result = self._known_cancel(live[0].id)
        if result is not None:
            self._emit(position, result)
            return
        row = self._new_row(position, live[0].id, request)
        if self._adopt(row):
            self._queue.push(row)

    def _known_cancel(self, appointment_id: str) -> RowResult | None:
        """ALREADY_CANCELLED if the ledger already holds this cancel as done."""
        self._writes.flush()  # read what this run has recorded so far
        entry = self.ledger.get(CANCEL, appointment_id)
        if entry is not None and entry.state is EntryState.DONE:
            return RowResult(Outcome.ALREADY_CANCELLED, stored(entry))
        return None


# ---------------------------------------------------------------- small helpers


async def _sleep_until(moment: float, clock: Callable[[], float]) -> None:
    delay = moment - clock()
    if delay > 0:
        await asyncio.sleep(delay)


def _update(
    operation: str,
    key: str,
    state: EntryState,
    appointment: Appointment | None,
    error: str | None = None,
) -> LedgerUpdate:
    if appointment is None:
        return LedgerUpdate(operation, key, state, error=error)
    return LedgerUpdate(
        operation,
        key,
        state,
        appointment_id=appointment.id,
        status=appointment.status,
        response=dict(appointment.raw) if appointment.raw else None,
        error=error,
    )


def _as_follower(result: RowResult) -> RowResult:
    """The result of a row repeating an earlier row's key: that row did the work."""
    outcome = {
        Outcome.CREATED: Outcome.ALREADY_EXISTS,
        Outcome.CANCELLED: Outcome.ALREADY_CANCELLED,
    }.get(result.outcome, result.outcome)
    return RowResult(outcome, result.appointment, result.error, 0, result.field_errors)


def _reference_taken(result: ApiResult[Any]) -> bool:
    messages = result.field_errors.get("reference", ())
    return any("already" in text.lower() and "taken" in text.lower() for text in messages)


def _already_cancelled(result: ApiResult[Any]) -> bool:
    texts = [result.message or "", *result.field_errors.get("status", ())]
    return result.status_code == 422 and any(
        "already" in text.lower() and "cancel" in text.lower() for text in texts
    )


def _rejected(result: ApiResult[Any], attempts: int) -> RowResult:
    text = result.message or f"The API refused the request (HTTP {result.status_code})."
    return RowResult(Outcome.REJECTED, None, text, attempts, result.field_errors)


def _no_reference(reference: str) -> RowResult:
    return RowResult(
        Outcome.REJECTED, error=f"No appointment with reference {reference} was found."
    )


def _taken_but_missing(row: _Row) -> RowResult:
    text = (
        f"The server says reference {row.key} is already taken, but no appointment with it "
        "is in the list; check it on the platform before booking it again."
    )
    return RowResult(Outcome.FAILED, error=text, attempts=row.attempts)


def _duplicates_warning(reference: str, chosen: Appointment, others: list[Appointment]) -> str:
    ids = ", ".join(item.id for item in others)
    return (
        f"Warning: the server holds {len(others) + 1} live appointments with reference "
        f"{reference}: this row is matched to {chosen.id}; the duplicate(s) {ids} should be "
        "checked and cancelled by hand."
    )


def describe(result: ApiResult[Any]) -> str:
    """An answer in plain words: '503 (service unavailable)', or what went wrong."""
    code = result.status_code
    if code is None:
        return result.message or "no answer"
    words = _STATUS_WORDS.get(code)
    if words is None:
        try:
            words = HTTPStatus(code).phrase.lower()
        except ValueError:
            words = "unexpected status"
    return f"{code} ({words})"
