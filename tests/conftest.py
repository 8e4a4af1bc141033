"""Shared fixtures. The sandbox is a real HTTP server on a free loopback port."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from batch_scheduler.sandbox import RunningSandbox, SandboxConfig, start_sandbox


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    """A fresh sandbox with the default config (static token "sandbox-token")."""
    with start_sandbox() as running:
        yield running


SandboxFactory = Callable[..., RunningSandbox]


@pytest.fixture
def sandbox_factory() -> Iterator[SandboxFactory]:
    """Start sandboxes: factory(SandboxConfig(...)), factory(error_rate=1.0) or both
    (keywords override the config). Every one is stopped at teardown."""
    started: list[RunningSandbox] = []

    def make(config: SandboxConfig | None = None, **knobs: Any) -> RunningSandbox:
        config = dataclasses.replace(config or SandboxConfig(), **knobs)
        running = start_sandbox(config)
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI configures the package's loggers; put them back so tests stay independent."""
    names = ("batch_scheduler", "httpx", "httpcore")
    saved = {
        name: (lg.level, lg.propagate, list(lg.handlers))
        for name in names
        for lg in [logging.getLogger(name)]
    }
    yield
    for name, (level, propagate, handlers) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.propagate = propagate
        logger.handlers[:] = handlers


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
