"""Sandbox helpers: the factory fixture's type, and appointments stored behind the API's back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from batch_scheduler.sandbox import RunningSandbox

SandboxFactory = Callable[..., RunningSandbox]


def seed_appointments(sandbox: RunningSandbox, count: int, prefix: str = "CXL") -> list[str]:
    """Store `count` scheduled appointments directly (no HTTP, so no faults); their ids.

    References are PREFIX-00000, PREFIX-00001, ... in order."""
    first = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    ids = []
    for i in range(count):
        record = sandbox.state.create(
            {
                "reference": f"{prefix}-{i:05d}",
                "appointment_at": first + timedelta(minutes=30 * i),
                "duration_in_minutes": 30,
                "claimant": {"name": f"Claimant {i}"},
            }
        )
        assert record is not None
        ids.append(record.id)
    return ids


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
