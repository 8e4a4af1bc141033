"""The send engine on a virtual clock, against the API in memory: no sockets, no real sleeping.

Every wait of a send (backoff, a 429's pause, the settle before a sweep, the drain) passes on
the virtual clock, so the tests assert exact times in virtual seconds. The client, the
ledger (a real SQLite file), the engine and its sweeps are the real ones.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from batch_scheduler.config import SendSettings
from batch_scheduler.ledger import CREATE, EntryState, Ledger
from batch_scheduler.models import AppointmentRequest, Outcome, RowResult
from batch_scheduler.send import SendStats, send_creates
from batch_scheduler.send.creates import SETTLE
from batch_scheduler.send.rows import IN_FLIGHT, NOT_SENT
from tests.support.requests import booking
from tests.support.sending import marked_by_a_dead_run
from tests.support.virtual_api import BASE, FakeApi, Fault, VirtualTime

SETTINGS = SendSettings(
    rate=1000.0,
    concurrency=1,
    max_retries=3,
    row_deadline=60.0,
    backoff_initial=0.5,
    backoff_max=30.0,
    jitter=False,  # the backoff is exactly 0.5, 1, 2... seconds
    retry_after_floor=1.0,
    drain_timeout=1.0,
    check_existing="never",  # these tests time retries; the check is test_existing.py's
)
LATENCY = 0.01


@pytest.fixture(autouse=True)
def no_real_sleeping(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any real sleep in the code under test fails the test (a yield, sleep(0), is fine)."""
    real_sleep = asyncio.sleep

    async def guarded(delay: float, result: Any = None) -> Any:
        assert delay <= 0, f"a real sleep of {delay} s"
        return await real_sleep(0, result)

    monkeypatch.setattr(asyncio, "sleep", guarded)


@dataclass
class Sent:
    results: dict[int, RowResult]
    stats: SendStats
    ledger: dict[str, EntryState]


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "state"


def send(
    api: FakeApi,
    state_dir: Path,
    references: Sequence[str],
    settings: SendSettings = SETTINGS,
    *,
    stop_at: float | None = None,
) -> Sent:
    """Book one row per reference on the virtual clock; stop the run at `stop_at`."""
    items = [(i, booking(reference)) for i, reference in enumerate(references)]
    stats = SendStats()

    async def run(ledger: Ledger, stop: asyncio.Event) -> dict[int, RowResult]:
        async def stop_later(at: float) -> None:
            await api.time.sleep(at)
            stop.set()

        stopper = asyncio.ensure_future(stop_later(stop_at)) if stop_at is not None else None
        async with api.client() as client:
            results = await send_creates(
                items, client=client, ledger=ledger, settings=settings, run_id="virtual",
                stop=stop, rng=random.Random(5), stats=stats, timing=api.time.timing,
            )  # fmt: skip
        if stopper is not None:
            stopper.cancel()
        return results

    with Ledger.open(state_dir, base_url=BASE) as ledger:
        results = asyncio.run(api.time.run(run(ledger, asyncio.Event())))
        entries = ledger.get_many(CREATE, references)
    return Sent(results, stats, {key: entry.state for key, entry in entries.items()})


def outcome(sent: Sent, position: int = 0) -> tuple[Outcome, int]:
    return sent.results[position].outcome, sent.results[position].attempts


# ---------------------------------------------------------------- retries with backoff


def test_a_busy_server_is_retried_after_a_doubling_backoff(state_dir: Path) -> None:
    api = FakeApi(VirtualTime(), LATENCY)
    api.script("R-1", Fault.status(503), Fault.status(503))

    sent = send(api, state_dir, ["R-1"])

    assert outcome(sent) == (Outcome.CREATED, 3)
    # sent at 0; answered at 0.01, back off 0.5; answered at 0.52, back off 1.0
    assert api.times("POST", "R-1") == pytest.approx([0.0, 0.51, 1.52])
    assert (sent.stats.requests, sent.stats.retries) == (3, 2)
    assert sent.ledger == {"R-1": EntryState.DONE} and api.created("R-1") == 1


def test_retries_run_out_and_the_row_fails_in_plain_words(state_dir: Path) -> None:
    api = FakeApi(VirtualTime(), LATENCY)
    api.script("R-1", *[Fault.status(503)] * 4)

    sent = send(api, state_dir, ["R-1"])

    assert outcome(sent) == (Outcome.FAILED, 4)
    assert sent.results[0].error == (
        "The server kept answering 503 (service unavailable) after 3 retries."
    )
    assert api.times("POST", "R-1") == pytest.approx([0.0, 0.51, 1.52, 3.53])
    assert sent.ledger == {"R-1": EntryState.NOT_APPLIED} and api.created("R-1") == 0


# ---------------------------------------------------------------- a 429 and its Retry-After


def test_a_429_pauses_every_request_for_its_retry_after(state_dir: Path) -> None:
    api = FakeApi(VirtualTime(), LATENCY)
    api.script("R-1", Fault.throttle(2.0))
    settings = replace(SETTINGS, max_retries=0)  # a 429 is not counted against the row

    sent = send(api, state_dir, ["R-1", "R-2", "R-3"], settings)

    assert [outcome(sent, i) for i in range(3)] == [
        (Outcome.CREATED, 2),
        (Outcome.CREATED, 1),
        (Outcome.CREATED, 1),
    ]
    first, again = api.times("POST", "R-1")
    assert first == 0.0
    paused_until = LATENCY + 2.0  # the answer came at 0.01 and said 2 seconds
    later = [at for at, _, _ in api.requests[1:]]
    assert later and min(later) >= paused_until  # nobody went out during the pause
    assert again >= paused_until
    assert sent.stats.throttled == 1 and sent.stats.retries == 1


# ---------------------------------------------------------------- stop and drain


def test_stop_drains_the_request_in_flight_then_gives_up_on_it(state_dir: Path) -> None:
    api = FakeApi(VirtualTime(), LATENCY)
    api.script("R-1", Fault.slow(5.0))  # stored at once, answered 5 s later
    settings = replace(SETTINGS, rate=1.0)  # the next row could go at t=1

    sent = send(api, state_dir, ["R-1", "R-2", "R-3"], settings, stop_at=0.5)

    assert sent.results[0] == RowResult(Outcome.FAILED, error=IN_FLIGHT, attempts=1)
    assert [sent.results[i].error for i in (1, 2)] == [NOT_SENT, NOT_SENT]
    assert [request for _, _, request in api.requests] == ["R-1"]  # nothing new after stop
    assert sent.stats.finished - sent.stats.started == pytest.approx(0.5 + 1.0)  # the drain
    assert sent.ledger == {"R-1": EntryState.SENDING}  # the next run checks it first


def test_stop_waits_for_an_answer_that_comes_within_the_drain(state_dir: Path) -> None:
    api = FakeApi(VirtualTime(), LATENCY)
    api.script("R-1", Fault.slow(1.2))
    settings = replace(SETTINGS, rate=1.0)

    sent = send(api, state_dir, ["R-1", "R-2"], settings, stop_at=0.5)

    assert outcome(sent) == (Outcome.CREATED, 1)
    assert sent.results[1].error == NOT_SENT
    assert sent.stats.finished - sent.stats.started == pytest.approx(LATENCY + 1.2)
    assert sent.ledger == {"R-1": EntryState.DONE}


# ---------------------------------------------------------------- unknown outcomes


def test_an_unknown_outcome_is_reconciled_before_anything_is_resent(state_dir: Path) -> None:
    api = FakeApi(VirtualTime(), LATENCY)
    api.script("STORED", Fault.lost(stored=True))  # the server has it; we lost the answer
    api.script("MISSING", Fault.lost(stored=False))  # the connection dropped before storing

    sent = send(api, state_dir, ["STORED", "MISSING"])

    assert outcome(sent, 0) == (Outcome.CREATED, 1)  # found by the sweep: never resent
    assert outcome(sent, 1) == (Outcome.CREATED, 2)  # not found: resent once
    assert (api.created("STORED"), api.created("MISSING")) == (1, 1)
    lost_at = api.times("POST", "MISSING")[0] + LATENCY
    resent_at = api.times("POST", "MISSING")[1]
    swept_at = max(at for at in api.times("GET", "page 1") if at < resent_at)
    assert lost_at + SETTLE <= swept_at  # settle, sweep, and only then resend
    assert sent.stats.unknown == 2 and sent.stats.sweeps == 2  # one per row: they settled apart
    assert (sent.stats.reconciled_found, sent.stats.reconciled_missing) == (1, 1)
    assert sent.ledger == {"STORED": EntryState.DONE, "MISSING": EntryState.DONE}


def test_a_row_an_earlier_run_left_sending_is_checked_before_it_is_sent(
    state_dir: Path,
) -> None:
    api = FakeApi(VirtualTime(), LATENCY)
    marked_by_a_dead_run(state_dir, BASE, CREATE, ["R-1"])

    sent = send(api, state_dir, ["R-1"])

    assert outcome(sent) == (Outcome.CREATED, 1)
    assert [(method, what) for _, method, what in api.requests] == [
        ("GET", "page 1"),
        ("POST", "R-1"),
    ]


def test_typed_requests_reach_the_client(state_dir: Path) -> None:
    """The engine is generic in its request: creates carry AppointmentRequests to the wire."""
    api = FakeApi(VirtualTime(), LATENCY)
    sent = send(api, state_dir, ["R-1"])
    (stored,) = api.appointments.values()
    request: AppointmentRequest = booking("R-1")
    assert stored["claimant"] == {"name": request.claimant.name}
    assert sent.results[0].appointment is not None
    assert sent.results[0].appointment.appointment_at == request.appointment_at
