"""Shared fixtures. The sandbox is a real HTTP server on a free loopback port.

Shared helpers (sheet builders, the CLI runner, the sending runner...) live in tests/support/.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from batch_scheduler import i18n
from batch_scheduler.sandbox import RunningSandbox, SandboxConfig, start_sandbox
from tests.support.cli import cli_env
from tests.support.postgres import ENV_TEST_URL, Cluster, cluster_for_session
from tests.support.sandbox import SandboxFactory
from tests.support.system import require_program


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    """A fresh sandbox with the default config (static token "sandbox-token")."""
    with start_sandbox() as running:
        yield running


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


@pytest.fixture(autouse=True)
def _english_by_default() -> Iterator[None]:
    """A test that sets the process's language (the CLI does, in-process) leaves the next one
    in English, whatever the machine's locale."""
    yield
    i18n.set_default_language(i18n.DEFAULT_LANGUAGE)


@pytest.fixture
def env(tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    """The environment a CLI test runs with (static token, a private state directory, "now"
    pinned to NOW), with the test module's CONFIG written to tmp_path/config.toml."""
    return cli_env(tmp_path, request.module.CONFIG)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """One throwaway PostgreSQL server per test session (per xdist worker), or the one
    BATCH_SCHEDULER_TEST_STATE_URL names; skipped with advice where PostgreSQL is not
    installed (failed in CI)."""
    if not os.environ.get(ENV_TEST_URL):
        require_program("initdb")
        require_program("pg_ctl")
    with cluster_for_session() as cluster:
        yield cluster


@pytest.fixture
def state_url(postgres_cluster: Cluster) -> str:
    """The URL of a new, empty PostgreSQL database for this test (a shared ledger)."""
    return postgres_cluster.fresh_database()


# ---------------------------------------------------------------- the browser's event loop


@contextmanager
def _without_the_browsers_loop(item: pytest.Item) -> Iterator[None]:
    """Playwright's sync API (the session's chromium, tests/web/browser.py) marks its event
    loop as running in this thread between its calls, on purpose. A later test on the same
    worker that runs asyncio here (the CLI in-process, the sender, a module's fixture that
    books) would find it and fail: "asyncio.run() cannot be called from a running event
    loop". Such a test is set up and run without it; it is marked again after each, for
    the browser's next call (not hidden at teardown: the last test of a worker tears the
    browser down, which needs it)."""
    if "chromium" in getattr(item, "fixturenames", ()):
        yield
        return
    left = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(None)
    try:
        yield
    finally:
        asyncio.events._set_running_loop(left)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    with _without_the_browsers_loop(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    with _without_the_browsers_loop(item):
        return (yield)
