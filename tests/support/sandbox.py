"""Sandbox helpers: the factory fixture's type, and appointments stored behind the API's back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from batch_scheduler.sandbox import RunningSandbox

SandboxFactory = Callable[..., RunningSandbox]


def seed_appointments(sandbox: RunningSandbox, count: int, prefix: str = "CXL") -> list[str]:
    """Store `count` scheduled appointments directly (no HTTP, so no faults); their ids.

    References are PREFIX-00000, PREFIX-00001, ... in order."""
    return sandbox.state.seed(count, prefix)


def seed(
    sandbox: RunningSandbox,
    reference: str,
    at: datetime,
    *,
    name: str = "Claimant SQ",
    cancelled: bool = False,
) -> str:
    """An appointment put on the account behind our back (no HTTP, so no faults)."""
    record = sandbox.state.create(
        {
            "reference": reference,
            "appointment_at": at,
            "duration_in_minutes": 30,
            "claimant": {"name": name},
        }
    )
    assert record is not None
    if cancelled:
        sandbox.state.cancel(record.id, "moved")
    return record.id
