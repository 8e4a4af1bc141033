"""Command-line interface: a thin translator from options to library calls and exit codes.

Library errors (errors.py) become a one-line message on stderr and their exit code; the
library never prints, this module does.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from batch_scheduler import __version__
from batch_scheduler.atomicfile import write_bytes_atomic
from batch_scheduler.config import Settings, load_settings
from batch_scheduler.console import (
    Voice,
    dumps,
    error,
    error_json,
    print_allocation,
    print_report,
    report_json,
)
from batch_scheduler.errors import BatchSchedulerError, ConfigError
from batch_scheduler.logs import add_secret, setup_logging
from batch_scheduler.outputs import JSON_SUFFIXES, Output, check_outputs
from batch_scheduler.pipeline import RunReport, RunRequest, run
from batch_scheduler.progress import CliProgress
from batch_scheduler.sandbox.command import sandbox_command
from batch_scheduler.web.commands import serve_command, users_command

F = TypeVar("F", bound=Callable[..., Any])
ENV_NOW = "BATCH_SCHEDULER_NOW"  # pins "now" (ISO time) for reproducible tests and replays


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="batch-scheduler")
def cli() -> None:
    """Book and cancel SQOD video appointments in bulk from spreadsheets, exactly once."""


@cli.command()
@input_options
@click.option("--kind", type=click.Choice(["book", "cancel"]), default="book",
              help="Which kind of sheet this is.")  # fmt: skip
@click.option("--report", "out_path", type=click.Path(path_type=Path),
              help="Write a report workbook (Results, Summary, Issues) here.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the summary and issues as JSON.")
def validate(as_json: bool, kind: str, **opts: Any) -> None:
    """Check a sheet and explain every problem; send nothing.

    Exit 0 when every row is valid, 1 when some are not, 2 when the file cannot be used.
    With --json, stdout is one JSON object, also when the file cannot be used.
    """
    session = _Session("validate", opts, as_json=as_json)
    settings = session.settings(need_api=False)
    request = RunRequest(
        "validate", opts["input_path"], opts.get("out_path"), sheet=opts.get("sheet"),
        kind=kind, options_text=_options_text(opts),
    )  # fmt: skip
    report = session.run(request, settings)
    if as_json:
        click.echo(dumps(report_json(report)))
    else:
        print_report(report, session.voice)
    sys.exit(report.exit_code)


@cli.command()
@input_options
@send_options
@click.option("--strict", is_flag=True, help="Send nothing if any row is invalid.")
@click.option("--include-host-links", is_flag=True,
              help="Also write each meeting's host link (it grants host rights).")  # fmt: skip
def book(**opts: Any) -> None:
    """Book one appointment per valid row and write a results workbook."""
    _send_command("book", opts)


@cli.command()
@input_options
@send_options
@click.option("--reason", help="Cancellation reason for rows that give none.")
def cancel(**opts: Any) -> None:
    """Cancel the appointments listed (by appointment_id or reference)."""
    _send_command("cancel", opts)


@cli.command()
@click.argument("out", metavar="OUT.xlsx", type=click.Path(path_type=Path))
@click.option("--kind", type=click.Choice(["book", "cancel", "allocate"]), default="book",
              show_default=True, help="The sheet to make: appointments to book, appointments "
              "to cancel, or claimants and slots to allocate.")  # fmt: skip
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="A TOML config file: its departments become a dropdown.")  # fmt: skip
@click.option("--force", is_flag=True, help="Replace OUT.xlsx if it already exists.")
def template(out: Path, kind: str, config_path: Path | None, force: bool) -> None:
    """Write an Excel template for ops to fill in (with an Instructions sheet).

    Exit 2 when OUT.xlsx already exists (give --force to replace it).
    """
    from batch_scheduler.templates import write_template

    if out.exists() and not force:
        click.echo(f"Error: {out} already exists. Give --force to replace it, or choose "
                   "another file name.", err=True)  # fmt: skip
        sys.exit(2)
    settings = _settings({"config_path": config_path}, need_api=False)
    _guard(lambda: write_template(out, kind, settings.intake))
    click.echo(f"Wrote the {kind} template to {out}")


@cli.command()
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
    from batch_scheduler.demo import demo_input, run_demo, write_fresh_samples
    from batch_scheduler.samples import CONFIG_NAME

    if samples_dir is not None:
        paths = _write_or_fail(lambda: write_fresh_samples(samples_dir, _now()), samples_dir)
        click.echo(f"Wrote {', '.join(paths)} to {samples_dir}. Try:")
        click.echo(f"  batch-scheduler validate {paths['book.xlsx']} "
                   f"--config {paths[CONFIG_NAME]}")  # fmt: skip
        return
    if web:
        from batch_scheduler.web.commands import run_web_demo

        setup_logging(quiet=True)
        run_web_demo(out_dir, port)
        return

    setup_logging(quiet=True)
    click.echo(
        f"Demo: books the sample sheet {demo_input(out_dir)} (a few rows have deliberate\n"
        "mistakes, listed in sample_data/README.md) on a local stand-in for the SQOD API that\n"
        "is slow and fails now and then on purpose, so retries show.\n"
    )
    report, path = _guard(lambda: run_demo(out_dir, progress=CliProgress(), now=_now()))
    print_report(report, Voice())
    invalid = report.outcomes.get("invalid", 0)
    if invalid:
        click.echo(
            f"\nThe {invalid} invalid rows are the sample's deliberate mistakes: nothing was "
            "sent for them;\neach is explained above and marked in the workbook."
        )
    click.echo(f"\nThe results workbook is at {path.resolve()}")


@cli.command()
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
    from batch_scheduler.allocate import Strategy
    from batch_scheduler.allocation import AllocateRequest
    from batch_scheduler.allocation import allocate as allocate_plan

    session = _Session("allocate", opts)
    settings = session.settings(need_api=bool(opts["book_now"]))
    request = AllocateRequest(
        opts["input_path"], opts["out_path"], slots_path=opts.get("slots_path"),
        claimants_sheet=opts.get("claimants_sheet"), slots_sheet=opts.get("slots_sheet"),
        strategy=Strategy(opts["strategy"]), book=bool(opts["book_now"]),
        results_path=opts.get("results_path"), options_text=_options_text(opts),
        include_host_links=bool(opts.get("include_host_links")),
        summary_json=opts.get("summary_json"),
    )  # fmt: skip
    now = _now()
    report = session.guard(lambda: allocate_plan(
        request, settings, now=now, progress=session.progress(), handle_signals=True
    ))  # fmt: skip
    print_allocation(report, session.voice)
    sys.exit(report.exit_code)


cli.add_command(sandbox_command, name="sandbox")
cli.add_command(serve_command, name="serve")
cli.add_command(users_command, name="users")


# ---------------------------------------------------------------- helpers


def _send_command(command: str, opts: dict[str, Any]) -> None:
    session = _Session(command, opts)
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
        options_text=_options_text(opts),
    )
    report = session.run(request, settings, progress=session.progress(), handle_signals=True)
    print_report(report, session.voice)
    sys.exit(report.exit_code)


class _Session:
    """One command's way of talking (voice, logging) and of turning a run-stopping error
    into its message, its JSON (for --json and --summary-json) and its exit code."""

    def __init__(self, command: str, opts: Mapping[str, Any], *, as_json: bool = False) -> None:
        self.command = command
        self.opts = opts
        self.as_json = as_json
        log_json = opts.get("log_format") == "json"
        self.voice = Voice(quiet=bool(opts.get("quiet")), log_json=log_json)
        setup_logging(verbose=bool(opts.get("verbose")), quiet=self.voice.quiet,
                      fmt=opts.get("log_format") or "text")  # fmt: skip

    def settings(self, *, need_api: bool) -> Settings:
        settings = self.guard(lambda: _load_settings(self.opts, need_api=need_api))
        for secret in (settings.api.token, settings.api.client_secret) if settings.api else ():
            if secret:
                add_secret(secret.reveal())
        return settings

    def progress(self) -> CliProgress:
        """A bar only for people at a terminal; logs get progress records instead."""
        people = not (self.voice.quiet or self.voice.log_json or self.opts.get("verbose"))
        return CliProgress(bar=None if people else False)

    def run(self, request: RunRequest, settings: Settings, **kwargs: Any) -> RunReport:
        now = _now()
        return self.guard(lambda: run(request, settings, now=now, **kwargs))

    def guard(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except BatchSchedulerError as exc:
            self._stopped(exc)
            sys.exit(exc.exit_code)

    def _stopped(self, exc: BatchSchedulerError) -> None:
        """Say why the run stopped: on stderr, and as JSON wherever JSON was asked for."""
        file = self.opts.get("input_path")
        document = error_json(self.command, exc, file)
        if self.as_json:
            click.echo(dumps(document))
        error(exc.message, self.voice, code=exc.code, exit_code=exc.exit_code)
        summary = self.opts.get("summary_json")
        if summary is not None:  # a scheduler must not read last week's summary as this run's
            with contextlib.suppress(BatchSchedulerError, OSError):
                check_outputs([Output("--summary-json", summary, JSON_SUFFIXES)])
                write_bytes_atomic(summary, (dumps(document) + "\n").encode("utf-8"))


def _settings(opts: Mapping[str, Any], *, need_api: bool) -> Settings:
    """Settings and logging for a command that has no _Session (template)."""
    settings = _guard(lambda: _load_settings(opts, need_api=need_api))
    secrets = [s.reveal() for s in (settings.api.token, settings.api.client_secret) if s] if (
        settings.api
    ) else []  # fmt: skip
    setup_logging(
        verbose=bool(opts.get("verbose")),
        quiet=bool(opts.get("quiet")),
        fmt=opts.get("log_format") or "text",
        secrets=secrets,
    )
    return settings


def _load_settings(opts: Mapping[str, Any], *, need_api: bool) -> Settings:
    overrides = {
        "api": {"base_url": opts.get("base_url"), "timeout": opts.get("timeout")},
        "send": {
            "rate": opts.get("rate"),
            "concurrency": opts.get("concurrency"),
            "max_retries": opts.get("max_retries"),
        },
        "intake": {"timezone": opts.get("timezone")},
        "root": {"state_dir": opts.get("state_dir")},
    }

    def load(need: bool) -> Settings:
        return load_settings(
            config_path=opts.get("config_path"), env=os.environ, overrides=overrides, need_api=need
        )

    settings = load(need_api)
    if not need_api:
        # a dry run still plans against the ledger when it knows which API it is about
        with contextlib.suppress(ConfigError):
            settings = load(True)
    return settings


def _now() -> datetime:
    pinned = os.environ.get(ENV_NOW)
    if not pinned:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(pinned)
    except ValueError:
        raise click.UsageError(f"{ENV_NOW} must be an ISO date-time, not {pinned!r}.") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


T = TypeVar("T")


def _guard(action: Callable[[], T]) -> T:
    """Run a library call; turn a run-stopping error into a message and its exit code."""
    try:
        return action()
    except BatchSchedulerError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(exc.exit_code)


def _write_or_fail(action: Callable[[], T], where: Path) -> T:
    """Run a file-writing call; a folder we cannot write to is a one-line error, exit 2."""
    try:
        return action()
    except OSError as exc:
        click.echo(f"Error: cannot write to {where}: {exc.strerror or exc}", err=True)
        sys.exit(2)


def _options_text(opts: Mapping[str, Any]) -> str:
    shown = []
    for key, value in sorted(opts.items()):
        if value in (None, False) or key == "input_path":
            continue
        flag = "--" + key.replace("_path", "").replace("_", "-")
        shown.append(flag if value is True else f"{flag} {value}")
    return " ".join(shown)


def main() -> None:
    cli()
