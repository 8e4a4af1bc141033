"""The options several commands share (input, sending), as stacked click decorators."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def _options(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(func: F) -> F:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


input_options = _options(
    click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path)),
    click.option("--sheet", help="The sheet to read in an Excel file (default: the first)."),
    click.option("--timezone", help="Time zone of the times in the sheet [Europe/London]."),
    click.option(
        "--config", "config_path", type=click.Path(path_type=Path), help="A TOML config file."
    ),
    click.option("-q", "--quiet", is_flag=True,
                 help="Print only errors, and where the results are."),
    click.option("-v", "--verbose", is_flag=True,
                 help="Logs on stderr: timestamps, debug detail (never personal data)."),
    click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
                 help="json: stderr is JSON lines, for log collectors."),
)  # fmt: skip

send_options = _options(
    click.option("--out", "out_path", type=click.Path(path_type=Path), required=True,
                 help="The results workbook to write (.xlsx; .csv: Results sheet only)."),
    click.option("--dry-run", is_flag=True, help="Read, validate and plan; send nothing."),
    click.option("--summary-json", type=click.Path(path_type=Path),
                 help="Also write the run's summary as JSON here."),
    click.option("--base-url", help="The API's base URL (or BATCH_SCHEDULER_BASE_URL)."),
    click.option("--rate", type=float, help="At most this many requests per second [10]."),
    click.option("--concurrency", type=int, help="At most this many requests in flight [8]."),
    click.option("--timeout", type=float, help="Seconds to wait for one answer [30]."),
    click.option("--max-retries", type=int, help="Retries per row after the first try [6]."),
    click.option("--state-dir", type=click.Path(path_type=Path),
                 help="Where the ledger lives (or BATCH_SCHEDULER_STATE_DIR)."),
)  # fmt: skip


def options_text(opts: Mapping[str, Any]) -> str:
    """The options as given, for the Summary sheet (never secrets: none is an option)."""
    shown = []
    for key, value in sorted(opts.items()):
        if value in (None, False) or key == "input_path":
            continue
        flag = "--" + key.replace("_path", "").replace("_", "-")
        shown.append(flag if value is True else f"{flag} {value}")
    return " ".join(shown)
