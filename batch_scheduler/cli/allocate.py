"""`allocate`: pair claimants with free slots, write the allocation, and (--book) book it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from batch_scheduler.cli.console import print_allocation
from batch_scheduler.cli.options import options_text
from batch_scheduler.cli.session import Session, now


@click.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--out", "out_path", type=click.Path(path_type=Path), required=True,
              help="The plan workbook to write (.xlsx).")  # fmt: skip
@click.option("--slots", "slots_path", type=click.Path(path_type=Path),
              help="The slots in their own file (INPUT: the claimants).")  # fmt: skip
@click.option("--claimants-sheet", help="The claimants' sheet [Claimants; with --slots: first].")
@click.option("--slots-sheet", help="The slots' sheet [Slots; with --slots: first].")
@click.option("--strategy", type=click.Choice(["first-fit", "interpreter-first"]),
              default="first-fit", show_default=True,
              help="Who is served first (see README).")  # fmt: skip
@click.option("--book", "book_now", is_flag=True, help="Book the plan straight away.")
@click.option("--results", "results_path", type=click.Path(path_type=Path),
              help="With --book: the results workbook [PLAN-results.xlsx].")  # fmt: skip
@click.option("--include-host-links", is_flag=True,
              help="With --book: also write host links (they grant host rights).")  # fmt: skip
@click.option("--summary-json", type=click.Path(path_type=Path),
              help="Also write the plan's (and the booking's) summary as JSON.")  # fmt: skip
@click.option("--timezone", help="Time zone of the times in the sheets [Europe/London].")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="A TOML config file.")  # fmt: skip
@click.option("--base-url", help="The API's base URL (or BATCH_SCHEDULER_BASE_URL).")
@click.option("--rate", type=float, help="At most this many requests per second [10].")
@click.option("--concurrency", type=int, help="At most this many requests in flight [8].")
@click.option("--timeout", type=float, help="Seconds to wait for one answer [30].")
@click.option("--max-retries", type=int, help="Retries per row after the first try [6].")
@click.option("--state-dir", type=click.Path(path_type=Path),
              help="Where the ledger lives (or BATCH_SCHEDULER_STATE_DIR).")  # fmt: skip
@click.option("-q", "--quiet", is_flag=True, help="Print only errors, and where the results are.")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Logs on stderr: timestamps, debug detail (never personal data).",
)
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              help="json: stderr is JSON lines, for log collectors.")  # fmt: skip
def allocate(**opts: Any) -> None:
    """Pair claimants with free slots, explain who could not be placed, and (--book) book it.

    INPUT is a workbook with a Claimants sheet and a Slots sheet, or (with --slots) the
    claimants alone. The plan is the same for the same input. Exit 0 when everyone was
    placed (and booked), 1 when some were not, 2 when a sheet cannot be used.
    """
    from batch_scheduler.allocate import AllocateRequest, Strategy
    from batch_scheduler.allocate import allocate as allocate_plan

    session = Session("allocate", opts)
    settings = session.settings(need_api=bool(opts["book_now"]))
    request = AllocateRequest(
        opts["input_path"], opts["out_path"], slots_path=opts.get("slots_path"),
        claimants_sheet=opts.get("claimants_sheet"), slots_sheet=opts.get("slots_sheet"),
        strategy=Strategy(opts["strategy"]), book=bool(opts["book_now"]),
        results_path=opts.get("results_path"), options_text=options_text(opts),
        include_host_links=bool(opts.get("include_host_links")),
        summary_json=opts.get("summary_json"),
    )  # fmt: skip
    at = now()
    report = session.guard(lambda: allocate_plan(
        request, settings, now=at, progress=session.progress(), handle_signals=True
    ))  # fmt: skip
    print_allocation(report, session.voice)
    sys.exit(report.exit_code)
