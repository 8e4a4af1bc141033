"""What a run hands back, built from what the stages returned: one result line per input
row, the issues the sending found (422 field errors, references in use), and the summary."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

from batch_scheduler import __version__
from batch_scheduler.config import Settings
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
from batch_scheduler.send import SendStats, conflict_code
from batch_scheduler.validate import BookValidation, CancelValidation, cell_of

Validation = BookValidation | CancelValidation


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


def run_summary(
    *,
    command: str,
    table: RawTable,
    settings: Settings,
    stats: SendStats,
    started: datetime,
    clock0: float,
    dry_run: bool,
    stopped_because: str | None,
    options_text: str,
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
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "duration_seconds": round(time.monotonic() - clock0, 3),
        "dry_run": dry_run,
        "interrupted": stopped_because is not None,
        "stopped_because": stopped_because or "",
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
