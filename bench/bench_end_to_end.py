"""End to end: `book` of a 100,000-row xlsx against the sandbox at zero latency.

Issue 5: total time, and the share spent outside HTTP: reading, validating and planning
before the first request, the ledger's commits while sending (wall time inside them), and
writing the results workbook after the last answer. The sandbox runs in its own process;
`book` runs in a fresh child process through `pipeline.run` (see bench_fanout.book_once).
Usage: python -m bench.bench_end_to_end [--quick]
"""

from __future__ import annotations

import argparse
from typing import Any

from bench.bench_fanout import IN_FLIGHT, NO_LIMIT, book_once, book_sheet, sandbox_process
from bench.common import Figure, figure, table


def _outside_http(run: dict[str, Any]) -> float:
    outside = run["before_send_seconds"] + run["after_send_seconds"] + run["ledger_seconds"]
    return float(outside / run["total_seconds"])


def figures(quick: bool) -> list[Figure]:
    rows, runs = (5_000, 1) if quick else (100_000, 3)
    sheet = book_sheet(rows)
    with sandbox_process(latency=0) as sandbox:
        results = [
            book_once(sandbox, sheet, rate=NO_LIMIT, concurrency=IN_FLIGHT) for _ in range(runs)
        ]
    for run in results:
        assert run["outcomes"] == {"created": rows}, run["outcomes"]
    where = f"{rows} rows, zero latency, {IN_FLIGHT} in flight"
    return [
        figure("end to end: total", [r["total_seconds"] for r in results], "s", None, note=where),
        figure("end to end: share outside HTTP", [100 * _outside_http(r) for r in results], "%",
               None, note="read + validate + plan + ledger + workbook"),
        figure("end to end: before the first request", [r["before_send_seconds"] for r in results],
               "s", None, note="read + validate"),
        figure("end to end: ledger commits", [r["ledger_seconds"] for r in results], "s", None,
               note="wall time inside ledger writes while sending"),
        figure("end to end: after the last answer", [r["after_send_seconds"] for r in results],
               "s", None, note="results workbook + summary"),
        figure("end to end: achieved rate", [r["achieved"] for r in results], "req/s", None,
               note="bounded by the sandbox process at zero latency"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(table(figures(args.quick)))


if __name__ == "__main__":
    main()
