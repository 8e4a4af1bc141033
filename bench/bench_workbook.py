"""Time write_results on a big results workbook (target: 100,000 rows in <= 12 s, <= 400 MiB).

    .venv/bin/python -m bench.bench_workbook [--quick]

Each run is a fresh subprocess (so peak RSS is that run's own): it builds a RawTable with
20 input columns shaped like the reader's output, plus result lines and ~1% problem cells
(filled, with a note), then times write_results alone. Figures: median wall seconds with
min..max, CPU seconds (the steadier figure on a shared machine), peak RSS of the process
(including the ~200 MiB the test data itself takes), and the .csv output for comparison.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import Figure, figure, table

FLAGS = ("Recording", "Breakout", "Agent cam", "Claimant cam", "Blur", "Mic", "Share", "Chat")


def build(rows: int) -> tuple[Any, list[Any], list[Any]]:
    """A RawTable, its ResultLines and Issues, like a big weekly `book` run."""
    import pandas as pd

    from batch_scheduler.models import Issue, Outcome, RawTable, ResultLine, Severity, SourceInfo

    base = datetime(2030, 3, 4, 9, 0)
    headers = (
        "Reference", "Appointment", "Duration (mins)", "Claimant name", "Date of birth", "Phone",
        "Email", "Interpreter needed?", "Interpreter language", "Department", *FLAGS, "Bandwidth",
        "Notes",
    )  # fmt: skip
    data: dict[str, list[object]] = {
        "Reference": [f"CASE-{j:06d}" for j in range(rows)],
        "Appointment": [base + timedelta(minutes=15 * j) for j in range(rows)],
        "Duration (mins)": [30] * rows,
        "Claimant name": [f"Claimant Number {j}" for j in range(rows)],
        "Date of birth": [datetime(1970, 1, 1) + timedelta(days=j % 15000) for j in range(rows)],
        "Phone": [f"07700 9{j % 100000:05d}" for j in range(rows)],
        "Email": [f"claimant{j}@example.org" for j in range(rows)],
        "Interpreter needed?": ["No"] * rows,
        "Interpreter language": [None] * rows,
        "Department": ["1"] * rows,
        **{flag: ["No"] * rows for flag in FLAGS},
        "Bandwidth": ["medium"] * rows,
        "Notes": [f"=note {j}" if j % 50 == 0 else None for j in range(rows)],
    }
    frame = pd.DataFrame(data, dtype=object)
    letters = tuple(chr(ord("A") + i) for i in range(len(headers)))
    table = RawTable(
        frame=frame,
        keys=headers,
        headers=headers,
        letters=letters,
        source_rows=tuple(range(2, rows + 2)),
        fields={},
        source=SourceInfo("in.xlsx", "in.xlsx", "0" * 64, 1, "xlsx"),
        kind="book",
    )
    lines = [
        ResultLine(
            Outcome.CREATED,
            reference=f"CASE-{j:06d}",
            appointment_id=f"8f14e45f-ceea-4e7a-9c1b-{j:012d}",
            status="scheduled",
            meeting_url=f"https://meet.example.org/r/{j:08x}",
            appointment_at_utc=(base + timedelta(minutes=15 * j)).replace(tzinfo=UTC),
            attempts=1,
        )
        for j in range(rows)
    ]
    issues = [
        Issue("invalid-phone", Severity.WARNING, "Check this phone number.", row=j + 2, column="F")
        for j in range(0, rows, 100)
    ]
    return table, lines, issues


def child(rows: int, out: Path) -> None:
    from batch_scheduler.output import write_results

    table, lines, issues = build(rows)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start, cpu = time.perf_counter(), time.process_time()
    write_results(out, table=table, lines=lines, issues=issues, summary={"command": "bench"})
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = out.stat().st_size / 2**20
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu,
                "peak_mib": peak,
                "data_mib": before,
                "file_mib": size,
            }
        )
    )


def measure(rows: int, runs: int, suffix: str = ".xlsx") -> list[dict[str, float]]:
    """`runs` fresh subprocesses writing `rows` rows; each run's figures."""
    root = Path(__file__).resolve().parent.parent
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            out = Path(tmp) / f"results{i}{suffix}"
            command = [sys.executable, "-m", "bench.bench_workbook", "--rows", str(rows),
                       "--child", str(out)]  # fmt: skip
            done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=root)
            results.append(json.loads(done.stdout))
    return results


def figures(quick: bool) -> list[Figure]:
    """Seconds and peak MiB against the targets, CPU seconds and the CSV output reported."""
    rows, runs = (10_000, 1) if quick else (100_000, 3)
    xlsx = measure(rows, runs)
    csv_runs = measure(rows, 1, ".csv")
    note = f"{rows:,} rows x 20 cols, file {xlsx[0]['file_mib']:.1f} MiB"
    target_s, target_mib = (12.0, 400.0) if not quick else (None, None)
    return [
        figure("results xlsx: seconds", [r["seconds"] for r in xlsx], "s", target_s, note=note),
        figure("results xlsx: CPU seconds", [r["cpu_seconds"] for r in xlsx], "s", None),
        figure("results xlsx: peak RSS", [r["peak_mib"] for r in xlsx], "MiB", target_mib,
               note=f"test data alone {statistics.median(r['data_mib'] for r in xlsx):.0f} MiB"),
        figure("results csv: seconds", [r["seconds"] for r in csv_runs], "s", None,
               note="1 run"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 rows, one run")
    parser.add_argument("--rows", type=int, default=100_000, help=argparse.SUPPRESS)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.rows, args.child)
    else:
        print(table(figures(args.quick)))


if __name__ == "__main__":
    main()
