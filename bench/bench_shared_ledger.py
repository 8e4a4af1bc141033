"""The shared ledger's cost: `book` with the PostgreSQL ledger, as a ratio to the SQLite one.

Issue 13's target, on the 2-core machine class: a 5,000-row sheet, 50 ms latency, 64 in
flight (bench_fanout's efficiency run), with the ledger in PostgreSQL: achieved rate / the
rate with the SQLite ledger in the same run >= 0.90. Runs alternate SQLite and PostgreSQL,
each a fresh child process against a reset sandbox in its own process, each PostgreSQL run
on a fresh database of a throwaway cluster (tests/support/postgres.py: initdb and pg_ctl,
as the tests start it, with synchronous_commit on as in production).

Usage: python -m bench.bench_shared_ledger [--quick]
"""

from __future__ import annotations

import statistics

from bench.bench_fanout import IN_FLIGHT, LATENCY, NO_LIMIT, book_once, book_sheet, sandbox_process
from bench.common import Figure, figure, run_alone
from tests.support.postgres import Cluster


def figures(quick: bool) -> list[Figure]:
    rows, runs = (1_000, 2) if quick else (5_000, 5)
    sheet = book_sheet(rows)
    sqlite: list[dict[str, float]] = []
    postgres: list[dict[str, float]] = []
    cluster = Cluster.start()
    try:
        with sandbox_process(latency=LATENCY) as sandbox:
            for _ in range(runs):
                sqlite.append(book_once(sandbox, sheet, rate=NO_LIMIT, concurrency=IN_FLIGHT))
                postgres.append(book_once(sandbox, sheet, rate=NO_LIMIT, concurrency=IN_FLIGHT,
                                          state_url=cluster.fresh_database()))  # fmt: skip
    finally:
        cluster.stop()
    for result in sqlite + postgres:
        assert result["outcomes"] == {"created": rows}, result["outcomes"]
    base = statistics.median(r["achieved"] for r in sqlite)
    where = f"{rows} rows, {LATENCY * 1000:.0f} ms latency, {IN_FLIGHT} in flight"
    return [
        figure("PostgreSQL ledger / SQLite ledger: achieved rate",
               [r["achieved"] / base for r in postgres], "", 0.90, higher_is_better=True,
               note=f"{where}; runs alternate, each on a fresh database"),
        figure("achieved rate, SQLite ledger", [r["achieved"] for r in sqlite], "req/s", None),
        figure("achieved rate, PostgreSQL ledger", [r["achieved"] for r in postgres], "req/s",
               None),
        figure("time in the ledger while sending, SQLite",
               [r["ledger_seconds"] for r in sqlite], "s", None,
               note="group commits + triage reads, wall"),
        figure("time in the ledger while sending, PostgreSQL",
               [r["ledger_seconds"] for r in postgres], "s", None),
        figure("client CPU per request, PostgreSQL ledger",
               [1000 * r["send_cpu"] / r["requests"] for r in postgres], "ms", None),
    ]  # fmt: skip


def main() -> None:
    run_alone(figures, __doc__)


if __name__ == "__main__":
    main()
