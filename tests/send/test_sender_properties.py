"""Property: whatever mix of faults the sandbox throws, the sender never books a row twice and
never loses one, and what it reports agrees with what the server holds.

Hypothesis draws a fault mix (5xx, stored-then-dropped answers, 429s with Retry-After 0, answers
late past the client's timeout, a 5xx burst, every token revoked at some call, duplicate
references allowed or rejected) and a small sheet (duplicate references, rows the API rejects),
then books it, books it again, and cancels it, over real loopback HTTP. Derandomized, so CI
sees the same examples every time.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch_scheduler.api import ApiClient
from batch_scheduler.config import ApiSettings, Secret, SendSettings
from batch_scheduler.ledger import Ledger
from batch_scheduler.models import (
    AppointmentRequest,
    CancelRequest,
    ClaimantIn,
    Outcome,
    RowResult,
)
from batch_scheduler.sandbox import RunningSandbox, SandboxConfig, start_sandbox
from batch_scheduler.send import send_cancels, send_creates

SEND = SendSettings(
    rate=5000.0,
    concurrency=8,
    max_retries=12,
    row_deadline=60.0,
    backoff_initial=0.01,
    backoff_max=0.05,
    retry_after_floor=0.01,
    drain_timeout=5.0,
)
TIMEOUT = 0.25  # the client's; latency spikes are longer
WHEN = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
UNKNOWN_DEPARTMENT = 999  # the sandbox answers 422: the row is rejected, nothing stored


@dataclass(frozen=True)
class Faults:
    seed: int
    error_rate: float
    drop_rate: float
    throttle_rate: float
    spike_rate: float
    burst_start: int
    burst_length: int
    revoke_tokens_at: int
    duplicate_references: str

    def knobs(self) -> dict[str, Any]:
        return {**self.__dict__, "spike_delay": TIMEOUT + 0.1, "throttle_retry_after": 0}


rates = st.sampled_from([0.0, 0.05, 0.15, 0.3])
faults = st.builds(
    Faults,
    seed=st.integers(0, 10_000),
    error_rate=rates,
    drop_rate=rates,
    throttle_rate=rates,
    spike_rate=st.sampled_from([0.0, 0.03, 0.08]),
    burst_start=st.integers(0, 80),
    burst_length=st.integers(0, 25),
    revoke_tokens_at=st.integers(0, 120),
    duplicate_references=st.sampled_from(["allow", "reject"]),
)
# Each row: a new reference, an earlier row's reference reused for another slot and claimant
# (a conflict, once the first is booked), or one the API rejects.
sheets = st.lists(st.sampled_from(["new"] * 6 + ["repeat", "rejected"]), min_size=20, max_size=60)


def requests_for(kinds: Sequence[str]) -> list[tuple[int, AppointmentRequest]]:
    items: list[tuple[int, AppointmentRequest]] = []
    for position, kind in enumerate(kinds):
        reference = f"P-{position:03d}"
        earlier = [r.reference for _, r in items if r.department_id is None]
        if kind == "repeat" and earlier:
            reference = earlier[len(earlier) // 2]
        request = AppointmentRequest(
            reference=reference,
            appointment_at=WHEN + timedelta(minutes=30 * position),
            duration_in_minutes=30,
            claimant=ClaimantIn(name=f"Claimant {position}"),
            department_id=UNKNOWN_DEPARTMENT if kind == "rejected" else None,
        )
        items.append((position, request))
    return items


@pytest.fixture(scope="module")
def server() -> Iterator[RunningSandbox]:
    with start_sandbox() as running:
        yield running


async def _send(
    sandbox: RunningSandbox, state: Path, send: Any, items: Sequence[tuple[int, Any]]
) -> dict[int, RowResult]:
    api = ApiSettings(
        base_url=sandbox.base_url,
        client_id="sandbox-client",
        client_secret=Secret("sandbox-secret"),
        token_url=sandbox.token_url,
        timeout=TIMEOUT,
    )
    with Ledger.open(state, base_url=sandbox.base_url) as ledger:
        async with ApiClient(api) as client:
            results: dict[int, RowResult] = await send(
                items, client=client, ledger=ledger, settings=SEND, run_id="prop",
                rng=random.Random(1),
            )  # fmt: skip
            return results


def run(
    sandbox: RunningSandbox, state: Path, send: Any, items: Sequence[Any]
) -> dict[int, RowResult]:
    return asyncio.run(_send(sandbox, state, send, items))


def _cancel(position: int, reference: str, ids: dict[str, str]) -> CancelRequest:
    return (
        CancelRequest(ids[reference], None) if position % 2 == 0 else CancelRequest(None, reference)
    )


def check_booked(
    sandbox: RunningSandbox,
    items: list[tuple[int, AppointmentRequest]],
    results: dict[int, RowResult],
    fresh: bool,
) -> dict[str, str]:
    """One appointment per valid reference, none for rejected rows; results agree. Ids."""
    stored = sandbox.appointments()
    per_reference = Counter(a["reference"] for a in stored)
    valid = {r.reference for _, r in items if r.department_id is None}
    assert per_reference == Counter(valid), "a duplicate or a lost row"
    ids = {a["reference"]: a["id"] for a in stored}
    leaders: set[str] = set()
    for position, request in items:
        result = results[position]
        if request.department_id is not None:
            assert result.outcome is Outcome.REJECTED, (position, result)
            continue
        first = request.reference not in leaders
        leaders.add(request.reference)
        expected = Outcome.CREATED if fresh and first else Outcome.ALREADY_EXISTS
        if not first:  # the reference is taken by the first row's booking
            expected = Outcome.CONFLICT
        assert result.outcome is expected, (position, result)
        assert result.appointment is not None and result.appointment.id == ids[request.reference]
    return ids


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(fault=faults, kinds=sheets)
def test_no_duplicate_no_lost_row_whatever_the_faults(
    server: RunningSandbox, fault: Faults, kinds: list[str]
) -> None:
    server.reset()
    server.reconfigure(**{**SandboxConfig().__dict__, **fault.knobs()})
    items = requests_for(kinds)
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder) / "state"

        booked = run(server, state, send_creates, items)
        ids = check_booked(server, items, booked, fresh=True)
        again = run(server, state, send_creates, items)  # a re-run changes nothing
        assert check_booked(server, items, again, fresh=False) == ids

        # Cancel: even rows by id, odd rows by reference (found through the ledger).
        cancels = [(p, _cancel(p, r.reference, ids)) for p, r in items if r.department_id is None]
        cancelled = run(server, state, send_cancels, cancels)

    status = {a["id"]: a["status"] for a in server.appointments()}
    assert set(status.values()) <= {"cancelled"}
    assert server.stats()["cancelled"] == len(ids), "a cancel changed state twice, or none"
    done: set[str] = set()
    for position, request in cancels:
        result = cancelled[position]
        ident = request.appointment_id or ids[str(request.reference)]
        expected = Outcome.ALREADY_CANCELLED if ident in done else Outcome.CANCELLED
        done.add(ident)
        assert result.outcome is expected, (position, result)
