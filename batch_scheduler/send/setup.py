"""What one send is given and what it counts, creates and cancels alike (engine.py runs it),
and how an answer becomes the ledger's record."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from batch_scheduler.api import ApiClient
from batch_scheduler.config import SendSettings
from batch_scheduler.ledger import EntryState, LedgerBackend, LedgerUpdate
from batch_scheduler.models import Appointment, RowResult
from batch_scheduler.send.pacing import REAL_TIME, Timing

if TYPE_CHECKING:
    from batch_scheduler.send.existing import ExistingCheck

ProgressCallback = Callable[[int, RowResult], None]


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
    held_elsewhere: int = 0  # times a key was found held by another run
    existing: ExistingCheck | None = None  # the check before the first create
    ledger_lost: str | None = None  # the ledger's database stopped answering: why
    started: float = 0.0  # the run's clock (time.monotonic unless a test's)
    finished: float = 0.0

    def achieved_rate(self) -> float:
        """Requests per second over the whole send (0 when nothing was timed)."""
        elapsed = self.finished - self.started
        return self.requests / elapsed if elapsed > 0 else 0.0


@dataclass(frozen=True)
class Setup:
    """What one send is given, creates and cancels alike (see send_creates)."""

    client: ApiClient
    ledger: LedgerBackend
    settings: SendSettings
    run_id: str
    on_result: ProgressCallback | None = None
    stop: asyncio.Event | None = None
    rng: random.Random | None = None
    stats: SendStats | None = None
    timing: Timing = REAL_TIME


def ledger_update(
    operation: str,
    key: str,
    state: EntryState,
    appointment: Appointment | None,
    error: str | None = None,
) -> LedgerUpdate:
    """The ledger's record of an answer: the appointment it carried, if any."""
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
