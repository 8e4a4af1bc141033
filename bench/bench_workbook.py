"""Time write_results on a big results workbook (target: 100,000 rows in <= 12 s, <= 400 MiB).

    .venv/bin/python bench/bench_workbook.py [--rows 100000] [--runs 3]

Each run is a fresh subprocess (so peak RSS is that run's own): it builds a RawTable with
20 input columns shaped like the reader's output, plus result lines and ~1% problem cells,
then times write_results alone. Printed: median wall and CPU seconds and peak RSS, with
min..max (CPU seconds are the steadier figure on a shared machine).
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
    from batch_scheduler.workbook import write_results

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.rows, args.child)
        return
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            out = Path(tmp) / f"results{i}.xlsx"
            command = [sys.executable, "-m", "bench.bench_workbook", "--rows", str(args.rows),
                       "--child", str(out)]  # fmt: skip
            done = subprocess.run(command, check=True, capture_output=True, text=True)
            runs.append(json.loads(done.stdout))
    for key, unit in (
        ("seconds", "s"),
        ("cpu_seconds", "s"),
        ("peak_mib", "MiB"),
        ("data_mib", "MiB"),
    ):
        values = [r[key] for r in runs]
        print(
            f"{key:11} median {statistics.median(values):7.1f} {unit}"
            f"  (min {min(values):.1f}, max {max(values):.1f}, runs {len(values)})"
        )
    print(f"rows {args.rows}, file {runs[0]['file_mib']:.1f} MiB")


if __name__ == "__main__":
    main()
