"""Sending in tests: the real sender, a real ledger and the sandbox over loopback."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from batch_scheduler.config import SendSettings
from batch_scheduler.ledger import Ledger
from batch_scheduler.models import AppointmentRequest, CancelRequest, RowResult
from batch_scheduler.sandbox import RunningSandbox
from batch_scheduler.send import SendStats, send_cancels, send_creates
from tests.support.requests import booking, client_for

FAST = SendSettings(
    rate=1000.0,
    concurrency=8,
    max_retries=10,
    row_deadline=60.0,
    backoff_initial=0.01,
    backoff_max=0.05,
    retry_after_floor=0.05,
    drain_timeout=5.0,
)


def marked_by_a_dead_run(
    state_dir: Path, base_url: str, operation: str, keys: Sequence[str]
) -> None:
    """Keys a run marked SENDING and then died with, an hour ago: its claims have run out
    (a run that died, unlike one still sending, no longer holds its keys)."""
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with Ledger.open(state_dir, base_url=base_url, clock=lambda: hour_ago) as ledger:
        ledger.mark_sending(operation, keys, "crashed-run")


def bookings(count: int, prefix: str = "REF") -> list[tuple[int, AppointmentRequest]]:
    return [(i, booking(f"{prefix}-{i:04d}")) for i in range(count)]


class Runner:
    """Runs sends against one sandbox with the ledger in one state directory."""

    def __init__(self, sandbox: RunningSandbox, state_dir: Path) -> None:
        self.sandbox = sandbox
        self.state_dir = state_dir
        self.calls: list[tuple[int, RowResult]] = []
        self.stats = SendStats()

    def ledger(self) -> Ledger:
        return Ledger.open(self.state_dir, base_url=self.sandbox.base_url)

    def marked_by_a_dead_run(self, operation: str, keys: Sequence[str]) -> None:
        marked_by_a_dead_run(self.state_dir, self.sandbox.base_url, operation, keys)

    def creates(
        self,
        items: Sequence[tuple[int, AppointmentRequest]],
        settings: SendSettings = FAST,
        **kwargs: Any,
    ) -> dict[int, RowResult]:
        return asyncio.run(self._send(send_creates, items, settings, **kwargs))

    def cancels(
        self,
        items: Sequence[tuple[int, CancelRequest]],
        settings: SendSettings = FAST,
        **kwargs: Any,
    ) -> dict[int, RowResult]:
        return asyncio.run(self._send(send_cancels, items, settings, **kwargs))

    async def _send(
        self, send: Callable[..., Any], items: Sequence[Any], settings: SendSettings, **kwargs: Any
    ) -> dict[int, RowResult]:
        self.calls = []
        self.stats = SendStats()

        def note(position: int, result: RowResult) -> None:
            self.calls.append((position, result))

        with self.ledger() as ledger:
            async with client_for(self.sandbox.base_url) as client:
                return await send(
                    items,
                    client=client,
                    ledger=ledger,
                    settings=settings,
                    run_id="test-run",
                    on_result=note,
                    rng=random.Random(7),
                    stats=self.stats,
                    **kwargs,
                )

    def create_directly(self, *references: str) -> list[str]:
        """Book on the server behind the ledger's back (another tool, a lost answer...)."""

        async def run() -> list[str]:
            async with client_for(self.sandbox.base_url) as client:
                ids = []
                for reference in references:
                    result = await client.create(booking(reference))
                    assert result.ok and result.value is not None, result
                    ids.append(result.value.id)
                return ids

        return asyncio.run(run())


def references_on_server(sandbox: RunningSandbox) -> Counter[str]:
    return Counter(str(item["reference"]) for item in sandbox.appointments())


def posts(sandbox: RunningSandbox, suffix: str = "/appointments") -> int:
    return sum(
        1 for r in sandbox.requests() if r["method"] == "POST" and r["path"].endswith(suffix)
    )
