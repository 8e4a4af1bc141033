"""The commands that run the pipeline on one sheet: validate, book, cancel."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from batch_scheduler.cli.console import dumps, print_report, report_json
from batch_scheduler.cli.options import input_options, options_text, send_options
from batch_scheduler.cli.session import Session
from batch_scheduler.models import SheetKind
from batch_scheduler.pipeline import RunRequest


@click.command()
@input_options
@click.option("--kind", type=click.Choice([SheetKind.BOOK.value, SheetKind.CANCEL.value]),
              default=SheetKind.BOOK.value, help="Which kind of sheet this is.")  # fmt: skip
@click.option("--report", "out_path", type=click.Path(path_type=Path),
              help="Write a report workbook (Results, Summary, Issues) here.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the summary and issues as JSON.")
def validate(as_json: bool, kind: str, **opts: Any) -> None:
    """Check a sheet and explain every problem; send nothing.

    Exit 0 when every row is valid, 1 when some are not, 2 when the file cannot be used.
    With --json, stdout is one JSON object, also when the file cannot be used.
    """
    session = Session("validate", opts, as_json=as_json)
    settings = session.settings(need_api=False)
    request = RunRequest(
        "validate", opts["input_path"], opts.get("out_path"), sheet=opts.get("sheet"),
        kind=kind, options_text=options_text(opts),
    )  # fmt: skip
    report = session.run(request, settings)
    if as_json:
        click.echo(dumps(report_json(report)))
    else:
        print_report(report, session.voice)
    sys.exit(report.exit_code)


@click.command()
@input_options
@send_options
@click.option("--strict", is_flag=True, help="Send nothing if any row is invalid.")
@click.option("--include-host-links", is_flag=True,
              help="Also write each meeting's host link (it grants host rights).")  # fmt: skip
@click.option("--check-existing", type=click.Choice(["auto", "always", "never"]),
              help="Ask the account which references it already holds before booking: "
              "auto (when the ledger has not seen some), always, or never (unsafe if the "
              "API accepts a repeated reference) [auto].")  # fmt: skip
def book(**opts: Any) -> None:
    """Book one appointment per valid row and write a results workbook."""
    _send_command("book", opts)


@click.command()
@input_options
@send_options
@click.option("--reason", help="Cancellation reason for rows that give none.")
def cancel(**opts: Any) -> None:
    """Cancel the appointments listed (by appointment_id or reference)."""
    _send_command("cancel", opts)


def _send_command(command: str, opts: dict[str, Any]) -> None:
    session = Session(command, opts)
    settings = session.settings(need_api=not opts.get("dry_run"))
    request = RunRequest(
        command,
        opts["input_path"],
        opts["out_path"],
        sheet=opts.get("sheet"),
        dry_run=bool(opts.get("dry_run")),
        strict=bool(opts.get("strict")),
        summary_json=opts.get("summary_json"),
        include_host_links=bool(opts.get("include_host_links")),
        reason=opts.get("reason"),
        options_text=options_text(opts),
    )
    report = session.run(request, settings, progress=session.progress(), handle_signals=True)
    print_report(report, session.voice)
    sys.exit(report.exit_code)
