"""`demo`: the sandbox in-process, a fresh sample sheet booked, the results written."""

from __future__ import annotations

from pathlib import Path

import click

from batch_scheduler.cli.console import Voice, print_report
from batch_scheduler.cli.progress import CliProgress
from batch_scheduler.cli.session import guard, now, write_or_fail
from batch_scheduler.logs import setup_logging


@click.command()
@click.option("--out-dir", type=click.Path(path_type=Path), default=Path("out"), show_default=True,
              help="Where to write the sample sheet, the results and the summary.")  # fmt: skip
@click.option("--write-samples", "samples_dir", type=click.Path(path_type=Path),
              help="Only write fresh sample sheets (dated from today) and their config "
              "into this folder, to try the other commands on.")  # fmt: skip
@click.option(
    "--web", is_flag=True, help="Serve the web page on the sandbox instead, with a demo account."
)
@click.option(
    "--port", default=8080, show_default=True, type=int, help="With --web: the page's port."
)
def demo(out_dir: Path, samples_dir: Path | None, web: bool, port: int) -> None:
    """Start the sandbox in-process, book a fresh sample sheet, write out/results.xlsx."""
    from batch_scheduler.demo import (
        CONFIG_NAME,
        DEMO_FAULTS,
        demo_input,
        run_demo,
        write_fresh_samples,
    )

    if samples_dir is not None:
        paths = write_or_fail(lambda: write_fresh_samples(samples_dir, now()), samples_dir)
        click.echo(f"Wrote {', '.join(paths)} to {samples_dir}. Try:")
        click.echo(f"  batch-scheduler validate {paths['book.xlsx']} "
                   f"--config {paths[CONFIG_NAME]}")  # fmt: skip
        return
    setup_logging(quiet=True, secrets=[DEMO_FAULTS.static_token])  # the sandbox's token
    if web:
        from batch_scheduler.web.commands import run_web_demo

        run_web_demo(out_dir, port)
        return

    click.echo(
        f"Demo: books the sample sheet {demo_input(out_dir)} (a few rows have deliberate\n"
        "mistakes, listed in sample_data/README.md) on a local stand-in for the SQOD API that\n"
        "is slow and fails now and then on purpose, so retries show.\n"
    )
    report, path = guard(lambda: run_demo(out_dir, progress=CliProgress(), now=now()))
    print_report(report, Voice())
    invalid = report.outcomes.get("invalid", 0)
    if invalid:
        click.echo(
            f"\nThe {invalid} invalid rows are the sample's deliberate mistakes: nothing was "
            "sent for them;\neach is explained above and marked in the workbook."
        )
    click.echo(f"\nThe results workbook is at {path.resolve()}")
