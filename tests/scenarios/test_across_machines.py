"""Exactly once across machines (issue 13): runs that do not share a state directory, runs
that share a PostgreSQL ledger at the same time, one of them killed mid-send, and a fresh
container's run. Every scenario books a 1,000-row sheet against a sandbox that silently
accepts a repeated reference and drops 10 % of the creates after storing them, and ends
with exactly one appointment per valid reference and results workbooks that agree with the
sandbox row by row.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg

from batch_scheduler.ledger import EntryState, Ledger
from batch_scheduler.sandbox import RunningSandbox
from tests.support.across_machines import (
    INVALID,
    argv,
    assert_agrees,
    assert_exactly_once,
    env_for,
    faulty,
    finish,
    posts,
    sheet,
    start,
)
from tests.support.cli import invoke
from tests.support.sandbox import SandboxFactory

ROWS = 1000


def book_here(folder: Path, book: Path, sandbox: RunningSandbox, env: dict[str, str]) -> Any:
    """`batch-scheduler book` in this process."""
    return invoke(env, *argv(folder, book, sandbox))


# ---------------------------------------------------------------- the scenarios


def test_a_two_state_directories_one_after_the_other(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """Two laptops, each with its own state directory, booking overlapping sheets."""
    sandbox = faulty(sandbox_factory)
    first, second = range(ROWS), range(ROWS // 2, ROWS + ROWS // 2)
    one, two = tmp_path / "laptop-1", tmp_path / "laptop-2"

    assert book_here(one, sheet(tmp_path / "1.xlsx", first), sandbox, env_for(one)).exit_code == 1
    sent_before = posts(sandbox)
    assert book_here(two, sheet(tmp_path / "2.xlsx", second), sandbox, env_for(two)).exit_code == 1

    assert_exactly_once(sandbox, range(ROWS + ROWS // 2))
    assert_agrees(sandbox, one / "results.xlsx", first)
    outcomes = assert_agrees(sandbox, two / "results.xlsx", second)
    assert outcomes["already_exists"] == ROWS // 2 - 1  # the overlap (901 is invalid)
    assert sandbox.stats()["dropped"] >= 50
    new_rows = ROWS // 2 - 1  # 1333 is invalid
    assert posts(sandbox) - sent_before <= new_rows + 60  # the overlap was never sent again


def test_b_two_processes_share_one_postgresql_ledger_at_once(
    sandbox_factory: SandboxFactory, tmp_path: Path, state_url: str
) -> None:
    """Ops and the ETL job booking overlapping sheets at the same time, one shared ledger."""
    sandbox = faulty(sandbox_factory)
    first, second = range(ROWS), range(ROWS // 2, ROWS + ROWS // 2)
    one, two = tmp_path / "ops", tmp_path / "etl"

    processes = [
        start(one, sheet(tmp_path / "1.xlsx", first), sandbox, env_for(one, state_url)),
        start(two, sheet(tmp_path / "2.xlsx", second), sandbox, env_for(two, state_url)),
    ]
    assert [finish(p) for p in processes] == [1, 1]  # 1: the invalid rows

    assert_exactly_once(sandbox, range(ROWS + ROWS // 2))
    a = assert_agrees(sandbox, one / "results.xlsx", first)
    b = assert_agrees(sandbox, two / "results.xlsx", second)
    # each reference created by one of them; a create whose answer was dropped while the
    # other run found it on the account reads already_exists in both (either is true)
    valid = len([i for i in range(ROWS + ROWS // 2) if i not in INVALID])
    dropped = sandbox.stats()["dropped"]
    assert valid - dropped <= a["created"] + b["created"] <= valid
    assert dropped >= 50


def test_c_one_killed_mid_send_and_the_other_finishes_after_the_lease(
    sandbox_factory: SandboxFactory, tmp_path: Path, state_url: str
) -> None:
    """Both start on the shared part first; one is killed (kill -9) holding claims there: the
    other waits for them to run out, checks those keys with the server (never resends them
    blindly), and finishes. The killed one's sheet, run again, finishes too."""
    sandbox = faulty(sandbox_factory)
    shared = list(range(ROWS // 2, ROWS))
    first = shared + list(range(ROWS // 2))  # the shared part first, then its own
    second = shared + list(range(ROWS, ROWS + ROWS // 2))
    one, two = tmp_path / "killed", tmp_path / "survivor"
    one_sheet = sheet(tmp_path / "1.xlsx", first)

    killed = start(one, one_sheet, sandbox, env_for(one, state_url))
    survivor = start(two, sheet(tmp_path / "2.xlsx", second), sandbox, env_for(two, state_url))
    _wait_until(lambda: len(sandbox.appointments()) >= 300)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=30)
    assert killed.returncode == -signal.SIGKILL
    assert held_by(state_url, killed.pid) > 0  # it died holding keys the survivor needs
    assert finish(survivor) == 1

    outcomes = assert_agrees(sandbox, two / "results.xlsx", second)
    assert outcomes["created"] + outcomes["already_exists"] == len(second) - 2  # 901, 1333
    assert book_here(one, one_sheet, sandbox, env_for(one, state_url)).exit_code == 1
    assert_agrees(sandbox, one / "results.xlsx", first)
    assert_exactly_once(sandbox, range(ROWS + ROWS // 2))


def test_d_a_fresh_container_after_a_complete_run(
    sandbox_factory: SandboxFactory, tmp_path: Path, state_url: str
) -> None:
    """The nightly job in a new container (no state directory, no database) books the sheet
    the team's shared ledger has already booked: the account itself says it is done."""
    sandbox = faulty(sandbox_factory)
    rows = range(ROWS)
    book = sheet(tmp_path / "book.xlsx", rows)
    team, container = tmp_path / "team", tmp_path / "container"

    assert book_here(team, book, sandbox, env_for(team, state_url)).exit_code == 1
    sent = posts(sandbox)
    assert book_here(container, book, sandbox, env_for(container)).exit_code == 1

    assert posts(sandbox) == sent  # nothing sent: every reference was found first
    assert_exactly_once(sandbox, rows)
    assert_agrees(sandbox, team / "results.xlsx", rows)
    outcomes = assert_agrees(sandbox, container / "results.xlsx", rows)
    assert outcomes["already_exists"] == ROWS - 3
    with Ledger.open(container / "state", base_url=sandbox.base_url) as ledger:  # remembered
        found = ledger.get_many("create", [f"REF-{i:05d}" for i in rows])
    assert Counter(entry.state for entry in found.values()) == {EntryState.DONE: ROWS - 3}


def held_by(state_url: str, pid: int) -> int:
    """How many keys the process `pid` holds in the shared ledger (claims.py's owners)."""
    with psycopg.connect(state_url) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM entries WHERE owner LIKE %s AND state IN ('sending', 'unknown')",
            (f"%/{pid}/%",),
        ).fetchone()
    return int(row[0]) if row else 0


def _wait_until(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "it never happened"
        time.sleep(0.01)
