"""The server killed mid-run (kill -9), started again on the same state directory: the job
says it was interrupted, Resume finishes it, and nothing is booked twice. The server runs as
a real `batch-scheduler serve` process; accounts come from `batch-scheduler users add`."""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path
from typing import Any

from batch_scheduler.sandbox import SandboxConfig
from tests.support.postgres import free_port
from tests.support.samples_table import SAMPLE_CONFIG
from tests.web.browser import check_page, sign_in
from tests.web.helpers import PASSWORD, SAMPLE_BOOK, SAMPLE_NOW, SAMPLE_VALID, cli, serving

# the samples' own config (their departments), and a send slow enough to kill mid-run
CONFIG = (
    SAMPLE_CONFIG.read_text(encoding="utf-8")
    + """
[send]
rate = 8
concurrency = 4
backoff_initial = 0.02
backoff_max = 0.1
retry_after_floor = 0.05
"""
)


def test_restart_mid_run_then_resume(tmp_path: Path, sandbox_factory: Any, new_page: Any) -> None:
    sandbox = sandbox_factory(SandboxConfig(seed=4, latency=0.02, error_rate=0.1, drop_rate=0.1))
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    env = dict(os.environ) | {
        "BATCH_SCHEDULER_BASE_URL": sandbox.base_url,
        "BATCH_SCHEDULER_TOKEN": "sandbox-token",
        "BATCH_SCHEDULER_STATE_DIR": str(tmp_path / "state"),
        "BATCH_SCHEDULER_NOW": SAMPLE_NOW.isoformat(),
    }
    added = cli(env, "users", "add", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert "alice" in cli(env, "users", "list").stdout
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    page = new_page()
    with serving(env, config, port) as first:
        sign_in(page, url)
        page.set_input_files("#file", str(SAMPLE_BOOK))
        page.click("button:has-text('Upload and check')")
        page.click("#continue")
        page.click("#send")
        page.wait_for_function(
            "parseInt(document.querySelector('[data-count=created]')?.textContent || '0') >= 5"
        )
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    booked_before = len(sandbox.appointments())
    assert 0 < booked_before < SAMPLE_VALID
    with serving(env, config, port):
        # the page's own poll reloads it once the server answers again (a reload from here
        # too raced with that one: net::ERR_ABORTED)
        page.wait_for_selector("#stop-message", timeout=30_000)
        assert "The server stopped while this job was running" in page.inner_text("#stop-message")
        check_page(page, "16-interrupted")
        page.click("#resume")
        page.wait_for_selector("#outcomes", timeout=30_000)
        cells = page.locator("[data-outcome]")
        done = {
            cells.nth(i).get_attribute("data-outcome"): int(cells.nth(i).inner_text())
            for i in range(cells.count())
        }
    assert set(done) <= {"created", "already_exists", "invalid"}
    done.pop("invalid", None)
    assert sum(done.values()) == SAMPLE_VALID
    references = Counter(a["reference"] for a in sandbox.appointments())
    assert len(references) == SAMPLE_VALID and set(references.values()) == {1}
