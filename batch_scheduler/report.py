"""What a run hands back, built from what the stages returned: one result line per input
row, the issues the sending found (422 field errors, references in use), the summary, and
the RunReport that carries them to the CLI or the web page (which print it and map it to an
exit code). Nothing here reads, sends or writes.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from batch_scheduler import __version__
from batch_scheduler.config import Settings
from batch_scheduler.errors import ApiUnreachable, StrictModeError
from batch_scheduler.i18n import _, ngettext
from batch_scheduler.issues import make_issue
from batch_scheduler.models import (
    AppointmentRequest,
    CancelRequest,
    Issue,
    Outcome,
    RawTable,
    ResultLine,
    RowResult,
    Severity,
)
from batch_scheduler.output import Saved
from batch_scheduler.send import SendStats, Stopped, conflict_code
from batch_scheduler.validate import BookValidation, CancelValidation, cell_of

Validation = BookValidation | CancelValidation


@dataclass(frozen=True)
class RunReport:
    """What happened, for the CLI to print and map to an exit code."""

    command: str
    rows: int
    outcomes: Mapping[str, int]
    issues: tuple[Issue, ...]
    out_path: Path | None  # where the results (or report) went: as asked, or the fallback
    summary: Mapping[str, object]
    interrupted: bool = False
    unreachable: bool = False  # the API stopped answering mid-run; partial results written
    lines: tuple[ResultLine, ...] = field(default=(), repr=False)
    source_rows: tuple[int, ...] = field(default=(), repr=False)  # lines[j] is this Excel row
    saved: tuple[Saved, ...] = ()  # every file written, and where it went
    refused: str | None = None  # why nothing was sent although some rows are valid (--strict)

    @property
    def exit_code(self) -> int:
        if self.refused:
            return StrictModeError.exit_code
        if self.unreachable:
            return ApiUnreachable.exit_code
        if self.interrupted:
            return 130
        good = sum(n for name, n in self.outcomes.items() if Outcome(name).is_success)
        # results that had to go to the fallback file are not where a scheduler looks
        return 0 if good == self.rows and not self.unsaved else 1

    @property
    def unsaved(self) -> tuple[Saved, ...]:
        """Outputs that could not be written where asked (they are in a fallback file)."""
        return tuple(saved for saved in self.saved if saved.problem)

    @property
    def issue_codes(self) -> dict[str, int]:
        return dict(Counter(issue.code for issue in self.issues))


def build_report(
    command: str,
    validation: Validation,
    results: Mapping[int, RowResult],
    *,
    issues: Sequence[Issue],
    summary: Mapping[str, object],
    stopped: Stopped,
    refused: str | None,
) -> RunReport:
    """The run's report before its files are written: every row's line and every issue,
    those the sending found (on the sheet's cells) beside the others of their row."""
    table = validation.table
    issues = sorted([*issues, *sending_issues(table, results)], key=lambda i: i.row or 0)
    lines = result_lines(table, validation, results, issues)
    return RunReport(
        command=command,
        rows=len(table),
        outcomes=dict(Counter(line.outcome.value for line in lines)),
        issues=tuple(issues),
        out_path=None,
        summary=summary,
        interrupted=stopped.interrupted,
        unreachable=stopped.unreachable,
        lines=lines,
        source_rows=table.source_rows,
        refused=refused,
    )


# ---------------------------------------------------------------- --strict


def strict_refusal(invalid: int, rows: int) -> str:
    """Why nothing was sent: some rows are invalid and --strict was given."""
    words = ngettext(
        "{invalid} of {rows} row is invalid and --strict was given: nothing was sent.",
        "{invalid} of {rows} rows are invalid and --strict was given: nothing was sent.",
        rows,
    )
    return words.format(invalid=invalid, rows=rows)


def held_by_strict() -> RowResult:
    """The result of a valid row that --strict kept back (in the language in force)."""
    return RowResult(
        Outcome.NOT_ATTEMPTED, error=_("Not sent: --strict was given and some rows are invalid.")
    )


# ---------------------------------------------------------------- result lines


def result_lines(
    table: RawTable,
    validation: Validation,
    results: Mapping[int, RowResult],
    issues: Sequence[Issue],
) -> tuple[ResultLine, ...]:
    """One ResultLine per input row, in input order. A row the run settled without sending
    (nothing to cancel) keeps that result even when its cells did not pass the checks."""
    invalid = set(validation.invalid_positions())
    errors_by_row: dict[int, list[Issue]] = {}
    for issue in issues:
        if issue.row is not None and issue.severity is Severity.ERROR:
            errors_by_row.setdefault(issue.row, []).append(issue)
    lines = []
    for pos in range(len(table)):
        reference = _reference(pos, validation)
        result = results.get(pos)
        if pos in invalid and result is None:
            errors = errors_by_row.get(table.source_rows[pos], [])
            text = " ".join(str(i) for i in errors) or None
            lines.append(ResultLine(Outcome.INVALID, reference=reference, error=text))
        else:
            lines.append(_sent_line(result, validation.requests.get(pos), reference))
    return tuple(lines)


def _sent_line(result: RowResult | None, request: object, reference: str | None) -> ResultLine:
    if result is None:
        return ResultLine(Outcome.NOT_ATTEMPTED, reference=reference)
    # a conflict's appointment is someone else's: its id and link must not look like ours
    appointment = result.appointment if result.outcome is not Outcome.CONFLICT else None
    when = appointment.appointment_at if appointment else None
    if when is None and isinstance(request, AppointmentRequest):
        when = request.appointment_at
    return ResultLine(
        outcome=result.outcome,
        reference=(appointment.reference if appointment and appointment.reference else reference),
        appointment_id=appointment.id if appointment else _cancel_id(request),
        status=appointment.status if appointment else None,
        meeting_url=appointment.url if appointment else None,
        host_url=appointment.host_url if appointment else None,
        appointment_at_utc=when,
        error=result.error,
        attempts=result.attempts,
    )


def _reference(pos: int, validation: Validation) -> str | None:
    if isinstance(validation, BookValidation):
        return validation.references[pos]
    request = validation.requests.get(pos)
    return request.reference if request else None


def _cancel_id(request: object) -> str | None:
    return request.appointment_id if isinstance(request, CancelRequest) else None


# ---------------------------------------------------------------- issues found by sending


def sending_issues(table: RawTable, results: Mapping[int, RowResult]) -> list[Issue]:
    """The API's 422 field errors and the references found in use, on the sheet's cells,
    so they are highlighted and listed with the other issues."""
    issues: list[Issue] = []
    for pos, result in sorted(results.items()):
        for api_field, messages in result.field_errors.items():
            cell = cell_of(table, api_field, pos)
            issues.append(make_issue(
                "api-rejected", row=cell.row, column=cell.column, value=cell.value,
                header=cell.header or api_field, field=api_field, details=" ".join(messages),
            ))  # fmt: skip
        if result.outcome is Outcome.CONFLICT and result.appointment is not None:
            cell = cell_of(table, "reference", pos)
            issues.append(Issue(
                code=conflict_code(result.appointment), severity=Severity.ERROR,
                message=result.error or "", row=cell.row, column=cell.column,
                header=cell.header or "reference", value=cell.value, field="reference",
            ))  # fmt: skip
    return issues


# ---------------------------------------------------------------- the summary


@dataclass(frozen=True)
class RunStart:
    """When a run started: by the wall clock (for people) and the monotonic one (duration)."""

    at: datetime
    monotonic: float

    @classmethod
    def now(cls) -> RunStart:
        return cls(datetime.now(UTC), time.monotonic())


def run_summary(
    table: RawTable,
    settings: Settings,
    *,
    command: str,
    dry_run: bool,
    options_text: str,
    stats: SendStats,
    start: RunStart,
    stopped: Stopped,
) -> dict[str, object]:
    """The Summary sheet's values (and --summary-json's): never secrets, never row data."""
    finished = datetime.now(UTC)
    summary: dict[str, object] = {
        "command": command,
        "tool_version": __version__,
        "input_file": table.source.name,
        "input_sha256": table.source.sha256,
        "sheet": table.source.sheet or "",
        "rows_read": len(table),
        "started_at": start.at.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "duration_seconds": round(time.monotonic() - start.monotonic, 3),
        "dry_run": dry_run,
        "interrupted": stopped.reason is not None,
        "stopped_because": stopped.reason or "",
        "options": options_text,
    }
    if settings.api is not None and command != "validate":
        summary["base_url_host"] = urlsplit(settings.api.base_url).netloc
        summary["requests_sent"] = stats.requests
        summary["achieved_rate_per_second"] = round(stats.achieved_rate(), 2)
    if command == "book" and settings.api is not None and not dry_run:
        summary |= existing_check_summary(stats)
    return summary


def existing_check_summary(stats: SendStats) -> dict[str, object]:
    """What the check of the account before the first create did (send/existing.py): how
    it read the list (full, incremental, not needed, off), pages read, time, rows found."""
    check = stats.existing
    return {
        "existing_check": check.how if check else "not needed",
        "existing_check_pages": check.pages if check else 0,
        "existing_check_seconds": round(check.seconds, 3) if check else 0.0,
        "existing_check_rows_found": check.found if check else 0,
    }
