"""`make bench`: run every benchmark in bench/ and print one table, each figure beside its target.

python -m bench            # the published figures (several runs each, a few minutes)
python -m bench --quick    # fewer rows and runs: checks the benches work, not the figures
python -m bench intake     # only the benches whose module name contains "intake"
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from bench.common import Figure, table

BENCHES = (
    "bench.bench_intake",
    "bench.bench_workbook",
    "bench.bench_allocate",
    "bench.bench_fanout",
    "bench.bench_shared_ledger",
    "bench.bench_existing",
    "bench.bench_end_to_end",
    "bench.bench_web",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("only", nargs="*", help="run only benches whose name contains this")
    parser.add_argument("--quick", action="store_true", help="fewer rows and runs")
    args = parser.parse_args()
    chosen = [m for m in BENCHES if not args.only or any(o in m for o in args.only)]
    results: list[Figure] = []
    for name in chosen:
        started = time.perf_counter()
        print(f"== {name} ...", file=sys.stderr, flush=True)
        results.extend(importlib.import_module(name).figures(quick=args.quick))
        print(f"   done in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    print(table(results))
    return 0 if all(f.met is not False for f in results) else 1


if __name__ == "__main__":
    sys.exit(main())
