"""The check of the account before the first create (issue 13): what it costs.

- Before a run of new references, the account holding 10,000 appointments, zero latency:
  the check's time and its share of the whole `book` run (a fresh ledger: the whole list).
- The full check (a fresh ledger: every page) and the incremental one (the same ledger a
  run later: only what was created since) over accounts of 10,000 and 100,000
  appointments, at zero and 50 ms latency.

Each `book` is a fresh child process (bench_fanout's), against the sandbox in its own
process, seeded through its /_sandbox/seed helper; the figures are the check's own, from the
run's Summary (existing_check_seconds, existing_check_pages). The list is read one page
after another at list_per_page = 100, with no rate limit (--rate is high): at the default
10 requests a second, 1,000 pages would take 100 s whatever the latency.

Usage: python -m bench.bench_existing [--quick]
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from bench.bench_fanout import CACHE, NO_LIMIT, Sandbox, book_once, sandbox_process
from bench.common import Figure, figure, run_alone
from bench.make_big_sheet import write_big_sheet


def sheet(rows: int, prefix: str) -> Path:
    """A valid sheet of `rows` new references PREFIX-000000..., for today."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"existing-{prefix}-{rows}-{date.today().isoformat()}.csv"
    if not path.exists():
        write_big_sheet(path, rows=rows, today=date.today(), fmt="csv", prefix=prefix)
    return path


def seeded(sandbox: Sandbox, appointments: int) -> None:
    sandbox.reset()
    sandbox.seed(appointments, "OLD")


def check_of(result: dict[str, Any]) -> tuple[float, int, str]:
    summary = result["summary"]
    seconds, pages = summary["existing_check_seconds"], summary["existing_check_pages"]
    return float(seconds), int(pages), str(summary["existing_check"])


def share_figures(quick: bool) -> list[Figure]:
    """The check before 1,000 new rows, on an account of 10,000."""
    runs = 1 if quick else 3
    rows = 1_000
    checks, shares = [], []
    with sandbox_process(latency=0) as sandbox:
        for _ in range(runs):
            seeded(sandbox, 10_000)
            result = book_once(sandbox, sheet(rows, "NEW"), rate=NO_LIMIT, concurrency=8,
                               reset=False)  # fmt: skip
            seconds, pages, how = check_of(result)
            assert (pages, how) == (100, "full"), (pages, how)  # 100 a page
            checks.append(seconds)
            shares.append(100 * seconds / result["summary"]["duration_seconds"])
    note = f"{rows} new rows, account of 10,000, zero latency, a fresh ledger (100 pages)"
    return [
        figure("check before the first create: time", checks, "s", None, note=note),
        figure("... its share of the whole book run", shares, "%", None,
               note="read + validate + check + send + workbook"),
    ]  # fmt: skip


def sweep_figures(quick: bool) -> list[Figure]:
    """Full, then incremental, for each account size and latency."""
    sizes = (10_000,) if quick else (10_000, 100_000)
    out: list[Figure] = []
    for latency in (0.0, 0.05):
        with sandbox_process(latency=latency) as sandbox:
            for size in sizes:
                seeded(sandbox, size)
                with tempfile.TemporaryDirectory() as state:
                    first, later = (
                        book_once(sandbox, sheet(10, week), rate=NO_LIMIT, concurrency=8,
                                  reset=False, state_dir=Path(state))
                        for week in ("WEEK1", "WEEK2")
                    )  # fmt: skip
                full, incremental = check_of(first), check_of(later)
                assert (full[2], incremental[2]) == ("full", "incremental"), (full, incremental)
                where = f"{size:,} appointments, {latency * 1000:.0f} ms latency"
                out += [
                    figure(f"full check, {where}", [full[0]], "s", None,
                           note=f"{full[1]} pages"),
                    figure(f"incremental check, {where}", [incremental[0]], "s", None,
                           note=f"{incremental[1]} pages: 10 created since"),
                ]  # fmt: skip
    return out


def figures(quick: bool) -> list[Figure]:
    return share_figures(quick) + sweep_figures(quick)


def main() -> None:
    run_alone(figures, __doc__)


if __name__ == "__main__":
    main()
