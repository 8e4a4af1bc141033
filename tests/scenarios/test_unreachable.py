"""An API that cannot be reached: refused before anything is sent, or lost for good mid-run.

An unattended job must not spin for minutes against a mistyped URL, nor hang forever on a
server that never comes back: it stops with exit code 4 ("try again later"), having sent
nothing twice, and a later run finishes the job.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from batch_scheduler.pipeline import RunRequest, run
from batch_scheduler.report import RunReport
from tests.support.cli import cli_env, invoke
from tests.support.sandbox import SandboxFactory
from tests.support.settings import run_settings
from tests.support.sheets import NOW, book_sheet, sheet_rows

FAST = "[departments]\nBenefits = 1\n\n[send]\nbackoff_initial = 0.02\nbackoff_max = 0.2\n"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_api_stops_the_run_before_anything_is_sent(tmp_path: Path) -> None:
    sheet = book_sheet(tmp_path / "in.xlsx", 5)
    env = cli_env(tmp_path, FAST)
    url = f"http://127.0.0.1:{closed_port()}"
    argv = ["book", str(sheet), "--out", str(tmp_path / "out.xlsx"), "--base-url", url,
            "--config", str(tmp_path / "config.toml")]  # fmt: skip

    began = time.monotonic()
    result = invoke(env, *argv, catch_exceptions=True)

    assert result.exit_code == 4, result.output
    assert time.monotonic() - began < 10  # a few quick tries, not minutes of retries
    assert "Could not reach the API at 127.0.0.1" in result.output
    assert "Nothing was sent" in result.output and "Traceback" not in result.output


def _settings(folder: Path, base_url: str) -> Any:
    return run_settings(
        folder, base_url, FAST + "unreachable_after = 1.5\n",
        api={"timeout": 2.0}, send={"rate": 200.0, "concurrency": 4},
    )  # fmt: skip


def test_a_server_lost_mid_run_stops_it_with_partial_results_and_a_rerun_finishes(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = sandbox_factory(duplicate_references="allow")  # a row sent twice would show
    sheet = book_sheet(tmp_path / "in.xlsx", 300)
    settings = _settings(tmp_path, sandbox.base_url)
    out = tmp_path / "out.xlsx"
    box: dict[str, Any] = {}

    def book() -> None:
        box["report"] = run(RunRequest("book", sheet, out), settings, now=NOW)

    worker = threading.Thread(target=book)
    worker.start()
    deadline = time.monotonic() + 30
    while len(sandbox.appointments()) < 50 and time.monotonic() < deadline:
        time.sleep(0.01)
    sandbox.stop_listening()  # and it does not come back while this run lasts
    worker.join(60)

    assert not worker.is_alive(), "the run must stop by itself"
    report: RunReport = box["report"]
    assert report.unreachable and report.exit_code == 4
    assert report.summary["stopped_because"] == "api-unreachable"
    outcomes = Counter(row[0] for row in _outcomes(out))
    assert 50 <= outcomes["created"] < 300 and sum(outcomes.values()) == 300

    sandbox.resume()
    again = run(RunRequest("book", sheet, out), settings, now=NOW)

    assert again.exit_code == 0, again.outcomes
    stored = sandbox.appointments()
    assert len(stored) == 300 and len({a["reference"] for a in stored}) == 300


def _outcomes(path: Path) -> list[tuple[Any, ...]]:
    return [(row["outcome"],) for row in sheet_rows(path, read_only=True)]
