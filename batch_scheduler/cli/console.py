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
from batch_scheduler.columns.words import (
    outcome_word,
    severity_words,
    sheet_titles,
    summary_label,
    summary_labels,
)
from batch_scheduler.errors import BatchSchedulerError, StrictModeError
from batch_scheduler.i18n import _, ngettext
from batch_scheduler.models import Issue, Severity
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
        if saved.asked.suffix.lower() == ".json":
            text = _("Could not write {asked} ({problem}). The summary is in {path} instead.")
        else:
            text = _("Could not write {asked} ({problem}). The results are in {path} instead.")
        error(text.format(asked=saved.asked, problem=saved.problem, path=saved.path), voice)
    if report.refused:
        error(_fix_invalid_rows(report), voice)
    if report.out_path:
        click.echo(_("Wrote {path}").format(path=report.out_path))
    if report.summary.get("stopped_because") == "ledger-unavailable":
        error(_("The ledger database stopped answering: partial results written; rows not "
                "sent are marked so. Run again once it is back (nothing is sent twice)."),
              voice)  # fmt: skip
    elif report.unreachable:
        error(_("The API stopped answering: partial results written; rows not sent are marked "
                "so. Run again later to finish (nothing is sent twice)."), voice)  # fmt: skip
    elif report.interrupted:
        error(_("Interrupted: partial results written; run again to finish."), voice)


def _print_counts(report: RunReport) -> None:
    rows = ngettext("{command}: {rows} row", "{command}: {rows} rows", report.rows)
    click.echo(rows.format(command=report.command, rows=report.rows))
    counts = sorted(report.outcomes.items(), key=lambda kv: -kv[1])
    words = [outcome_word(name) for name, _count in counts]
    width = max([18, *(len(word) + 1 for word in words)])
    for word, (_name, count) in zip(words, counts, strict=True):
        click.echo(f"  {word:<{width}} {count:>7}")
    codes = report.issue_codes
    if codes:
        click.echo(_("Issues by code:"))
        for code, count in sorted(codes.items(), key=lambda kv: (-kv[1], kv[0])):
            click.echo(f"  {code:<24} {count:>7}")
        print_issues(report.issues, _all_issues_at(report))
    summary = report.summary
    if summary.get("requests_sent"):
        retried = sum(1 for line in report.lines if line.attempts > 1)
        sent = _("Sent {requests} requests in {seconds} s ({rate}/s); {retried} rows needed "
                 "retries.")  # fmt: skip
        click.echo(sent.format(
            requests=summary["requests_sent"], seconds=summary["duration_seconds"],
            rate=summary["achieved_rate_per_second"], retried=retried,
        ))  # fmt: skip
    elif "requests_sent" in summary and not summary.get("dry_run"):
        click.echo(_("Sent no requests: no row needed one."))
    if summary.get("dry_run"):
        click.echo(_("Dry run: nothing was sent."))
    step = _next_step(report)
    if step:
        click.echo(step)


def _next_step(report: RunReport) -> str | None:
    """What to do about the rows that did not end well, when the run itself finished."""
    if report.command == "validate" or report.refused or report.interrupted or report.unreachable:
        return None
    bad = {name for name, count in report.outcomes.items() if count}
    fix = either(sorted(bad & {"invalid", "rejected", "conflict"}))
    later = either(sorted(bad & {"failed", "not_attempted"}))
    if fix and later:
        step = _("Next: fix the rows marked {fix} (their error says how), and for the rows "
                 "marked {later}, try again later; then run the same command again. Rows "
                 "already done are not sent twice.")  # fmt: skip
    elif fix:
        step = _("Next: fix the rows marked {fix} (their error says how); then run the same "
                 "command again. Rows already done are not sent twice.")  # fmt: skip
    elif later:
        step = _("Next: for the rows marked {later}, try again later; then run the same "
                 "command again. Rows already done are not sent twice.")  # fmt: skip
    else:
        return None
    return step.format(fix=fix, later=later)


def either(names: Sequence[str]) -> str:
    """Outcomes as the workbook shows them, joined with "or": "invalid or rejected"."""
    words = [outcome_word(name) for name in names]
    joined = words[0] if words else ""
    for word in words[1:]:
        joined = _("{one} or {other}").format(one=joined, other=word)
    return joined


def print_issues(issues: Sequence[object], where_all: str) -> None:
    """The first issues; when there are more, where all of them are."""
    shown = issues[:FIRST_ISSUES]
    if len(issues) > len(shown):
        first = _("First {shown} of {total} issues ({where}):")
        click.echo(first.format(shown=len(shown), total=len(issues), where=where_all))
    else:
        click.echo(_("Issues:"))
    severities = severity_words()
    for issue in shown:
        click.echo(f"  {_issue_line(issue, severities)}")


def _issue_line(item: object, severities: Mapping[Severity, str]) -> str:
    if isinstance(item, tuple):  # (sheet, issue), from allocate
        sheet, issue = item
        return f"[{severities[issue.severity]}] {sheet_titles().get(sheet, sheet)}: {issue}"
    assert isinstance(item, Issue)
    return f"[{severities[item.severity]}] {item}"


def _all_issues_at(report: RunReport) -> str:
    total = len(report.issues)
    path = report.out_path
    if path is None:
        return _("run with --report REPORT.xlsx, or --json, to see all {total}").format(total=total)
    if path.suffix.lower() == ".csv":
        return _("each row's problems are in the error column of {path}").format(path=path)
    return all_in_issues_sheet(total, path)


def all_in_issues_sheet(total: int, path: Path) -> str:
    return _("all {total} are in the {sheet} sheet of {path}").format(
        total=total, sheet=sheet_titles()["Issues"], path=path
    )


def _fix_invalid_rows(report: RunReport) -> str:
    """--strict refused the run: why, and where the rows to fix are listed."""
    path = report.out_path
    if path is None:
        text = _("{refused} Fix the invalid rows (validate --report REPORT.xlsx lists them) "
                 "and run again.")  # fmt: skip
    elif path.suffix.lower() == ".csv":
        text = _("{refused} Fix the invalid rows (see the error column of {path}) and run "
                 "again.")  # fmt: skip
    else:
        text = _("{refused} Fix the invalid rows (listed in the {sheet} sheet of {path}) and "
                 "run again.")  # fmt: skip
    return text.format(refused=report.refused, path=path, sheet=sheet_titles()["Issues"])


def print_allocation(report: AllocationReport, voice: Voice) -> None:
    """The plan's counts and issues, where the plan is, then the booking's report."""
    summary = report.summary
    if not voice.quiet:
        counts = _("allocate ({strategy}): {claimants} claimants, {usable} usable slots, "
                   "{places} places")  # fmt: skip
        click.echo(counts.format(
            strategy=report.plan.strategy, claimants=summary["claimants"],
            usable=summary["usable_slots"], places=summary["places"],
        ))  # fmt: skip
        labels = summary_labels()
        for key, value in summary.items():
            if key == "placed" or key.startswith("unplaced"):
                click.echo(f"  {summary_label(key, labels):<32} {value:>7}")
        if report.issues:
            print_issues(report.issues, all_in_issues_sheet(len(report.issues), report.out_path))
    click.echo(_("Wrote the plan to {path}").format(path=report.out_path))
    saved = report.summary_saved
    if saved is not None and saved.problem:
        text = _("Could not write {asked} ({problem}). The summary is in {path} instead.")
        error(text.format(asked=saved.asked, problem=saved.problem, path=saved.path), voice)
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
        say_error(message)


def say_error(message: str) -> None:
    """ "Error: ..." on stderr, in the words Click uses for its own errors."""
    click.echo(_("Error: {message}").format(message=message), err=True)
