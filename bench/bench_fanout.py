"""Fan-out: how close `book` gets to what the server allows, at what client CPU, and pacing.

Issue 5 targets, on the 2-core machine class, the sandbox in its own process (so the
client's CPU is measured alone, as in the issue's figures):
- efficiency: `book` of a 5,000-row sheet, 50 ms latency, 64 in flight, no rate limit:
  achieved req/s / (64 / 0.05 s) >= 0.90; client CPU per request <= 0.6 ms (process CPU
  while sending / requests); speed-up over the vendor's sequential loop >= 60x.
- rate 20 against a 20/s limit: achieved >= 19/s, no one-second window above 22, no 429;
  rate 50 against the same limit: every row booked, achieved >= 18/s once adapted.

Every `book` run is a fresh child process driving `pipeline.run` (the CLI's code path).
Usage: python -m bench.bench_fanout [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.common import Figure, figure, table

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).parent / "results"
TOKEN = "sandbox-token"
LATENCY = 0.05
IN_FLIGHT = 64
DEPARTMENTS = {"Benefits": 1, "Housing": 2, "Employment support": 3}
NO_LIMIT = 1_000_000.0  # --rate high enough never to pace


# ---------------------------------------------------------------- the sandbox, in its own process


class Sandbox:
    """`batch-scheduler sandbox` in a child process, driven through its /_sandbox helpers."""

    def __init__(self, base_url: str, process: subprocess.Popen[str]) -> None:
        self.base_url = base_url
        self.process = process
        self._http = httpx.Client(base_url=base_url, timeout=60)

    def configure(self, **knobs: Any) -> None:
        self._http.post("/_sandbox/config", json=knobs).raise_for_status()

    def reset(self) -> None:
        self._http.post("/_sandbox/reset").raise_for_status()

    def seed(self, count: int, prefix: str) -> None:
        """Store `count` appointments at once, behind the API's back (a big account)."""
        answer = self._http.post("/_sandbox/seed", json={"count": count, "prefix": prefix})
        answer.raise_for_status()

    def stats(self) -> dict[str, Any]:
        return dict(self._http.get("/_sandbox/stats").json())

    def requests(self) -> list[dict[str, Any]]:
        return list(self._http.get("/_sandbox/requests").json())

    def close(self) -> None:
        self._http.close()


@contextlib.contextmanager
def sandbox_process(**knobs: Any) -> Iterator[Sandbox]:
    """Start the sandbox CLI on a free port; knobs as its --options (latency=0.05, ...)."""
    command = [sys.executable, "-m", "batch_scheduler", "sandbox", "--port", "0"]
    for name, value in knobs.items():
        command += [f"--{name.replace('_', '-')}", str(value)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"(http://\S+)", line)
        if not found:
            raise RuntimeError(f"the sandbox did not start: {line!r}")
        sandbox = Sandbox(found.group(1), process)
        try:
            yield sandbox
        finally:
            sandbox.close()
    finally:
        process.terminate()
        process.wait(10)


# ---------------------------------------------------------------- sheets and one `book` run


def book_sheet(rows: int) -> Path:
    """A valid book sheet of `rows` rows for today (the sandbox refuses past slots)."""
    from bench.make_big_sheet import write_big_sheet

    CACHE.mkdir(exist_ok=True)
    today = date.today()
    path = CACHE / f"book-{rows}-{today.isoformat()}.xlsx"
    if not path.exists():
        write_big_sheet(path, rows=rows, today=today, fmt="xlsx")
    return path


def book_once(
    sandbox: Sandbox,
    sheet: Path,
    *,
    rate: float,
    concurrency: int,
    state_url: str | None = None,
    reset: bool = True,
    state_dir: Path | None = None,
) -> dict[str, Any]:
    """One `book` in a fresh child process (against a reset sandbox unless `reset` is
    false); its measurements. The ledger: `state_url` (PostgreSQL) if given, else the SQLite
    file in `state_dir` (a new temporary one unless given)."""
    if reset:
        sandbox.reset()
    with tempfile.TemporaryDirectory() as temporary:
        command = [
            sys.executable, "-m", "bench.bench_fanout", "--child", str(sheet),
            "--base-url", sandbox.base_url, "--state-dir", str(state_dir or temporary),
            "--rate", str(rate), "--concurrency", str(concurrency),
        ]  # fmt: skip
        if state_url:
            command += ["--state-url", state_url]
        done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return dict(json.loads(done.stdout.splitlines()[-1]))


class _Timing:
    """A pipeline Progress that notes wall and CPU time when sending starts and ends."""

    def __init__(self) -> None:
        self.marks: dict[str, tuple[float, float]] = {}

    def start(self, total: int, description: str) -> None:
        self.marks["send_start"] = (time.perf_counter(), time.process_time())

    def advance(self, result: object) -> None:
        pass

    def finish(self) -> None:
        self.marks["send_end"] = (time.perf_counter(), time.process_time())


def child(args: argparse.Namespace) -> None:
    """Run `book` in this process and print one JSON line of timings (see book_once)."""
    from batch_scheduler.config import (
        ApiSettings,
        IntakeSettings,
        Secret,
        SendSettings,
        Settings,
        check_state_url,
    )
    from batch_scheduler.ledger import GroupCommit
    from batch_scheduler.ledger.sql import SqlLedger
    from batch_scheduler.pipeline import RunRequest, run

    ledger_seconds = _timed([(GroupCommit, "flush"), (SqlLedger, "get_many")])
    settings = Settings(
        api=ApiSettings(
            base_url=args.base_url, token=Secret(TOKEN), max_connections=args.concurrency
        ),
        send=SendSettings(rate=args.rate, concurrency=args.concurrency),
        intake=IntakeSettings(departments=DEPARTMENTS),
        state_dir=Path(args.state_dir),
        state_url=check_state_url(args.state_url) if args.state_url else None,
    )
    out = Path(args.state_dir) / "results.xlsx"
    timing = _Timing()
    start = (time.perf_counter(), time.process_time())
    report = run(
        RunRequest("book", args.child, out_path=out), settings, progress=timing,
        now=datetime.now(UTC),
    )  # fmt: skip
    end = (time.perf_counter(), time.process_time())
    send_start, send_end = timing.marks["send_start"], timing.marks["send_end"]
    print(
        json.dumps(
            {
                "rows": report.rows,
                "outcomes": report.outcomes,
                "requests": report.summary["requests_sent"],
                "achieved": report.summary["achieved_rate_per_second"],
                "total_seconds": end[0] - start[0],
                "before_send_seconds": send_start[0] - start[0],
                "send_seconds": send_end[0] - send_start[0],
                "after_send_seconds": end[0] - send_end[0],
                "send_cpu": send_end[1] - send_start[1],
                "total_cpu": end[1] - start[1],
                "ledger_seconds": ledger_seconds[0],
                "summary": report.summary,
            }
        )
    )


def _timed(methods: list[tuple[Any, str]]) -> list[float]:
    """Accumulate the wall time spent in these methods (a bench-only wrapper): the ledger's
    commits while sending (GroupCommit.flush) and its reads when planning (get_many)."""
    spent = [0.0]
    for owner, name in methods:
        method = getattr(owner, name)

        def timed(*args: Any, _method: Any = method, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return _method(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - began

        setattr(owner, name, timed)
    return spent


# ---------------------------------------------------------------- the wire alone, for reference


def raw_child(args: argparse.Namespace) -> None:
    """POST the sheet's bodies with bare aiohttp, 64 in flight, no ledger, no checks: what
    the wire and this sandbox allow on this machine. Prints rate and CPU per request."""
    import asyncio

    import aiohttp

    from batch_scheduler.api.client import form_content

    bodies = [form_content(body) for body in _bodies(args.raw)]
    url = args.base_url + "/api/v1/appointments"
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
    }

    async def post_all() -> tuple[float, float]:
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            slots = asyncio.Semaphore(args.concurrency)

            async def post(body: bytes) -> None:
                async with slots, session.post(url, data=body, headers=headers) as answer:
                    await answer.read()
                    assert answer.status == 201, answer.status

            began = (time.perf_counter(), time.process_time())
            await asyncio.gather(*(post(body) for body in bodies))
            return time.perf_counter() - began[0], time.process_time() - began[1]

    wall, cpu = asyncio.run(post_all())
    print(json.dumps({"achieved": len(bodies) / wall, "cpu_per_request": cpu / len(bodies)}))


def raw_once(sandbox: Sandbox, sheet: Path) -> dict[str, Any]:
    sandbox.reset()
    command = [
        sys.executable, "-m", "bench.bench_fanout", "--raw", str(sheet),
        "--base-url", sandbox.base_url, "--concurrency", str(IN_FLIGHT),
    ]  # fmt: skip
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return dict(json.loads(done.stdout.splitlines()[-1]))


def _bodies(sheet: Path) -> list[dict[str, str]]:
    """The form bodies `book` would send for the sheet, in input order."""
    from batch_scheduler.api.resource import request_body
    from batch_scheduler.config import BodyFormat, IntakeSettings
    from batch_scheduler.intake import read_table
    from batch_scheduler.validate import validate_book

    intake = IntakeSettings(departments=DEPARTMENTS)
    table = read_table(sheet, kind="book", settings=intake)
    validation = validate_book(table, intake, now=datetime.now(UTC))
    return [request_body(r, BodyFormat.FORM) for _, r in sorted(validation.requests.items())]


# ---------------------------------------------------------------- the vendor's sequential loop


def sequential_rate(sandbox: Sandbox, sheet: Path, rows: int) -> float:
    """The vendor example: one httpx.Client, POST each row in turn; requests per second."""
    bodies = _bodies(sheet)
    sandbox.reset()
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=30) as http:
        started = time.perf_counter()
        for body in bodies[:rows]:
            http.post("/api/v1/appointments", data=body).raise_for_status()
        return rows / (time.perf_counter() - started)


# ---------------------------------------------------------------- the figures


def fanout_figures(quick: bool) -> list[Figure]:
    rows, runs, seq_rows = (1_000, 2, 40) if quick else (5_000, 5, 200)
    sheet = book_sheet(rows)
    ceiling = IN_FLIGHT / LATENCY
    with sandbox_process(latency=LATENCY) as sandbox:
        results = [
            book_once(sandbox, sheet, rate=NO_LIMIT, concurrency=IN_FLIGHT) for _ in range(runs)
        ]
        sequential = [sequential_rate(sandbox, sheet, seq_rows) for _ in range(min(runs, 3))]
        raw = [raw_once(sandbox, sheet) for _ in range(min(runs, 3))]
    for result in results:
        assert result["outcomes"] == {"created": rows}, result["outcomes"]
    rates = [r["achieved"] for r in results]
    seq = sorted(sequential)[len(sequential) // 2]
    where = f"{rows} rows, {LATENCY * 1000:.0f} ms latency, {IN_FLIGHT} in flight"
    return [
        figure("fan-out efficiency", [r / ceiling for r in rates], "", 0.90,
               higher_is_better=True, note=f"{where}; ceiling {ceiling:.0f} req/s"),
        figure("fan-out achieved rate", rates, "req/s", None, note=where),
        figure("client CPU per request", [1000 * r["send_cpu"] / r["requests"] for r in results],
               "ms", 0.6, note="process CPU while sending / requests"),
        figure("client CPU per request, whole run",
               [1000 * r["total_cpu"] / r["requests"] for r in results], "ms", None,
               note="read + validate + send + workbook"),
        figure("reference: bare aiohttp, same rows and sandbox", [r["achieved"] for r in raw],
               "req/s", None, note="no ledger, no checks: what the wire and sandbox allow here"),
        figure("reference: bare aiohttp CPU per request",
               [1000 * r["cpu_per_request"] for r in raw], "ms", None),
        figure("book's rate / bare aiohttp's", [r / statistics.median(
            x["achieved"] for x in raw) for r in rates], "", None),
        figure("vendor sequential loop", sequential, "req/s", None,
               note=f"one httpx.Client, {seq_rows} rows in turn"),
        figure("speed-up over the sequential loop", [r / seq for r in rates], "x", 60,
               higher_is_better=True),
    ]  # fmt: skip


def _adapted_rate(log: list[dict[str, Any]]) -> float:
    """Creates per second over the last two thirds of the run (after adapting to 429s)."""
    times = sorted(e["at"] for e in log if e["method"] == "POST" and e["status"] == 201)
    later = times[len(times) // 3 :]
    if len(later) < 2 or later[-1] <= later[0]:
        return 0.0
    return (len(later) - 1) / (later[-1] - later[0])


def rate_figures(quick: bool) -> list[Figure]:
    rows, runs = (100, 1) if quick else (400, 3)
    sheet = book_sheet(rows)
    at_limit: list[dict[str, Any]] = []
    above: list[dict[str, Any]] = []
    with sandbox_process(latency=LATENCY, rate_limit=20) as sandbox:
        for _ in range(runs):
            result = book_once(sandbox, sheet, rate=20, concurrency=8)
            at_limit.append(result | {"stats": sandbox.stats()})
        for _ in range(runs):
            result = book_once(sandbox, sheet, rate=50, concurrency=8)
            above.append(result | {"stats": sandbox.stats(), "adapted": _adapted_rate(
                sandbox.requests())})  # fmt: skip
    booked = [r["outcomes"].get("created", 0) for r in above]
    return [
        figure("--rate 20 vs 20/s limit: achieved", [r["achieved"] for r in at_limit], "req/s",
               19, higher_is_better=True, note=f"{rows} rows"),
        figure("--rate 20: busiest one-second window",
               [r["stats"]["max_per_second"] for r in at_limit], "count", 22),
        figure("--rate 20: 429 answers",
               [r["stats"]["responses"].get("429", 0) for r in at_limit], "count", 0),
        figure("--rate 50 vs 20/s limit: rows booked", booked, "rows", rows,
               higher_is_better=True),
        figure("--rate 50: achieved once adapted", [r["adapted"] for r in above], "req/s", 18,
               higher_is_better=True, note="creates/s over the last 2/3 of the run"),
        figure("--rate 50: 429 answers absorbed",
               [r["stats"]["responses"].get("429", 0) for r in above], "count", None),
    ]  # fmt: skip


def figures(quick: bool) -> list[Figure]:
    return fanout_figures(quick) + rate_figures(quick)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=("fanout", "rate"))
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--raw", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--state-dir", help=argparse.SUPPRESS)
    parser.add_argument("--state-url", help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.raw:
        raw_child(args)
        return
    if args.only == "fanout":
        print(table(fanout_figures(args.quick)))
    elif args.only == "rate":
        print(table(rate_figures(args.quick)))
    else:
        print(table(figures(args.quick)))


if __name__ == "__main__":
    main()
