"""Read + validate a generated 100,000-row x 20-column sheet, xlsx and csv.

Targets (issue: intake / speed): xlsx <= 5 s, csv <= 3 s, peak RSS <= 600 MiB on the 2-core
machine class. Each run is a fresh subprocess; the figure is the median with the spread.
Usage: python bench/bench_intake.py [--rows N] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

CACHE = Path(__file__).parent / "results"
TODAY = date(2026, 11, 25)
TARGETS = {"xlsx": 5.0, "csv": 3.0}


def child(path: Path) -> None:
    from batch_scheduler.config import IntakeSettings
    from batch_scheduler.reader import read_table
    from batch_scheduler.schema import validate_book

    settings = IntakeSettings(departments={"Benefits": 1, "Housing": 2, "Employment support": 3})
    now = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC)
    start, cpu = time.perf_counter(), time.process_time()
    table = read_table(path, kind="book", settings=settings)
    read_s = time.perf_counter() - start
    result = validate_book(table, settings, now=now)
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "seconds": seconds,
                "read_seconds": read_s,
                "cpu_seconds": time.process_time() - cpu,
                "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "valid": len(result.requests),
            }
        )
    )


def sheet(rows: int, fmt: str) -> Path:
    from bench.make_big_sheet import write_big_sheet

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"big-{rows}.{fmt}"
    if not path.exists():
        write_big_sheet(path, rows=rows, today=TODAY, fmt=fmt)  # type: ignore[arg-type]
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    root = Path(__file__).resolve().parent.parent
    for fmt in ("xlsx", "csv"):
        path = sheet(args.rows, fmt)
        runs = []
        for _ in range(args.runs):
            command = [sys.executable, "-m", "bench.bench_intake", "--child", str(path)]
            done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=root)
            runs.append(json.loads(done.stdout))
        seconds = [r["seconds"] for r in runs]
        reads = [r["read_seconds"] for r in runs]
        peak = max(r["peak_mib"] for r in runs)
        print(
            f"intake {fmt:4} {args.rows} rows: median {statistics.median(seconds):.2f} s "
            f"(min {min(seconds):.2f}, max {max(seconds):.2f}; reading "
            f"{statistics.median(reads):.2f} s), peak {peak:.0f} MiB, "
            f"valid {runs[0]['valid']}; target <= {TARGETS[fmt]:.0f} s, <= 600 MiB"
        )


if __name__ == "__main__":
    main()
