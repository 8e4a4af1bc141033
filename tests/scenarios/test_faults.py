"""1,000-row `book` and `cancel` runs through the CLI against a sandbox that misbehaves.

For every fault the end state must be the same: one appointment per valid row (book), every
named appointment cancelled exactly once (cancel), and a results workbook that agrees with
the server row by row. The sandbox allows duplicate references here, so a row sent twice
would show as a second appointment instead of being saved by the server's own check.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from batch_scheduler.pipeline import RunRequest, run
from batch_scheduler.report import RunReport
from batch_scheduler.sandbox import RunningSandbox, SandboxConfig
from tests.support.cli import invoke, run_env
from tests.support.sandbox import SandboxFactory, seed_appointments
from tests.support.settings import run_settings
from tests.support.sheets import NOW, book_row, sheet_rows, write_xlsx

ROWS = 1000
INVALID = (17, 333, 901)  # rows that fail validation: never sent
REASON = "Fault drill"
# Small waits so that each scenario takes seconds; the retry *counts* stay the defaults.
FAST = (
    "[departments]\nBenefits = 1\n\n"
    "[send]\nbackoff_initial = 0.02\nbackoff_max = 0.2\nretry_after_floor = 0.02\n"
)
CANCEL_HEADERS = ("Appointment id", "Reference")


Stats = dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    name: str
    knobs: dict[str, Any]
    happened: Callable[[Stats], bool]  # the fault really struck (the test cannot pass idly)
    credentials: bool = False  # OAuth2 client credentials instead of the static token
    timeout: float = 5.0  # the client's --timeout
    storm: bool = False  # a one-second 429 storm (time-based: a real storm is)


def _answers(stats: Stats, status: int) -> int:
    return int(stats["responses"].get(str(status), 0))


SCENARIOS = [
    Scenario(
        "5xx burst",  # 500, 502, 503 and 504 mixed: unknown outcomes and plain retries
        {"burst_start": 150, "burst_length": 250},
        lambda s: sum(_answers(s, code) for code in (500, 502, 503, 504)) == 250,
    ),
    Scenario(
        "429 storm, Retry-After 0",  # every call for one second, from the 150th call on
        {},
        lambda s: _answers(s, 429) >= 5,
        storm=True,
    ),
    Scenario("store then drop 10 %", {"drop_rate": 0.1}, lambda s: s["dropped"] >= 50),
    Scenario(
        "latency spikes past the timeout",
        {"spike_rate": 0.03, "spike_delay": 1.0},
        lambda s: s["requests"] >= ROWS + 10,  # the timed-out ones were checked or resent
        timeout=0.4,
    ),
    Scenario(
        "tokens expire mid-run",
        {"token_lifetime": 0.2},  # several renewals even in a sub-second run
        lambda s: s["token_requests"] >= 3,
        credentials=True,
    ),
    Scenario(
        "401 mid-run, renewable",
        {"revoke_tokens_at": 300},
        lambda s: _answers(s, 401) >= 1 and s["token_requests"] >= 2,
        credentials=True,
    ),
]


# ---------------------------------------------------------------- helpers


def env_for(tmp_path: Path, sandbox: RunningSandbox, *, credentials: bool) -> dict[str, str]:
    if not credentials:
        return run_env(tmp_path / "state", token=sandbox.config.static_token)
    return run_env(tmp_path / "state", token=None) | {
        "BATCH_SCHEDULER_CLIENT_ID": "sandbox-client",
        "BATCH_SCHEDULER_CLIENT_SECRET": "sandbox-secret",
        "BATCH_SCHEDULER_TOKEN_URL": sandbox.token_url,
    }


def cli_run(
    command: str, sheet: Path, out: Path, sandbox: RunningSandbox, env: dict[str, str], *,
    timeout: float = 5.0,
) -> Any:  # fmt: skip
    config = out.parent / "config.toml"
    config.write_text(FAST)
    argv = [command, str(sheet), "--out", str(out), "--config", str(config), "--base-url",
            sandbox.base_url, "--rate", "5000", "--concurrency", "8", "--timeout", str(timeout),
            "--quiet"]  # fmt: skip
    if command == "cancel":
        argv += ["--reason", REASON]
    return invoke(env, *argv)


def book_rows(count: int = ROWS) -> list[dict[str, Any]]:
    rows = [book_row(i) for i in range(count)]
    for i in INVALID:
        rows[i]["Email"] = "not an email"
    return rows


def cancel_rows(ids: list[str]) -> list[dict[str, Any]]:
    """Even rows name the appointment by id, odd rows by reference only; INVALID rows by a
    malformed id."""
    rows: list[dict[str, Any]] = []
    for i, ident in enumerate(ids):
        if i in INVALID:
            rows.append({"Appointment id": f"not-a-uuid-{i}"})
        elif i % 2 == 0:
            rows.append({"Appointment id": ident})
        else:
            rows.append({"Reference": f"CXL-{i:05d}"})
    return rows


def assert_booked(
    sandbox: RunningSandbox, out: Path, count: int = ROWS, good: tuple[str, ...] = ("created",)
) -> None:
    """One appointment per valid row, none for invalid rows; the workbook agrees."""
    stored = sandbox.appointments()
    per_reference = Counter(a["reference"] for a in stored)
    valid = [f"REF-{i:05d}" for i in range(count) if i not in INVALID]
    assert per_reference == Counter(valid), "duplicates or lost rows"
    by_reference = {a["reference"]: a for a in stored}
    lines = sheet_rows(out, read_only=True)
    assert len(lines) == count
    for i, line in enumerate(lines):
        reference = f"REF-{i:05d}"
        if i in INVALID:
            assert (line["outcome"], line["appointment_id"]) == ("invalid", None)
            continue
        server = by_reference[reference]
        assert line["outcome"] in good, (reference, line["error"])
        assert line["reference"] == reference
        assert line["appointment_id"] == server["id"]
        assert line["status"] == server["status"] == "scheduled"


def assert_cancelled(
    sandbox: RunningSandbox, ids: list[str], out: Path, good: tuple[str, ...] = ("cancelled",)
) -> None:
    """Every valid row's appointment cancelled by exactly one state change; the workbook agrees."""
    status = {a["id"]: a for a in sandbox.appointments()}
    wanted = {ident for i, ident in enumerate(ids) if i not in INVALID}
    assert {ident for ident, a in status.items() if a["status"] == "cancelled"} == wanted
    assert sandbox.stats()["cancelled"] == len(wanted), "a cancel changed state twice"
    assert {status[ident]["cancellation_reason"] for ident in wanted} == {REASON}
    lines = sheet_rows(out, read_only=True)
    assert len(lines) == len(ids)
    for i, line in enumerate(lines):
        if i in INVALID:
            assert line["outcome"] == "invalid"
            continue
        assert line["outcome"] in good, (i, line["error"])
        assert line["appointment_id"] == ids[i]
        assert line["status"] == status[ids[i]]["status"] == "cancelled"


def storm_after(sandbox: RunningSandbox, calls: int, seconds: float = 1.0) -> threading.Thread:
    """Answer every API call 429 (Retry-After: 0) for `seconds`, once `calls` have arrived."""

    def storm() -> None:
        _wait_until(lambda: sandbox.stats()["requests"] >= calls)
        sandbox.reconfigure(throttle_rate=1.0, throttle_retry_after=0)
        time.sleep(seconds)
        sandbox.reconfigure(throttle_rate=0.0)

    thread = threading.Thread(target=storm, daemon=True)
    thread.start()
    return thread


def faulty(factory: SandboxFactory, **knobs: Any) -> RunningSandbox:
    return factory(SandboxConfig(seed=11, duplicate_references="allow", **knobs))


# ---------------------------------------------------------------- every fault, book and cancel


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_book_1000_rows_under_fault(
    scenario: Scenario, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = faulty(sandbox_factory, **scenario.knobs)
    sheet = write_xlsx(tmp_path / "book.xlsx", book_rows())
    env = env_for(tmp_path, sandbox, credentials=scenario.credentials)

    if scenario.storm:
        storm_after(sandbox, 150)
    result = cli_run(
        "book", sheet, tmp_path / "results.xlsx", sandbox, env, timeout=scenario.timeout
    )

    assert result.exit_code == 1, result.output  # 1: the invalid rows
    assert scenario.happened(sandbox.stats()), sandbox.stats()
    assert_booked(sandbox, tmp_path / "results.xlsx")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_cancel_1000_rows_under_fault(
    scenario: Scenario, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = faulty(sandbox_factory, **scenario.knobs)
    ids = seed_appointments(sandbox, ROWS)
    sheet = write_xlsx(tmp_path / "cancel.xlsx", cancel_rows(ids), headers=CANCEL_HEADERS)
    env = env_for(tmp_path, sandbox, credentials=scenario.credentials)

    if scenario.storm:
        storm_after(sandbox, 150)
    result = cli_run("cancel", sheet, tmp_path / "out.xlsx", sandbox, env, timeout=scenario.timeout)

    assert result.exit_code == 1, result.output
    assert scenario.happened(sandbox.stats()), sandbox.stats()
    assert_cancelled(sandbox, ids, tmp_path / "out.xlsx")


# ---------------------------------------------------------------- a static token revoked mid-run


@pytest.mark.parametrize("command", ["book", "cancel"])
def test_static_token_revoked_mid_run_stops_then_a_rerun_finishes(
    command: str, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """A static token cannot be renewed: the run stops with exit 3 (credentials), having
    sent nothing twice; with a new token the same command finishes the job."""
    sandbox = faulty(sandbox_factory, revoke_tokens_at=300)
    env = env_for(tmp_path, sandbox, credentials=False)
    ids: list[str] = []
    if command == "book":
        sheet = write_xlsx(tmp_path / "in.xlsx", book_rows())
    else:
        ids = seed_appointments(sandbox, ROWS)
        sheet = write_xlsx(tmp_path / "in.xlsx", cancel_rows(ids), headers=CANCEL_HEADERS)

    first = cli_run(command, sheet, tmp_path / "first.xlsx", sandbox, env)

    assert first.exit_code == 3, first.output
    assert "401" in first.output
    done = len(sandbox.appointments()) if command == "book" else sandbox.stats()["cancelled"]
    assert 0 < done < ROWS - len(INVALID)

    sandbox.reconfigure(static_token="sandbox-token-renewed")  # ops get a new token
    env["BATCH_SCHEDULER_TOKEN"] = "sandbox-token-renewed"
    second = cli_run(command, sheet, tmp_path / "second.xlsx", sandbox, env)

    assert second.exit_code == 1, second.output
    if command == "book":
        assert_booked(sandbox, tmp_path / "second.xlsx", good=("created", "already_exists"))
    else:
        good = ("cancelled", "already_cancelled")
        assert_cancelled(sandbox, ids, tmp_path / "second.xlsx", good=good)


# ---------------------------------------------------------------- the server away for 20 s

OUTAGE = 20.0  # seconds: the requirement, so real time


def _start(
    command: str, sheet: Path, folder: Path, base_url: str
) -> tuple[threading.Thread, dict[str, Any]]:
    """Run `command` through pipeline.run in a thread, with the default retry settings."""
    settings = run_settings(
        folder, base_url, api={"timeout": 5.0}, send={"rate": 5000.0, "concurrency": 8}
    )
    request = RunRequest(command, sheet, folder / "out.xlsx", reason=REASON)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["report"] = run(request, settings, now=NOW)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"{command} run")
    thread.start()
    return thread, box


def _wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the runs never got going"
        time.sleep(0.01)


def test_server_away_20_seconds_mid_run_book_and_cancel(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """Connections refused for 20 s while a book and a cancel run (default retry settings):
    both ride it out and finish exactly once."""
    sandbox = faulty(sandbox_factory)
    ids = seed_appointments(sandbox, ROWS)
    (tmp_path / "book").mkdir()
    (tmp_path / "cancel").mkdir()
    book_in = write_xlsx(tmp_path / "book" / "in.xlsx", book_rows())
    cancel_in = write_xlsx(
        tmp_path / "cancel" / "in.xlsx", cancel_rows(ids), headers=CANCEL_HEADERS
    )
    booking, booked = _start("book", book_in, tmp_path / "book", sandbox.base_url)
    cancelling, cancelled = _start("cancel", cancel_in, tmp_path / "cancel", sandbox.base_url)

    def created() -> int:
        return len(sandbox.appointments()) - ROWS

    _wait_until(lambda: created() >= 150 and sandbox.stats()["cancelled"] >= 150)
    sandbox.stop_listening()
    at_outage = (created(), sandbox.stats()["cancelled"])
    time.sleep(OUTAGE)
    sandbox.resume()
    booking.join(180)
    cancelling.join(180)

    assert at_outage[0] < ROWS - len(INVALID) and at_outage[1] < ROWS - len(INVALID)
    for box in (booked, cancelled):
        assert "error" not in box, box.get("error")
        report: RunReport = box["report"]
        assert report.exit_code == 1, report.outcomes
    stored = sandbox.appointments()
    seeded = {a["id"] for a in stored[:ROWS]}
    assert seeded == set(ids)
    book_view = _Only(sandbox, stored[ROWS:])
    assert_booked(book_view, tmp_path / "book" / "out.xlsx")  # type: ignore[arg-type]
    assert_cancelled(sandbox, ids, tmp_path / "cancel" / "out.xlsx")


class _Only:
    """A sandbox seen through part of its appointments (the book run's, in the outage test)."""

    def __init__(self, sandbox: RunningSandbox, appointments: list[dict[str, Any]]) -> None:
        self._appointments = appointments

    def appointments(self) -> list[dict[str, Any]]:
        return self._appointments
