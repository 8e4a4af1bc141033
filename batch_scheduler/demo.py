"""`batch-scheduler demo`: the whole pipeline against the in-process sandbox, in seconds.

It writes a fresh sample sheet (dated from today, so it never goes stale), starts the sandbox
with a little latency and a few seeded faults (so retries and reconciliation show), books the
sheet, and writes out/results.xlsx and out/summary.json.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from batch_scheduler.config import ApiSettings, IntakeSettings, Secret, SendSettings, Settings
from batch_scheduler.pipeline import Progress, RunReport, RunRequest, run
from batch_scheduler.samples import write_samples
from batch_scheduler.sandbox import SandboxConfig, start_sandbox

DEMO_FAULTS = SandboxConfig(
    seed=7, latency=0.02, latency_jitter=0.03, error_rate=0.08, drop_rate=0.05
)
DEMO_DEPARTMENTS = {"Benefits": 1, "Housing": 2, "Employment support": 3}


def demo_settings(base_url: str, state_dir: Path, *, rate: float, concurrency: int) -> Settings:
    """Settings for the demo sandbox: its static token, the sample sheets' departments."""
    return Settings(
        api=ApiSettings(base_url=base_url, token=Secret(DEMO_FAULTS.static_token)),
        send=SendSettings(
            rate=rate, concurrency=concurrency, backoff_initial=0.05, backoff_max=0.5
        ),
        intake=IntakeSettings(departments=DEMO_DEPARTMENTS),
        state_dir=state_dir,
    )


def run_demo(
    out_dir: Path, *, progress: Progress | None = None, today: date | None = None
) -> tuple[RunReport, Path]:
    """Book a fresh sample sheet against a local sandbox; return the report and results path."""
    today = today or datetime.now(ZoneInfo("Europe/London")).date()
    out_dir.mkdir(parents=True, exist_ok=True)
    samples = write_samples(out_dir / "demo-input", today)
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
        report = run(request, settings, progress=progress)
    return report, results
