"""The sending stage end to end: the real client and a real ledger against the sandbox over
loopback HTTP. Faults are seeded, jitter is seeded, ports are free ones."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from batch_scheduler.api import ApiClient
from batch_scheduler.api.wire import HttpxWire
from batch_scheduler.config import ApiSettings, Secret
from batch_scheduler.errors import AuthError
from batch_scheduler.ledger import CANCEL, CREATE, EntryState, Ledger
from batch_scheduler.models import (
    CancelRequest,
    ClaimantIn,
    Outcome,
    RowResult,
)
from batch_scheduler.sandbox import RunningSandbox, SandboxConfig
from batch_scheduler.send import (
    send_creates,
    triage_cancels,
    triage_creates,
)
from batch_scheduler.send.rows import IN_FLIGHT, NOT_CHECKED, NOT_SENT
from tests.support.requests import booking, client_for
from tests.support.sending import FAST, Runner, bookings, posts, references_on_server

# for the tests of how the sender rides out a failing server: the check of the account
# before the first create (tests/send/test_existing.py) would meet the failures first
NO_CHECK = replace(FAST, check_existing="never")

MISSING_ID = "00000000-0000-4000-8000-000000000000"


def outcomes(results: dict[int, RowResult]) -> Counter[Outcome]:
    return Counter(result.outcome for result in results.values())


def appointment_id(result: RowResult) -> str | None:
    return result.appointment.id if result.appointment is not None else None


@pytest.fixture
def runner_for(
    tmp_path: Path, sandbox_factory: Callable[..., RunningSandbox]
) -> Callable[..., Runner]:
    def make(**knobs: Any) -> Runner:
        config = SandboxConfig(seed=1, latency=0.005, **knobs)
        return Runner(sandbox_factory(config), tmp_path / "state")

    return make


# ---------------------------------------------------------------- creates, exactly once


@pytest.mark.parametrize("duplicates", ["reject", "allow"])
def test_faulty_server_gets_exactly_one_appointment_per_reference(
    runner_for: Callable[..., Runner], duplicates: str
) -> None:
    runner = runner_for(error_rate=0.3, drop_rate=0.2, duplicate_references=duplicates)
    items = bookings(200)
    results = runner.creates(items)

    assert outcomes(results) == {Outcome.CREATED: 200}
    on_server = references_on_server(runner.sandbox)
    assert on_server == Counter({request.reference: 1 for _, request in items})
    ids = {str(item["reference"]): item["id"] for item in runner.sandbox.appointments()}
    assert {i: appointment_id(results[i]) for i, _ in items} == {
        i: ids[r.reference] for i, r in items
    }
    with runner.ledger() as ledger:
        entries = ledger.get_many(CREATE, [request.reference for _, request in items])
    assert {entry.state for entry in entries.values()} == {EntryState.DONE}
    assert all(entries[ref].appointment_id == ids[ref] for ref in ids)
    # the faults really happened, and were reconciled rather than resent blindly
    assert runner.stats.unknown > 0 and runner.stats.sweeps > 0
    assert runner.stats.reconciled_found > 0 and runner.stats.reconciled_missing > 0
    # on_result: exactly once per row, with the final result
    assert sorted(position for position, _ in runner.calls) == list(range(200))
    assert dict(runner.calls) == results


def test_a_rerun_sends_no_create_and_reports_already_exists(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for(error_rate=0.2, drop_rate=0.1)
    items = bookings(40)
    first = runner.creates(items)
    assert outcomes(first) == {Outcome.CREATED: 40}
    before = posts(runner.sandbox)

    again = runner.creates(items)

    assert outcomes(again) == {Outcome.ALREADY_EXISTS: 40}
    assert posts(runner.sandbox) == before
    assert all(again[i].appointment == first[i].appointment for i, _ in items)
    assert runner.stats.requests == 0


def test_resume_after_a_crash_creates_exactly_the_missing_ones(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for()
    items = bookings(20)
    crashed = [request.reference for _, request in items[:10]]
    runner.marked_by_a_dead_run(CREATE, crashed)  # the crashed run marked these, then died
    stored_ids = runner.create_directly(*crashed[:5])  # half of them reached the server
    with runner.ledger() as ledger:
        triage = triage_creates(items, ledger)
    assert [p for p, _ in triage.to_reconcile] == list(range(10))
    assert [p for p, _ in triage.to_send] == list(range(10, 20))

    results = runner.creates(items)

    assert [results[i].outcome for i in range(5)] == [Outcome.ALREADY_EXISTS] * 5
    assert [appointment_id(results[i]) for i in range(5)] == stored_ids
    assert outcomes(results) == {Outcome.ALREADY_EXISTS: 5, Outcome.CREATED: 15}
    assert references_on_server(runner.sandbox) == Counter({r.reference: 1 for _, r in items})
    assert posts(runner.sandbox) == 5 + 15
    assert runner.stats.sweeps == 2  # the account check for the 10 unseen, then the crash's


def test_duplicates_already_on_the_server_are_reported_and_never_tripled(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for(duplicate_references="allow")
    first_id, second_id = runner.create_directly("DUP-1", "DUP-1")
    runner.marked_by_a_dead_run(CREATE, ["DUP-1"])

    results = runner.creates([(0, booking("DUP-1"))])

    result = results[0]
    assert result.outcome is Outcome.ALREADY_EXISTS
    assert result.appointment is not None and result.appointment.id == first_id
    assert result.error is not None and first_id in result.error and second_id in result.error
    assert references_on_server(runner.sandbox)["DUP-1"] == 2


def test_a_reference_taken_before_the_ledger_knew_is_already_exists(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for(duplicate_references="reject")
    (existing,) = runner.create_directly("OLD-1")

    results = runner.creates([(0, booking("OLD-1")), (1, booking("NEW-1"))])

    assert results[0].outcome is Outcome.ALREADY_EXISTS
    assert results[0].appointment is not None and results[0].appointment.id == existing
    assert results[1].outcome is Outcome.CREATED
    assert references_on_server(runner.sandbox) == Counter({"OLD-1": 1, "NEW-1": 1})


def test_rejected_rows_carry_the_field_errors_and_can_be_fixed_in_a_rerun(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for()
    bad_email = ClaimantIn("Claimant BAD-1", email="not an email")
    items = [(0, booking("OK-1")), (1, booking("BAD-1", claimant=bad_email))]

    results = runner.creates(items)

    assert results[0].outcome is Outcome.CREATED
    bad = results[1]
    assert bad.outcome is Outcome.REJECTED
    assert "claimant.email" in bad.field_errors
    assert bad.error and "email" in bad.error.lower()
    assert references_on_server(runner.sandbox) == Counter({"OK-1": 1})
    with runner.ledger() as ledger:
        entry = ledger.get(CREATE, "BAD-1")
    assert entry is not None and entry.state is EntryState.REJECTED

    good_email = ClaimantIn("Claimant BAD-1", email="a@example.com")
    fixed = runner.creates([(0, booking("OK-1")), (1, booking("BAD-1", claimant=good_email))])
    assert fixed[0].outcome is Outcome.ALREADY_EXISTS
    assert fixed[1].outcome is Outcome.CREATED


def test_duplicate_references_in_one_batch_are_sent_once(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for()
    results = runner.creates([(0, booking("SAME")), (1, booking("SAME"))])
    assert results[0].outcome is Outcome.CREATED
    assert results[1].outcome is Outcome.ALREADY_EXISTS
    assert results[0].appointment == results[1].appointment
    assert posts(runner.sandbox) == 1


def test_a_server_that_keeps_answering_503_fails_the_row_in_plain_words(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for(error_rate=1.0, error_statuses=(503,))
    results = runner.creates([(0, booking("R-503"))], replace(NO_CHECK, max_retries=2))
    result = results[0]
    assert result.outcome is Outcome.FAILED
    assert result.error == "The server kept answering 503 (service unavailable) after 2 retries."
    assert result.attempts == 3
    with runner.ledger() as ledger:
        entry = ledger.get(CREATE, "R-503")
    assert entry is not None and entry.state is EntryState.NOT_APPLIED


def test_an_unknown_outcome_that_cannot_be_checked_is_never_resent(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for(error_rate=1.0, error_statuses=(502,))  # lists fail too
    results = runner.creates([(0, booking("R-502"))], replace(NO_CHECK, max_retries=2))
    result = results[0]
    assert result.outcome is Outcome.FAILED
    assert result.error and "Could not check" in result.error
    assert posts(runner.sandbox) == 1  # the create was not resent while its fate was unknown
    with runner.ledger() as ledger:
        entry = ledger.get(CREATE, "R-502")
    assert entry is not None and entry.state is EntryState.UNKNOWN  # the next run checks first


def test_forbidden_raises_auth_error_and_leaves_the_ledger_consistent(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for(underprivileged_tokens=frozenset({"sandbox-token"}))
    items = bookings(20)
    with pytest.raises(AuthError) as raised:
        runner.creates(items)
    assert "403" in raised.value.message
    assert runner.sandbox.appointments() == []
    with runner.ledger() as ledger:
        assert ledger.unresolved(CREATE) == []
    assert posts(runner.sandbox) <= FAST.concurrency  # it stopped at once


# ---------------------------------------------------------------- pacing


def test_concurrency_limit_is_respected(runner_for: Callable[..., Runner]) -> None:
    runner = runner_for()
    runner.sandbox.reconfigure(latency=0.02)
    results = runner.creates(bookings(60), replace(FAST, concurrency=4))
    assert outcomes(results) == {Outcome.CREATED: 60}
    assert 3 <= runner.sandbox.stats()["max_in_flight"] <= 4  # used, never exceeded


def test_rate_limit_is_respected(runner_for: Callable[..., Runner]) -> None:
    runner = runner_for()
    started = time.monotonic()
    results = runner.creates(bookings(40), replace(FAST, rate=20.0))
    elapsed = time.monotonic() - started
    assert outcomes(results) == {Outcome.CREATED: 40}
    assert runner.sandbox.stats()["max_per_second"] <= 23
    assert elapsed >= 39 / 20 - 0.1


def test_a_429_storm_slows_down_and_still_creates_everything_once(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for(rate_limit=10.0)
    items = bookings(25)
    results = runner.creates(items, replace(FAST, rate=50.0))
    assert outcomes(results) == {Outcome.CREATED: 25}
    assert references_on_server(runner.sandbox) == Counter({r.reference: 1 for _, r in items})
    throttled = runner.sandbox.stats()["responses"].get("429", 0)
    assert throttled > 0
    assert runner.stats.throttled == throttled


def test_retry_after_zero_still_waits_the_floor(tmp_path: Path) -> None:
    """A server saying `Retry-After: 0` is not hammered: the floor holds (a stub server)."""
    arrivals: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        arrivals.append(time.monotonic())
        if len(arrivals) <= 2:
            return httpx.Response(429, headers={"Retry-After": "0"}, json={"message": "Slow"})
        body = {"id": "a-1", "reference": "R-429", "status": "scheduled"}
        return httpx.Response(201, json={"data": body})

    async def run(state_dir: Path) -> dict[int, RowResult]:
        settings = ApiSettings(base_url="http://127.0.0.1:9", token=Secret("t"))
        client = ApiClient(settings, wire=HttpxWire(httpx.MockTransport(answer)))
        with Ledger.open(state_dir, base_url=client.base_url) as ledger:
            async with client:
                return await send_creates(
                    [(0, booking("R-429"))],
                    client=client,
                    ledger=ledger,
                    settings=replace(NO_CHECK, retry_after_floor=0.3, max_retries=0),
                    run_id="floor",
                    rng=random.Random(1),
                )

    results = asyncio.run(run(tmp_path / "state"))
    assert results[0].outcome is Outcome.CREATED  # 429s do not use up max_retries
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert len(gaps) == 2 and all(gap >= 0.3 for gap in gaps)


# ---------------------------------------------------------------- stopping


def test_stop_mid_run_leaves_nothing_lost_or_doubled_and_a_rerun_finishes(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for()
    items = bookings(60)
    stop = asyncio.Event()
    settings = replace(FAST, rate=40.0, concurrency=4)

    reported: list[int] = []

    async def run() -> dict[int, RowResult]:
        def count(position: int, result: RowResult) -> None:
            reported.append(position)
            if len(reported) == 10:
                stop.set()

        with runner.ledger() as ledger:
            async with client_for(runner.sandbox.base_url) as client:
                return await send_creates(
                    items,
                    client=client,
                    ledger=ledger,
                    settings=settings,
                    run_id="stopped",
                    on_result=count,
                    stop=stop,
                    rng=random.Random(3),
                )

    first = asyncio.run(run())

    assert len(first) == 60
    assert sorted(reported) == list(range(60))  # every row reported once, stopped or not
    created = {items[i][1].reference for i, r in first.items() if r.outcome is Outcome.CREATED}
    assert 10 <= len(created) < 60
    assert set(outcomes(first)) == {Outcome.CREATED, Outcome.NOT_ATTEMPTED}
    assert all(r.error == NOT_SENT for r in first.values() if r.outcome is Outcome.NOT_ATTEMPTED)
    assert references_on_server(runner.sandbox) == Counter(dict.fromkeys(created, 1))

    second = runner.creates(items)
    assert outcomes(second) == {
        Outcome.ALREADY_EXISTS: len(created),
        Outcome.CREATED: 60 - len(created),
    }
    assert references_on_server(runner.sandbox) == Counter({r.reference: 1 for _, r in items})


def test_requests_still_in_flight_at_the_drain_deadline_are_checked_next_run(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for()
    runner.sandbox.reconfigure(latency=1.0)
    items = bookings(3)
    stop = asyncio.Event()

    async def stop_soon() -> None:
        await asyncio.sleep(0.2)
        stop.set()

    async def run() -> dict[int, RowResult]:
        with runner.ledger() as ledger:
            async with client_for(runner.sandbox.base_url) as client:
                stopper = asyncio.create_task(stop_soon())
                results = await send_creates(
                    items,
                    client=client,
                    ledger=ledger,
                    settings=replace(NO_CHECK, drain_timeout=0.1),
                    run_id="drain",
                    stop=stop,
                    rng=random.Random(3),
                )
                await stopper
                return results

    first = asyncio.run(run())
    assert [r.outcome for r in first.values()] == [Outcome.FAILED] * 3
    assert all(r.error == IN_FLIGHT for r in first.values())
    with runner.ledger() as ledger:
        assert {e.state for e in ledger.unresolved(CREATE)} == {EntryState.SENDING}
    deadline = time.monotonic() + 5
    while runner.sandbox.stats()["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.05)  # let the server finish what it was doing

    runner.sandbox.reconfigure(latency=0.0)
    second = runner.creates(items)
    assert set(outcomes(second)) <= {Outcome.ALREADY_EXISTS, Outcome.CREATED}
    assert references_on_server(runner.sandbox) == Counter({r.reference: 1 for _, r in items})


# ---------------------------------------------------------------- cancels


def book(runner: Runner, count: int, prefix: str = "C") -> dict[str, str]:
    """Create `count` appointments through the sender; reference -> id."""
    results = runner.creates(bookings(count, prefix))
    return {
        r.appointment.reference or "": r.appointment.id
        for r in results.values()
        if r.appointment is not None
    }


def test_cancel_twice_is_cancelled_then_already_cancelled(
    runner_for: Callable[..., Runner], tmp_path: Path
) -> None:
    runner = runner_for()
    ids = book(runner, 2)
    items = [(i, CancelRequest(aid, None, "Rebooked")) for i, aid in enumerate(ids.values())]

    first = runner.cancels(items)
    assert outcomes(first) == {Outcome.CANCELLED: 2}
    assert all(r.appointment and r.appointment.status == "cancelled" for r in first.values())

    before = posts(runner.sandbox, "/cancel")
    second = runner.cancels(items)  # the ledger knows: nothing is sent
    assert outcomes(second) == {Outcome.ALREADY_CANCELLED: 2}
    assert posts(runner.sandbox, "/cancel") == before

    elsewhere = Runner(runner.sandbox, tmp_path / "other-state")  # no ledger: the server says
    third = elsewhere.cancels(items)
    assert outcomes(third) == {Outcome.ALREADY_CANCELLED: 2}
    assert runner.sandbox.stats()["cancelled"] == 2


def test_cancel_by_reference_through_the_ledger_needs_no_listing(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for()
    ids = book(runner, 3)
    items = [(i, CancelRequest(None, ref)) for i, ref in enumerate(ids)]
    with runner.ledger() as ledger:
        triage = triage_cancels(items, ledger)
    assert [aid for _, aid, _ in triage.to_send] == list(ids.values()) and not triage.to_resolve
    booked = len(runner.sandbox.requests())  # the booking asked the account first

    results = runner.cancels(items)

    assert outcomes(results) == {Outcome.CANCELLED: 3}
    lists = [r for r in runner.sandbox.requests()[booked:] if r["method"] == "GET"]
    assert lists == []
    with runner.ledger() as ledger:
        entry = ledger.get(CANCEL, ids["C-0000"])
    assert entry is not None and entry.state is EntryState.DONE and entry.reference == "C-0000"


def test_cancel_by_reference_unknown_to_the_ledger_is_found_by_one_sweep(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for()
    live_id, gone_id = runner.create_directly("X-LIVE", "X-GONE")
    Runner(runner.sandbox, runner.state_dir / "elsewhere").cancels(
        [(0, CancelRequest(gone_id, None))]
    )
    items = [
        (0, CancelRequest(None, "X-LIVE")),
        (1, CancelRequest(None, "X-GONE")),
        (2, CancelRequest(None, "X-NOWHERE")),
    ]

    results = runner.cancels(items)

    assert results[0].outcome is Outcome.CANCELLED
    assert results[0].appointment is not None and results[0].appointment.id == live_id
    assert results[1].outcome is Outcome.ALREADY_CANCELLED
    assert results[2].outcome is Outcome.REJECTED
    assert results[2].error == "No appointment with reference X-NOWHERE was found."
    assert runner.stats.sweeps == 1


def test_cancel_of_an_unknown_id_is_rejected(runner_for: Callable[..., Runner]) -> None:
    runner = runner_for()
    results = runner.cancels([(0, CancelRequest(MISSING_ID, None))])
    assert results[0].outcome is Outcome.REJECTED
    assert results[0].error == f"No appointment with id {MISSING_ID} exists."


def test_dropped_cancels_still_cancel_each_appointment_exactly_once(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for()
    ids = book(runner, 30)
    runner.sandbox.reconfigure(drop_rate=0.4, error_rate=0.3)
    items = [(i, CancelRequest(aid, None)) for i, aid in enumerate(ids.values())]

    results = runner.cancels(items)

    assert outcomes(results) == {Outcome.CANCELLED: 30}
    assert runner.sandbox.stats()["cancelled"] == 30
    assert runner.sandbox.stats()["dropped"] > 0
    assert {item["status"] for item in runner.sandbox.appointments()} == {"cancelled"}


def test_a_cancel_left_in_flight_by_a_crash_is_checked_before_it_is_resent(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for()
    ids = list(book(runner, 2).values())
    done_id, not_done_id = ids
    Runner(runner.sandbox, runner.state_dir / "elsewhere").cancels(
        [(0, CancelRequest(done_id, None))]
    )
    runner.marked_by_a_dead_run(CANCEL, ids)  # the crashed run sent both; only one took
    before = posts(runner.sandbox, "/cancel")

    results = runner.cancels(
        [(0, CancelRequest(done_id, None)), (1, CancelRequest(not_done_id, None))]
    )

    assert results[0].outcome is Outcome.ALREADY_CANCELLED
    assert results[1].outcome is Outcome.CANCELLED
    assert posts(runner.sandbox, "/cancel") == before + 1  # only the one that had not taken
    with runner.ledger() as ledger:
        assert ledger.unresolved(CANCEL) == []


def test_stop_during_a_sweep_reports_the_rows_unchecked(runner_for: Callable[..., Runner]) -> None:
    runner = runner_for()
    items = bookings(3)
    runner.create_directly("REF-0000")
    runner.marked_by_a_dead_run(CREATE, [r.reference for _, r in items])
    runner.sandbox.reconfigure(latency=0.3)
    stop = asyncio.Event()

    async def stop_soon() -> None:
        await asyncio.sleep(0.1)
        stop.set()

    async def run() -> dict[int, RowResult]:
        with runner.ledger() as ledger:
            async with client_for(runner.sandbox.base_url) as client:
                stopper = asyncio.create_task(stop_soon())
                results = await send_creates(
                    items,
                    client=client,
                    ledger=ledger,
                    settings=FAST,
                    run_id="stopped-sweep",
                    stop=stop,
                )
                await stopper
                return results

    results = asyncio.run(run())

    assert {r.error for r in results.values()} == {NOT_CHECKED}
    assert outcomes(results) == {Outcome.FAILED: 3}
    with runner.ledger() as ledger:
        assert len(ledger.unresolved(CREATE)) == 3  # still to be checked next time
    runner.sandbox.reconfigure(latency=0.0)
    again = runner.creates(items)
    assert outcomes(again) == {Outcome.ALREADY_EXISTS: 1, Outcome.CREATED: 2}
