"""`batch-scheduler demo`: the whole pipeline against the in-process sandbox, in seconds.

It writes a fresh sample sheet (dated from today, so it never goes stale: its only problems
are its deliberate mistakes), starts the sandbox with a little latency and a few seeded
faults (so retries and reconciliation show), books the sheet, and writes out/results.xlsx
and out/summary.json. `write_fresh_samples` gives people the same files to try commands on.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from batch_scheduler.config import ApiSettings, IntakeSettings, Secret, SendSettings, Settings
from batch_scheduler.demo.samples import SAMPLE_DEPARTMENTS, write_samples
from batch_scheduler.pipeline import Progress, RunRequest, run
from batch_scheduler.report import RunReport
from batch_scheduler.sandbox import SandboxConfig, start_sandbox

DEMO_FAULTS = SandboxConfig(
    seed=7, latency=0.02, latency_jitter=0.03, error_rate=0.08, drop_rate=0.05
)
SAMPLES_TIMEZONE = ZoneInfo("Europe/London")  # the samples' clock times are UK times


def demo_input(out_dir: Path) -> Path:
    """The sample sheet the demo books (written by `run_demo`)."""
    return out_dir / "demo-input" / "book.xlsx"


def write_fresh_samples(folder: Path, now: datetime | None = None) -> dict[str, Path]:
    """The sample files and their config, dated from today in the UK; return their paths."""
    return write_samples(folder, _uk_date(now))


def demo_settings(base_url: str, state_dir: Path, *, rate: float, concurrency: int) -> Settings:
    """Settings for the demo sandbox: its static token, the sample sheets' departments."""
    return Settings(
        api=ApiSettings(base_url=base_url, token=Secret(DEMO_FAULTS.static_token)),
        send=SendSettings(
            rate=rate, concurrency=concurrency, backoff_initial=0.05, backoff_max=0.5
        ),
        intake=IntakeSettings(departments=SAMPLE_DEPARTMENTS),
        state_dir=state_dir,
    )


def run_demo(
    out_dir: Path, *, progress: Progress | None = None, now: datetime | None = None
) -> tuple[RunReport, Path]:
    """Book a fresh sample sheet against a local sandbox; return the report and results path."""
    now = now or datetime.now(UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    samples = write_fresh_samples(demo_input(out_dir).parent, now)
    state_dir = out_dir / "demo-state"
    shutil.rmtree(state_dir, ignore_errors=True)
    results = out_dir / "results.xlsx"
    with start_sandbox(DEMO_FAULTS) as sandbox:
        settings = demo_settings(sandbox.base_url, state_dir, rate=100, concurrency=8)
        request = RunRequest(
            "book",
            samples["book.xlsx"],
            results,
            summary_json=out_dir / "summary.json",
            options_text="demo (sandbox with latency and seeded faults)",
        )
        report = run(request, settings, now=now, progress=progress)
    return report, results


def _uk_date(now: datetime | None) -> date:
    return (now or datetime.now(UTC)).astimezone(SAMPLES_TIMEZONE).date()
