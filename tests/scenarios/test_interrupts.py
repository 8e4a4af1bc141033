"""A real `batch-scheduler book`/`cancel` process killed mid-run (SIGKILL) or stopped (SIGTERM),
then re-run: exactly one appointment per valid row (book), each appointment cancelled by exactly
one state change (cancel), whatever moment the process died."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from batch_scheduler.sandbox import SandboxConfig
from tests.support.cli import run_env
from tests.support.sandbox import seed_appointments
from tests.support.sheets import book_sheet, sheet_rows, write_xlsx

ROWS = 120
KILL_ROWS = 1_000  # issue 6: a 1,000-row batch, the client killed twice during it


def start_book(sheet: Path, out: Path, base_url: str, state: Path) -> subprocess.Popen[bytes]:
    return start("book", sheet, out, base_url, state)


def start(
    command: str, sheet: Path, out: Path, base_url: str, state: Path
) -> subprocess.Popen[bytes]:
    env = {**os.environ, **run_env(state)}
    cmd = [sys.executable, "-m", "batch_scheduler", command, str(sheet), "--out", str(out),
           "--base-url", base_url, "--concurrency", "4", "--rate", "1000", "--timezone",
           "Europe/London", "--config", str(write_config(state.parent))]  # fmt: skip
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def write_config(folder: Path) -> Path:
    path = folder / "config.toml"
    path.write_text("[departments]\nBenefits = 1\n\n[send]\nbackoff_initial = 0.02\n")
    return path


def wait_for_creates(server: Any, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(server.appointments()) < count:
        assert time.monotonic() < deadline, "the run never got going"
        time.sleep(0.01)


def outcomes(path: Path) -> Counter[str]:
    return Counter(row["outcome"] for row in sheet_rows(path))


def test_sigkill_twice_then_rerun_books_each_row_once(sandbox_factory: Any, tmp_path: Path) -> None:
    server = sandbox_factory(SandboxConfig(seed=3, latency=0.03, drop_rate=0.05, error_rate=0.05))
    sheet = book_sheet(tmp_path / "in.xlsx", KILL_ROWS)
    out, state = tmp_path / "results.xlsx", tmp_path / "state"

    for killed_after in (150, 500):
        process = start_book(sheet, out, server.base_url, state)
        wait_for_creates(server, killed_after)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        assert process.returncode == -signal.SIGKILL
    assert len(server.appointments()) < KILL_ROWS

    final = start_book(sheet, out, server.base_url, state)
    _stdout, stderr = final.communicate(timeout=120)

    assert final.returncode == 0, stderr.decode()
    assert Counter(a["reference"] for a in server.appointments()) == Counter(
        f"REF-{i:05d}" for i in range(KILL_ROWS)
    )
    counts = outcomes(out)
    assert set(counts) <= {"created", "already_exists"}
    assert counts["already_exists"] >= 500


def wait_for_cancels(server: Any, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while server.stats()["cancelled"] < count:
        assert time.monotonic() < deadline, "the run never got going"
        time.sleep(0.01)


def test_cancel_sigkill_twice_then_rerun_cancels_each_once(
    sandbox_factory: Any, tmp_path: Path
) -> None:
    server = sandbox_factory(SandboxConfig(seed=5, latency=0.01, drop_rate=0.05, error_rate=0.05))
    ids = seed_appointments(server, KILL_ROWS)
    sheet = write_xlsx(
        tmp_path / "cancel.xlsx", [{"Appointment id": i} for i in ids], headers=["Appointment id"]
    )
    out, state = tmp_path / "results.xlsx", tmp_path / "state"

    for killed_after in (150, 500):
        process = start("cancel", sheet, out, server.base_url, state)
        wait_for_cancels(server, killed_after)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        assert process.returncode == -signal.SIGKILL
    assert server.stats()["cancelled"] < KILL_ROWS

    final = start("cancel", sheet, out, server.base_url, state)
    _stdout, stderr = final.communicate(timeout=120)

    assert final.returncode == 0, stderr.decode()
    assert {a["status"] for a in server.appointments()} == {"cancelled"}
    assert server.stats()["cancelled"] == KILL_ROWS  # no appointment changed state twice
    lines = sheet_rows(out, read_only=True)
    assert [line["appointment_id"] for line in lines] == ids
    assert {line["status"] for line in lines} == {"cancelled"}
    counts = Counter(line["outcome"] for line in lines)
    assert set(counts) <= {"cancelled", "already_cancelled"}
    assert counts["already_cancelled"] >= 500


def test_sigterm_writes_partial_results_and_exits_130(sandbox_factory: Any, tmp_path: Path) -> None:
    server = sandbox_factory(SandboxConfig(seed=4, latency=0.05))
    sheet = book_sheet(tmp_path / "in.xlsx", ROWS)
    out, state = tmp_path / "results.xlsx", tmp_path / "state"

    process = start_book(sheet, out, server.base_url, state)
    wait_for_creates(server, 10)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 130, stderr.decode()
    partial = outcomes(out)
    assert partial["not_attempted"] > 0
    assert partial["created"] == len(server.appointments())

    final = start_book(sheet, out, server.base_url, state)
    _, stderr = final.communicate(timeout=120)
    assert final.returncode == 0, stderr.decode()
    assert Counter(a["reference"] for a in server.appointments()) == Counter(
        f"REF-{i:05d}" for i in range(ROWS)
    )
