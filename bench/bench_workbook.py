"""Time write_results on a big results workbook (target: 100,000 rows in <= 12 s, <= 400 MiB).

    .venv/bin/python -m bench.bench_workbook [--quick]

Each run is a fresh subprocess (so peak RSS is that run's own): it builds a RawTable with
20 input columns shaped like the reader's output, plus result lines and ~1% problem cells
(filled, with a note), then times write_results alone. Figures: median wall seconds with
min..max, CPU seconds (the steadier figure on a shared machine), peak RSS of the process
(including the ~200 MiB the test data itself takes), the same workbook in Welsh (its words
looked up once per workbook: the ratio to English is the cost of the language), and the .csv
output for comparison. With BENCH_BASELINE=DIR, another checkout's English runs take turns
with these and after / before is reported run by run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    Figure,
    baseline,
    figure,
    peak_rss_mib,
    ratios,
    run_child,
    table,
)

MODULE = "bench.bench_workbook"
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


def child(rows: int, out: Path, language: str) -> None:
    from batch_scheduler import i18n
    from batch_scheduler.output import write_results

    table, lines, issues = build(rows)
    i18n.translations_for(language)  # the catalogue is read once per process, before timing
    before = peak_rss_mib()
    start, cpu = time.perf_counter(), time.process_time()
    with i18n.use_language(language):
        write_results(out, table=table, lines=lines, issues=issues, summary={"command": "bench"})
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = peak_rss_mib()
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


# one run of each, taking turns: (label, file suffix, language, with the baseline's code)
KINDS = (
    ("xlsx", ".xlsx", "en", False),
    ("cy", ".xlsx", "cy", False),
    ("before", ".xlsx", "en", True),
)


def measure(rows: int, runs: int, baseline: Path | None) -> dict[str, list[dict[str, Any]]]:
    """`runs` fresh subprocesses of each kind (the baseline's only when given), taking turns so
    a busy spell of the shared machine hits them alike; each run's figures by kind."""
    kinds = [k for k in KINDS if baseline or not k[3]]
    results: dict[str, list[dict[str, Any]]] = {label: [] for label, *_ in kinds}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            for label, suffix, language, before in kinds:
                args = ["--rows", str(rows), "--child", str(Path(tmp) / f"{label}{i}{suffix}")]
                if before:  # the baseline may predate --lang: English is its only language
                    results[label].append(run_child(MODULE, args, baseline or ROOT))
                else:
                    results[label].append(run_child(MODULE, [*args, "--lang", language]))
        args = ["--rows", str(rows), "--child", str(Path(tmp) / "results.csv")]
        results["csv"] = [run_child(MODULE, args)]
    return results


def figures(quick: bool) -> list[Figure]:
    """Seconds and peak MiB against the targets, CPU seconds, the same workbook in Welsh and
    the CSV output reported; with BENCH_BASELINE, after / before run by run."""
    rows, runs = (10_000, 1) if quick else (100_000, 3)
    done = measure(rows, runs, baseline())
    xlsx, welsh = done["xlsx"], done["cy"]
    note = f"{rows:,} rows x 20 cols, file {xlsx[0]['file_mib']:.1f} MiB"
    target_s, target_mib = (12.0, 400.0) if not quick else (None, None)
    goal = 1.05 if not quick else None
    out = [
        figure("results xlsx: seconds", [r["seconds"] for r in xlsx], "s", target_s, note=note),
        figure("results xlsx: CPU seconds", [r["cpu_seconds"] for r in xlsx], "s", None),
        figure("results xlsx: peak RSS", [r["peak_mib"] for r in xlsx], "MiB", target_mib,
               note=f"test data alone {statistics.median(r['data_mib'] for r in xlsx):.0f} MiB"),
        figure("results xlsx in Welsh: seconds", [r["seconds"] for r in welsh], "s", None),
        figure("results xlsx in Welsh / English (CPU)", ratios(welsh, xlsx, "cpu_seconds"), "",
               goal, note="words looked up once per workbook, never per cell"),
        figure("results csv: seconds", [r["seconds"] for r in done["csv"]], "s", None,
               note="1 run"),
    ]  # fmt: skip
    if "before" in done:
        before = done["before"]
        wall = statistics.median(r["seconds"] for r in before)
        out += [
            figure("results xlsx: after / before (wall)", ratios(xlsx, before, "seconds"), "",
                   goal, note=f"before {wall:.2f} s"),
            figure("results xlsx: after / before (CPU)", ratios(xlsx, before, "cpu_seconds"),
                   "", goal),
        ]  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 rows, one run")
    parser.add_argument("--rows", type=int, default=100_000, help=argparse.SUPPRESS)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--lang", default="en", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.rows, args.child, args.lang)
    else:
        print(table(figures(args.quick)))


if __name__ == "__main__":
    main()
