"""What the CLI prints: the report for people, JSON for scripts, and errors.

stdout carries the report (or, with `validate --json`, one JSON object, errors included);
stderr carries errors, warnings, progress and logs. `--quiet` leaves errors and the one line
saying where the results are. Log records (`--verbose`, `--log-format json`) are logs.py's.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from batch_scheduler.allocate import AllocationReport
from batch_scheduler.errors import BatchSchedulerError, StrictModeError
from batch_scheduler.i18n import gettext as _
from batch_scheduler.models import Issue
from batch_scheduler.report import RunReport

FIRST_ISSUES = 20
log = logging.getLogger("batch_scheduler.cli")


@dataclass(frozen=True)
class Voice:
    """How this invocation talks."""

    quiet: bool = False  # errors and where the results are, nothing else
    log_json: bool = False  # stderr is JSON lines: errors go there as log records


# ---------------------------------------------------------------- a run's report


def print_report(report: RunReport, voice: Voice) -> None:
    """The counts, the issues, the sending figures and where the results are."""
    if not voice.quiet:
        _print_counts(report)
    for saved in report.unsaved:
        what = "summary" if saved.asked.suffix.lower() == ".json" else "results"
        error(f"Could not write {saved.asked} ({saved.problem}). The {what} are in "
              f"{saved.path} instead.", voice)  # fmt: skip
    if report.refused:
        error(f"{report.refused} Fix the invalid rows{_listed_in(report)} and run again.", voice)
    if report.out_path:
        click.echo(f"Wrote {report.out_path}")
    if report.summary.get("stopped_because") == "ledger-unavailable":
        error(_("The ledger database stopped answering: partial results written; rows not "
                "sent are marked so. Run again once it is back (nothing is sent twice)."),
              voice)  # fmt: skip
    elif report.unreachable:
        error("The API stopped answering: partial results written; rows not sent are marked "
              "so. Run again later to finish (nothing is sent twice).", voice)  # fmt: skip
    elif report.interrupted:
        error("Interrupted: partial results written; run again to finish.", voice)


def _print_counts(report: RunReport) -> None:
    click.echo(f"{report.command}: {report.rows} rows")
    for outcome, count in sorted(report.outcomes.items(), key=lambda kv: -kv[1]):
        click.echo(f"  {outcome:<18} {count:>7}")
    codes = report.issue_codes
    if codes:
        click.echo("Issues by code:")
        for code, count in sorted(codes.items(), key=lambda kv: (-kv[1], kv[0])):
            click.echo(f"  {code:<24} {count:>7}")
        print_issues(report.issues, _all_issues_at(report))
    summary = report.summary
    if summary.get("requests_sent"):
        retried = sum(1 for line in report.lines if line.attempts > 1)
        click.echo(
            f"Sent {summary['requests_sent']} requests in {summary['duration_seconds']} s "
            f"({summary['achieved_rate_per_second']}/s); {retried} rows needed retries."
        )
    elif "requests_sent" in summary and not summary.get("dry_run"):
        click.echo("Sent no requests: no row needed one.")
    if summary.get("dry_run"):
        click.echo("Dry run: nothing was sent.")
    step = _next_step(report)
    if step:
        click.echo(step)


def _next_step(report: RunReport) -> str | None:
    """What to do about the rows that did not end well, when the run itself finished."""
    if report.command == "validate" or report.refused or report.interrupted or report.unreachable:
        return None
    bad = {name for name, count in report.outcomes.items() if count}
    fix = sorted(bad & {"invalid", "rejected", "conflict"})
    later = sorted(bad & {"failed", "not_attempted"})
    if not (fix or later):
        return None
    steps = []
    if fix:
        steps.append(f"fix the rows marked {' or '.join(fix)} (their error says how)")
    if later:
        steps.append(f"{'and ' if fix else ''}for the rows marked {' or '.join(later)}, try "
                     "again later")  # fmt: skip
    return (
        f"Next: {', '.join(steps)}; then run the same command again. Rows already done are "
        "not sent twice."
    )


def print_issues(issues: Sequence[object], where_all: str) -> None:
    """The first issues; when there are more, where all of them are."""
    shown = issues[:FIRST_ISSUES]
    if len(issues) > len(shown):
        click.echo(f"First {len(shown)} of {len(issues)} issues ({where_all}):")
    else:
        click.echo("Issues:")
    for issue in shown:
        click.echo(f"  {_issue_line(issue)}")


def _issue_line(item: object) -> str:
    if isinstance(item, tuple):  # (sheet, issue), from allocate
        sheet, issue = item
        return f"[{issue.severity}] {sheet}: {issue}"
    assert isinstance(item, Issue)
    return f"[{item.severity}] {item}"


def _all_issues_at(report: RunReport) -> str:
    total = len(report.issues)
    path = report.out_path
    if path is None:
        return f"run with --report REPORT.xlsx, or --json, to see all {total}"
    if path.suffix.lower() == ".csv":
        return f"each row's problems are in the error column of {path}"
    return f"all {total} are in the Issues sheet of {path}"


def _listed_in(report: RunReport) -> str:
    path = report.out_path
    if path is None:
        return " (validate --report REPORT.xlsx lists them)"
    if path.suffix.lower() == ".csv":
        return f" (see the error column of {path})"
    return f" (listed in the Issues sheet of {path})"


def print_allocation(report: AllocationReport, voice: Voice) -> None:
    """The plan's counts and issues, where the plan is, then the booking's report."""
    summary = report.summary
    if not voice.quiet:
        click.echo(
            f"allocate ({report.plan.strategy}): {summary['claimants']} claimants, "
            f"{summary['usable_slots']} usable slots, {summary['places']} places"
        )
        for key, value in summary.items():
            if key == "placed" or key.startswith("unplaced"):
                click.echo(f"  {key:<32} {value:>7}")
        if report.issues:
            where = f"all {len(report.issues)} are in the Issues sheet of {report.out_path}"
            print_issues(report.issues, where)
    click.echo(f"Wrote the plan to {report.out_path}")
    saved = report.summary_saved
    if saved is not None and saved.problem:
        error(f"Could not write {saved.asked} ({saved.problem}). The summary is in "
              f"{saved.path} instead.", voice)  # fmt: skip
    if report.booking is not None:
        print_report(report.booking, voice)


# ---------------------------------------------------------------- JSON for scripts


def report_json(report: RunReport) -> dict[str, Any]:
    """`validate --json`: the counts, every issue, the summary; `error` when it failed."""
    refused = None
    if report.refused:
        refused = {"code": StrictModeError.code, "message": report.refused, "file": None}
    return {
        "command": report.command,
        "rows": report.rows,
        "outcomes": report.outcomes,
        "issue_codes": report.issue_codes,
        "issues": [
            {
                "row": i.row,
                "column": i.column,
                "header": i.header,
                "code": i.code,
                "severity": str(i.severity),
                "message": i.message,
            }
            for i in report.issues
        ],
        "summary": report.summary,
        "report_file": None if report.out_path is None else str(report.out_path),
        "error": refused,
        "exit_code": report.exit_code,
    }


def error_json(command: str, exc: BatchSchedulerError, file: Path | None) -> dict[str, Any]:
    """The JSON a script gets when the run stopped (exit 2, 3, 4...): same keys, an error."""
    return {
        "command": command,
        "error": {"code": exc.code, "message": exc.message, "file": str(file) if file else None},
        "exit_code": exc.exit_code,
    }


def dumps(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, default=str, ensure_ascii=False)


# ---------------------------------------------------------------- errors


def error(message: str, voice: Voice, **fields: Any) -> None:
    """An error for people (stderr, "Error: ..."), or a log record when stderr is JSON."""
    if voice.log_json:
        log.error(message, extra=fields)
    else:
        click.echo(f"Error: {message}", err=True)
