"""`demo`: the sandbox in-process, a fresh sample sheet booked, the results written."""

from __future__ import annotations

from pathlib import Path

import click

from batch_scheduler.cli.console import Voice, print_report
from batch_scheduler.cli.progress import CliProgress
from batch_scheduler.cli.session import guard, now, write_or_fail
from batch_scheduler.i18n import _, ngettext
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
        wrote = _("Wrote {files} to {folder}. Try:")
        click.echo(wrote.format(files=", ".join(paths), folder=samples_dir))
        click.echo(f"  batch-scheduler validate {paths['book.xlsx']} "
                   f"--config {paths[CONFIG_NAME]}")  # fmt: skip
        return
    setup_logging(quiet=True, secrets=[DEMO_FAULTS.static_token])  # the sandbox's token
    if web:
        from batch_scheduler.web.commands import run_web_demo

        run_web_demo(out_dir, port)
        return

    intro = _(
        "Demo: books the sample sheet {sheet} (a few rows have deliberate\n"
        "mistakes, listed in sample_data/README.md) on a local stand-in for the SQOD API that\n"
        "is slow and fails now and then on purpose, so retries show.\n"
    )
    click.echo(intro.format(sheet=demo_input(out_dir)))
    report, path = guard(lambda: run_demo(out_dir, progress=CliProgress(), now=now()))
    print_report(report, Voice())
    invalid = report.outcomes.get("invalid", 0)
    if invalid:
        mistakes = ngettext(
            "\nThe {invalid} invalid row is one of the sample's deliberate mistakes: nothing "
            "was sent for it;\nit is explained above and marked in the workbook.",
            "\nThe {invalid} invalid rows are the sample's deliberate mistakes: nothing was "
            "sent for them;\neach is explained above and marked in the workbook.",
            invalid,
        )
        click.echo(mistakes.format(invalid=invalid))
    click.echo(_("\nThe results workbook is at {path}").format(path=path.resolve()))
