"""The fan-out engine creates and cancels share: workers, one queue, stop and drain, retries,
and the ledger mark before every request that changes something.

Generic in the request type R (AppointmentRequest for creates, CancelRequest for cancels): a
subclass says how one row is attempted (`attempt`) and the engine does the rest.

Exactly once, the engine's part (the ledger's states are drawn in ledger/sql.py): before
a changing request goes out its key is claimed for this run and marked SENDING in the
ledger, and both are committed (`send`, the one door every changing request passes); the
answer is recorded as soon as it comes back (`record`). What to do with an unknown outcome
is the subclass's: creates sweep the list (creates.py), cancels `show` (cancels.py).

Several runs may share a ledger (another machine, the web page beside a CLI run). A key
another run holds is not sent: the row waits and asks again (`wait_for_holder`), until that
run lets go of it or the row's time runs out (then it says which run holds it). A key whose
entry moved on meanwhile (another run booked it, or left it to be checked) goes to the
subclass (`moved_on`). While the run lives its claims are renewed (`_renew_claims`); when it
ends they are released. A ledger database lost mid-run stops the run like a lost API
(`stats.ledger_lost`): nothing more is sent, every row gets its interrupted result.

Pacing: a fixed pool of `concurrency` workers pulls rows from one queue (due retries first,
then fresh rows in input order, created lazily: 100k rows are not 100k tasks); every
request, list pages included, takes a token from one adaptive `RateLimiter` and one of
`concurrency` slots. Each worker makes one request per row it takes.

Stopping: when `stop` is set nothing new starts; requests in flight get `drain_timeout` to
come back, then are cancelled (their keys stay SENDING for the next run to check). Every row
still gets exactly one RowResult. A FATAL answer (401 after renewal, 403) stops the run the
same way and raises AuthError.

Time: every wait (queue, limiter, backoff, drain) goes through the run's `Timing`, so a test
runs the engine on a virtual clock: no sockets, no real sleeping (tests/send/test_engine.py).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from batch_scheduler.errors import AuthError, LedgerUnavailable, NotClaimed, RunStopping
from batch_scheduler.i18n import N_, _
from batch_scheduler.ledger import EntryState, GroupCommit, LedgerEntry, Refusal
from batch_scheduler.models import ApiResult, ResultKind, RowResult
from batch_scheduler.send.pacing import RateLimiter, RetryPolicy, Sleep
from batch_scheduler.send.rows import (
    Row,
    WorkQueue,
    first_of,
    gave_up,
    held_elsewhere,
    interrupted,
    repeat_of,
)
from batch_scheduler.send.setup import SendStats, Setup, ledger_update

R = TypeVar("R")
T = TypeVar("T")
logger = logging.getLogger(__name__)

REFUSED = N_("The API refused the credentials.")  # translated where it is said
# RETRY_LATER answers that concern the whole service: 429, and None (no connection at all).
_SERVICE_WIDE = (429, None)


class Engine(Generic[R]):
    """The pool, pacing, retries, stop and drain; subclasses attempt one row."""

    operation: ClassVar[str] = ""  # the ledger's operation: CREATE or CANCEL

    def __init__(self, setup: Setup) -> None:
        settings = setup.settings
        self.client = setup.client
        self.ledger = setup.ledger
        self.settings = settings
        self.stats = setup.stats if setup.stats is not None else SendStats()
        self.policy = RetryPolicy.from_settings(settings)
        self.clock = setup.timing.clock
        self.sleep: Sleep = setup.timing.sleep
        self.limiter = RateLimiter(
            settings.rate,
            burst=min(float(settings.concurrency), max(1.0, settings.rate)),
            clock=self.clock,
            sleep=self.sleep,
        )
        self.rng = setup.rng or random.Random()
        self.results: dict[int, RowResult] = {}
        self.writes = GroupCommit(setup.ledger, setup.run_id, self._write_failed)
        self.queue: WorkQueue[R] = WorkQueue(iter(()), setup.timing)
        self._timing = setup.timing
        self._on_result = setup.on_result
        self._stop = setup.stop or asyncio.Event()
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._touched: dict[int, Row[R]] = {}
        self._leaders: dict[str, Row[R]] = {}
        self._pending = 0  # positions still without a result
        self._crash: BaseException | None = None
        self._all_done = asyncio.Event()
        self._halted = asyncio.Event()
        self._fatal: str | None = None
        self._stopping = False
        self._in_flight: set[asyncio.Task[None]] = set()

    # -------------------------------------------------------- what each operation provides

    async def attempt(self, row: Row[R]) -> None:
        """Make the row's one request and act on the answer (finish, retry, wait, halt)."""
        raise NotImplementedError

    def key_of(self, request: R) -> str | None:
        """The row's ledger key, or None if it has none (e.g. a cancel by reference)."""
        raise NotImplementedError

    def background(self) -> list[Coroutine[Any, Any, None]]:
        """Jobs that run beside the workers (e.g. the reconciliation sweeps)."""
        return []

    def follower_result(self, result: RowResult, row: Row[R]) -> RowResult:
        """The result of `row`, which repeats the key of the row that got `result`."""
        return repeat_of(result)

    def references(self, row: Row[R]) -> Mapping[str, str] | None:
        """The reference to keep with the row's key in the ledger, if not the key itself."""
        return None

    def moved_on(self, row: Row[R], entry: LedgerEntry) -> None:
        """The row's key was not claimed: another run finished it or left it to be checked
        since this run's triage (`entry` as it is now). Finish the row, or check it."""
        raise NotImplementedError

    # -------------------------------------------------------- the run

    def begin(self, items: Sequence[tuple[int, R]], done: Mapping[int, RowResult]) -> None:
        """Start counting: `items` are every row, `done` those already settled by triage."""
        self.stats.started = self.clock()
        self.ledger.reap_dead_owners()  # a run of this machine killed earlier holds nothing
        self._pending = len(items)
        for position, result in done.items():
            self.emit(position, result)

    async def run(self, fresh: Iterator[Row[R]]) -> None:
        """Run the pool until every row is final, `stop` is set, or a FATAL answer."""
        self.queue = WorkQueue(fresh, self._timing)
        if self._pending == 0:  # all settled before sending (the ledger, the account)
            self._let_go()  # what the check of the account found is still recorded
            return
        workers = [asyncio.create_task(self._worker()) for _ in range(self.settings.concurrency)]
        helpers = [asyncio.create_task(job) for job in [*self.background(), self._renew_claims()]]
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
            self._let_go()
            self.stats.finished = self.clock()
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
                    if isinstance(task.exception(), LedgerUnavailable):
                        self._write_failed(task.exception())  # type: ignore[arg-type]
                        return None
                    return task.exception()
            if done & set(ends):
                return None
            watched -= done

    async def _shutdown(self, tasks: list[asyncio.Task[Any]], *, graceful: bool) -> None:
        """Start nothing new; give requests in flight drain_timeout, then cancel them."""
        self._stopping = True
        self.queue.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        in_flight = set(self._in_flight)
        if in_flight and graceful:
            await first_of(asyncio.wait(in_flight), self.sleep(self.settings.drain_timeout))
        for task in in_flight:
            task.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)

    async def _worker(self) -> None:
        while (row := await self.queue.get()) is not None:
            await self.limiter.acquire()
            if self.closing():
                return
            task = asyncio.create_task(self._attempt(row))
            self._in_flight.add(task)
            task.add_done_callback(self._attempt_done)
            await asyncio.shield(task)

    async def _attempt(self, row: Row[R]) -> None:
        try:
            await self.attempt(row)
        except RunStopping:
            pass
        except NotClaimed as refused:
            self.refused(row, refused.refusal)
        except LedgerUnavailable as exc:  # nothing left: its mark was never committed
            self._write_failed(exc)

    async def _renew_claims(self) -> None:
        """Keep this run's claims alive while it runs (a third of the lease between)."""
        while True:
            await self.sleep(self.ledger.lease / 3)
            try:
                self.writes.renew()
            except Exception as exc:  # the run cannot keep its claims: it stops
                self._write_failed(exc)
                return

    def _let_go(self) -> None:
        """Write what is queued and release this run's claims; a ledger lost by now leaves
        them to run out (the keys still SENDING are checked by the next run)."""
        try:
            self.writes.release()
        except LedgerUnavailable as exc:
            self._write_failed(exc)

    def closing(self) -> bool:
        """True once nothing new may start: stop was asked, or the credentials failed."""
        return self._stopping or self._stop.is_set() or self._halted.is_set()

    def _write_failed(self, error: BaseException) -> None:
        """A ledger commit failed: stop. A database lost (LedgerUnavailable) stops the run
        like a lost API, with partial results; anything else (disk full...) is raised after
        the drain."""
        if isinstance(error, LedgerUnavailable):
            if self.stats.ledger_lost is None:
                logger.error("%s", error.message)
                self.stats.ledger_lost = error.message
        elif self._crash is None:
            self._crash = error
        self._halted.set()

    def _attempt_done(self, task: asyncio.Task[None]) -> None:
        """Forget a finished attempt; keep its crash (a bug) to raise after the drain."""
        self._in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._write_failed(task.exception())  # type: ignore[arg-type]

    # -------------------------------------------------------- rows and their results

    def adopt(self, row: Row[R]) -> bool:
        """Register a row; False (and the row follows) when an earlier row has its key."""
        self._touched[row.position] = row
        leader = self._leaders.get(row.key)
        if leader is None:
            self._leaders[row.key] = row
            return True
        leader.followers.append(row)
        if leader.position in self.results:
            self.emit(row.position, self.follower_result(self.results[leader.position], row))
        return False

    def fresh(self, rows: Iterable[Row[R]]) -> Iterator[Row[R]]:
        """Leaders among `rows`, registered only when a worker reaches them."""
        for row in rows:
            if self.adopt(row):
                yield row

    def finish(self, row: Row[R], result: RowResult) -> None:
        """A row's final result: report it and its followers, once."""
        if row.position in self.results:
            return
        row.waiting_check = False
        self.emit(row.position, result)
        for follower in row.followers:
            self.emit(follower.position, self.follower_result(result, follower))

    def emit(self, position: int, result: RowResult) -> None:
        """Report one position's final result (once); the run ends with the last one."""
        if position in self.results:
            return
        self.results[position] = result
        self._pending -= 1
        if self._pending == 0:
            self._all_done.set()
            self.queue.close()
        if self._on_result is not None:
            self._on_result(position, result)

    def halt(self, message: str | None) -> None:
        """The API refused the credentials: stop, and raise AuthError after the drain."""
        if self._fatal is None:
            self._fatal = message or _(REFUSED)
        self._halted.set()

    def finalise(self, items: Sequence[tuple[int, R]]) -> dict[int, RowResult]:
        """Give every row without a result its interrupted result; results in input order."""
        for position, request in items:
            if position in self.results:
                continue
            row = self._touched.get(position)
            key = row.key if row is not None else self.key_of(request)
            leader = self._leaders.get(key) if key is not None else None
            if leader is not None and leader is not row:
                done = self.results.get(leader.position)
                self.emit(position, repeat_of(done if done is not None else interrupted(leader)))
            else:
                self.emit(position, interrupted(row))
        self.stats.finished = self.clock()
        return {position: self.results[position] for position, _ in items}

    # -------------------------------------------------------- keys other runs hold

    def refused(self, row: Row[R], refusal: Refusal) -> None:
        """The ledger did not let this run take the row's key: wait for its holder, or
        hand the entry as it is now to the subclass."""
        if refusal.held:
            self.wait_for_holder(row, refusal)
        elif refusal.entry is not None:
            self.moved_on(row, refusal.entry)
        else:
            self.queue.push(row)

    def wait_for_holder(
        self, row: Row[R], refusal: Refusal, then: Callable[[float], None] | None = None
    ) -> None:
        """Ask again for a key another run holds, after a pause, until the row's time is up
        (then the row fails, saying which run holds it). `then` schedules the retry (the
        queue, unless the row waits for a sweep)."""
        now = self.clock()
        self.stats.held_elsewhere += 1
        if row.held_since is None:
            row.held_since = now
            logger.info("%s %s is held by another run: waiting", self.operation, row.key)
        if now - row.held_since >= self.policy.deadline:
            self.finish(row, held_elsewhere(self.operation, row, refusal.holder_in_words()))
            return
        self.ledger.reap_dead_owners()
        pause = min(1.0, self.ledger.lease / 8)
        if then is not None:
            then(pause)
        else:
            self.queue.push(row, pause)

    # -------------------------------------------------------- requests and retries

    async def send(self, row: Row[R], call: Callable[[], Awaitable[ApiResult[T]]]) -> ApiResult[T]:
        """Claim the key and mark it SENDING (committed), send the changing request, note
        the answer.

        Raises RunStopping (nothing sent) once the run is stopping, and NotClaimed (nothing
        sent) when the ledger would not let this run take the key now.
        """
        async with self._slots:
            if self.closing():
                raise RunStopping
            refs = self.references(row)
            reference = refs.get(row.key) if refs else None
            refusal = await self.writes.mark_sending(self.operation, row.key, reference)
            if refusal is not None:
                raise NotClaimed(refusal)
            row.on_wire = True
            row.attempts += 1
            if row.started is None:
                row.started = self.clock()
            self.stats.requests += 1
            row.sent_at = self.clock()
            result = await call()
            row.on_wire = False
        row.last = result
        self.log(row, result)
        return result

    async def read(self, call: Callable[[], Awaitable[ApiResult[T]]]) -> ApiResult[T]:
        """One read request within the concurrency limit (the caller holds a rate token).

        Raises RunStopping (nothing sent) once the run is stopping.
        """
        async with self._slots:
            if self.closing():
                raise RunStopping
            self.stats.requests += 1
            return await call()

    def log(self, row: Row[R], result: ApiResult[Any]) -> None:
        logger.debug(
            "%s %s attempt %d: HTTP %s -> %s",
            self.operation,
            row.key,
            row.attempts,
            result.status_code if result.status_code is not None else "-",
            result.kind.value,
        )

    def record(self, row: Row[R], state: EntryState, result: ApiResult[Any] | None = None) -> None:
        """Record an answer for the row's key (the appointment it carried, if any)."""
        appointment = result.value if result is not None else None
        error = result.message if result is not None and state is not EntryState.DONE else None
        self.writes.record([ledger_update(self.operation, row.key, state, appointment, error)])

    def retry(self, row: Row[R], result: ApiResult[Any], *, counted: bool = True) -> None:
        """Schedule the row again after backoff (or the 429 wait), or fail it for good."""
        now = self.clock()
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
            wait = self.policy.backoff(row.retries + 1, self.rng)
            if result.retry_after is not None:
                wait = max(wait, result.retry_after)
        started = row.started if row.started is not None else now
        reason = self.policy.give_up(
            retries=row.retries, started=started, now=now, wait=wait, counted=counted
        )
        if reason is not None:
            self.finish(row, gave_up(row, result, reason, now - started, self.policy.deadline))
            return
        row.retries += counted
        self.stats.retries += 1
        if not self._stopping:
            self.queue.push(row, wait)
