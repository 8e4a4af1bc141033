"""The web page for ops: upload-to-check time in a real browser, and page times under load.

    .venv/bin/python -m bench.bench_web [--quick]

Targets (issue 14): the check page for a 10,000-row xlsx shows within 3 s of the CLI's
`validate` on the same file (both wall time: the CLI's includes starting Python and its
imports, ~1.5 s, the page's includes the upload, the check and the report workbook written
for download, and the browser loading the page); every page answers in < 200 ms while a
100,000-row job is sending (the pages polled every 0.2 s during the send; p95 and max).
Chromium is Debian's (/usr/bin/chromium), driven by Playwright.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.bench_intake import CACHE, ROOT, TODAY, sheet
from bench.common import Figure, figure, table
from tests.web.browser import CHROMIUM_ARGS

DEPARTMENTS = {"Benefits": 1, "Housing": 2, "Employment support": 3}
NOW = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC)
PASSWORD = "bench password, long enough"


def _context(  # type: ignore[no-untyped-def]
    state_dir: Path, base_url: str | None, rate: float = 10.0, concurrency: int = 8
):
    from batch_scheduler.config import ApiSettings, IntakeSettings, Secret, SendSettings, Settings
    from batch_scheduler.web import WebContext
    from batch_scheduler.web.settings import WebSettings

    api = ApiSettings(base_url=base_url, token=Secret("sandbox-token")) if base_url else None
    settings = Settings(
        api=api,
        send=SendSettings(rate=rate, concurrency=concurrency),
        intake=IntakeSettings(departments=DEPARTMENTS),
        state_dir=state_dir,
    )
    context = WebContext(
        settings=settings, web=WebSettings(), booking_off=None, secure_cookies=False
    )
    context.now = lambda: NOW
    context.accounts.add("bench", PASSWORD)
    return context


def cli_validate_seconds(path: Path, folder: Path) -> float:
    config = folder / "config.toml"
    lines = "".join(f'"{name}" = {ident}\n' for name, ident in DEPARTMENTS.items())
    config.write_text("[departments]\n" + lines)
    env = dict(os.environ, BATCH_SCHEDULER_NOW=NOW.isoformat())
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "batch_scheduler",
            "validate",
            str(path),
            "--config",
            str(config),
            "-q",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
    )
    assert done.returncode in (0, 1), done.stderr
    return time.perf_counter() - start


def upload_to_check(rows: int, runs: int) -> list[Figure]:
    from playwright.sync_api import sync_playwright

    from batch_scheduler.web import RunningWeb

    path = sheet(rows, "shared.xlsx")
    web_s, cli_s = [], []
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        context = _context(Path(folder) / "state", None)
        with RunningWeb(context) as web:
            page = browser.new_page()
            page.goto(web.url + "/")
            page.fill("#name", "bench")
            page.fill("#password", PASSWORD)
            page.click("button:has-text('Sign in')")
            for _ in range(runs):
                cli_s.append(cli_validate_seconds(path, Path(folder)))
                page.goto(web.url + "/")
                page.set_input_files("#file", str(path))
                start = time.perf_counter()
                page.click("button:has-text('Upload and check')")
                page.wait_for_url("**/check", timeout=120_000)
                page.wait_for_selector("#counts")
                web_s.append(time.perf_counter() - start)
        browser.close()
    gap = [w - c for w, c in zip(web_s, cli_s, strict=True)]
    note = f"CLI validate {statistics.median(cli_s):.2f} s, page {statistics.median(web_s):.2f} s"
    return [
        figure(f"web upload -> check page, {rows:,} rows xlsx", web_s, "s", None),
        figure(f"web check minus CLI validate, {rows:,} rows", gap, "s", 3.0, note=note),
    ]


def pages_while_sending(rows: int) -> list[Figure]:
    from batch_scheduler.sandbox import SandboxConfig, start_sandbox
    from batch_scheduler.web import RunningWeb

    path = sheet(rows, "csv")
    times: list[float] = []
    with (
        tempfile.TemporaryDirectory() as folder,
        start_sandbox(SandboxConfig(per_page_max=100)) as sandbox,
    ):
        context = _context(Path(folder) / "state", sandbox.base_url, rate=5_000, concurrency=64)
        with RunningWeb(context) as web, httpx.Client(base_url=web.url, timeout=600) as client:
            form = client.get("/sign-in").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
            client.post(
                "/sign-in", data={"csrf_token": token, "name": "bench", "password": PASSWORD}
            )
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)  # type: ignore[union-attr]
            with path.open("rb") as handle:
                checked = client.post(
                    "/upload",
                    data={"csrf_token": token, "kind": "book"},
                    files={"file": (path.name, handle)},
                    follow_redirects=True,
                )
            job = int(re.search(r"/jobs/(\d+)", str(checked.url)).group(1))  # type: ignore[union-attr]
            while context.jobs.get(job).state.value == "checking":
                time.sleep(0.5)
            client.post(f"/jobs/{job}/send", data={"csrf_token": token})
            started = time.perf_counter()
            urls = [f"/jobs/{job}/progress", f"/jobs/{job}", "/jobs", "/", "/audit"]
            while context.jobs.get(job).sending:
                for url in urls:
                    t = time.perf_counter()
                    assert client.get(url).status_code == 200
                    times.append(time.perf_counter() - t)
                time.sleep(0.2)
            send_s = time.perf_counter() - started
            outcomes = context.jobs.get(job).outcomes
    ms = [t * 1000 for t in times]
    p95 = statistics.quantiles(ms, n=20)[-1] if len(ms) >= 20 else max(ms)
    note = (
        f"{len(ms)} page loads over a {send_s:.0f} s send ({outcomes}); "
        f"p95 {p95:.0f} ms, max {max(ms):.0f} ms"
    )
    return [
        figure(f"web page time while {rows:,} rows send (p95)", [p95], "ms", 200.0, note=note),
        figure(f"web page time while {rows:,} rows send (max)", [max(ms)], "ms", None),
    ]


def figures(quick: bool = False) -> list[Figure]:
    CACHE.mkdir(exist_ok=True)
    check = upload_to_check(2_000 if quick else 10_000, 1 if quick else 3)
    return check + pages_while_sending(5_000 if quick else 100_000)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print(table(figures(parser.parse_args().quick)))
