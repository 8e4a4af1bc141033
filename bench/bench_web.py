"""The web page for ops: upload-to-check time in a real browser, and page times under load.

    .venv/bin/python -m bench.bench_web [--quick] [--pages-only] [--compare-with CHECKOUT]

`--compare-with /work/main` serves that checkout (with its own .venv) first, then this one,
the same way: the page times before and after a change, in one run on the same machine.

Targets (issue 14): the check page for a 10,000-row xlsx shows within 3 s of the CLI's
`validate` on the same file (both wall time: the CLI's includes starting Python and its
imports, ~1.5 s, the page's includes the upload, the check and the report workbook written
for download, and the browser loading the page); every page answers in < 200 ms while a
100,000-row job is sending (the pages polled every 0.2 s during the send; p95 and max).
Chromium is Debian's (/usr/bin/chromium), driven by Playwright.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
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


PAGE_KINDS = ("upload", "check", "progress", "job", "history", "audit")


def _page_urls(job: int) -> dict[str, str]:
    """One URL of every kind of page an ops person may load while a job sends."""
    return {
        "upload": "/",
        "check": f"/jobs/{job}/check",
        "progress": f"/jobs/{job}/progress",
        "job": f"/jobs/{job}",
        "history": "/jobs",
        "audit": "/audit",
    }


@dataclass(frozen=True)
class Checkout:
    """The code a bench serves: this checkout, or another (`--compare-with`, e.g. main's
    worktree) run with its own virtualenv, to compare both in one run on the same machine."""

    label: str
    root: Path

    @property
    def python(self) -> str:
        own = self.root / ".venv" / "bin" / "python"
        return str(own) if self.root != ROOT and own.exists() else sys.executable


@contextlib.contextmanager
def serve_process(
    folder: Path, base_url: str, rate: float, concurrency: int, code: Checkout
) -> Iterator[tuple[str, int]]:
    """`batch-scheduler serve` of `code` in its own process (as ops run it), with a `bench`
    account; yields its URL and process id."""
    config = folder / "config.toml"
    lines = "".join(f'"{name}" = {ident}\n' for name, ident in DEPARTMENTS.items())
    config.write_text(
        f"[departments]\n{lines}\n[send]\nrate = {rate}\nconcurrency = {concurrency}\n"
    )
    env = dict(os.environ, BATCH_SCHEDULER_BASE_URL=base_url, BATCH_SCHEDULER_TOKEN="sandbox-token",
               BATCH_SCHEDULER_STATE_DIR=str(folder / "state"),
               BATCH_SCHEDULER_NOW=NOW.isoformat())  # fmt: skip
    command = [code.python, "-m", "batch_scheduler"]
    users = [*command, "users", "add", "bench", "--password-stdin"]
    subprocess.run(users, env=env, input=PASSWORD + "\n", text=True, check=True,
                   capture_output=True, cwd=code.root)  # fmt: skip
    port = _free_port()
    serve = [*command, "serve", "--port", str(port), "--config", str(config)]
    process = subprocess.Popen(serve, env=env, cwd=code.root, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("serve did not start")
            time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _signed_in(client: httpx.Client) -> str:
    """Sign in as `bench`; the page's CSRF token."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)
    assert token
    client.post("/sign-in", data={"csrf_token": token.group(1), "name": "bench",
                                  "password": PASSWORD})  # fmt: skip
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert found
    return found.group(1)


def _uploaded(client: httpx.Client, token: str, path: Path) -> int:
    """Upload `path` as a book sheet; its job number once its check is done."""
    with path.open("rb") as handle:
        form = {"csrf_token": token, "kind": "book"}
        files = {"file": (path.name, handle)}
        checked = client.post("/upload", data=form, files=files, follow_redirects=True)
    job = int(re.search(r"/jobs/(\d+)", str(checked.url)).group(1))  # type: ignore[union-attr]
    while client.get(f"/jobs/{job}/check").headers.get("x-job-state") == "checking":
        time.sleep(0.5)
    return job


@dataclass(frozen=True)
class Load:
    """One page load: its wall time, and how much of it the server's event loop thread and
    this client's thread spent ready to run but waiting for a CPU (the machine's share)."""

    kind: str
    ms: float
    server_queued_ms: float
    client_queued_ms: float

    @property
    def own_ms(self) -> float:
        """The load's time with the waits for a CPU taken out (at least 0)."""
        return max(0.0, self.ms - self.server_queued_ms - self.client_queued_ms)


def _load(client: httpx.Client, kind: str, url: str, server: int) -> tuple[Load, httpx.Response]:
    me = os.getpid(), threading.get_native_id()
    server_before, client_before = _run_delay(server), _run_delay(*me)
    started = time.perf_counter()
    response = client.get(url)
    ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code)
    server_queued = (_run_delay(server) - server_before) * 1000
    return Load(kind, ms, server_queued, (_run_delay(*me) - client_before) * 1000), response


def pages_while_sending(rows: int, code: Checkout) -> list[Figure]:
    """Every kind of page loaded in turn (then 0.2 s of rest) while a `rows`-row job sends;
    the sandbox, the page (`code`'s) and this client each in its own process."""
    from bench.bench_fanout import sandbox_process

    path = sheet(rows, "csv")
    loads: list[Load] = []
    with (
        tempfile.TemporaryDirectory() as name,
        sandbox_process() as sandbox,
        serve_process(Path(name), sandbox.base_url, 5_000, 64, code) as (url, pid),
        httpx.Client(base_url=url, timeout=600) as client,
    ):
        token = _signed_in(client)
        job = _uploaded(client, token, path)
        client.post(f"/jobs/{job}/send", data={"csrf_token": token})
        started, state = time.perf_counter(), "queued"
        while state in ("queued", "running"):
            for kind, page_url in _page_urls(job).items():
                load, response = _load(client, kind, page_url, pid)
                loads.append(load)
                state = response.headers.get("x-job-state", state)
            time.sleep(0.2)
        send_s = time.perf_counter() - started
        done = client.get(f"/jobs/{job}").text
        outcomes = dict(re.findall(r'data-outcome="(\w+)">([\d,]+)<', done))
    summary = f"{len(loads)} page loads over a {send_s:.0f} s send ({outcomes})"
    return _page_figures(f"{code.label}: " if code.label else "", rows, loads, summary)


def _page_figures(label: str, rows: int, loads: list[Load], summary: str) -> list[Figure]:
    every = [load.ms for load in loads]
    slow = [load for load in loads if load.ms > 200]
    queued = " ".join(f"{s.ms:.0f}/{s.server_queued_ms:.0f}/{s.client_queued_ms:.0f}" for s in slow)
    name = f"{label}web page time while {rows:,} rows send"
    own = max(load.own_ms for load in loads)
    out = [
        figure(f"{name}: p50", [_pct(every, 50)], "ms", None, note=summary),
        figure(f"{name}: p95", [_pct(every, 95)], "ms", 200.0),
        figure(f"{name}: max", [max(every)], "ms", 200.0,
               note=f"{len(slow)} over 200 ms (ms / server waiting for a CPU / client "
                    f"waiting): {queued or '-'}"),
        figure(f"{name}: max without the waits for a CPU", [own], "ms", 200.0,
               note="each load less its server's and client's run-queue time"),
    ]  # fmt: skip
    for kind in PAGE_KINDS:
        ms = [load.ms for load in loads if load.kind == kind]
        note = f"p50 {_pct(ms, 50):.0f}, p95 {_pct(ms, 95):.0f}, max {max(ms):.0f} ms"
        out.append(figure(f"... {kind} page ({len(ms)} loads): max", [max(ms)], "ms", None,
                          note=note))  # fmt: skip
    return out


def _run_delay(pid: int, tid: int | None = None) -> float:
    """Seconds a thread (the main thread of `pid` by default: the server's event loop) has
    spent ready to run but waiting for a CPU (Linux's schedstat; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/task/{tid or pid}/schedstat") as stat:
            return int(stat.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def _pct(values: list[float], percent: int) -> float:
    """The `percent`th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(percent / 100 * len(ordered)) - 1))]


def figures(
    quick: bool = False, *, pages_only: bool = False, compare_with: Path | None = None
) -> list[Figure]:
    CACHE.mkdir(exist_ok=True)
    out = [] if pages_only else upload_to_check(2_000 if quick else 10_000, 1 if quick else 3)
    rows = 5_000 if quick else 100_000
    if compare_with is None:
        return out + pages_while_sending(rows, Checkout("", ROOT))
    for code in (Checkout("before", compare_with.resolve()), Checkout("after", ROOT)):
        out += pages_while_sending(rows, code)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pages-only", action="store_true", help="only the pages under load")
    parser.add_argument(
        "--compare-with", type=Path, metavar="CHECKOUT", help="serve this checkout too, first"
    )
    args = parser.parse_args()
    print(table(figures(args.quick, pages_only=args.pages_only, compare_with=args.compare_with)))
