"""The one place that knows the order of a run: read -> validate -> plan -> send -> write.

Every command (`validate`, `book`, `cancel`) is one call to `run`. Stages take data and
return data; this module wires them, builds the results lines and the summary, and decides
nothing about presentation (the CLI prints, this returns a RunReport).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from batch_scheduler import __version__
from batch_scheduler.client import ApiClient
from batch_scheduler.config import Settings
from batch_scheduler.errors import ApiUnreachable, AuthError, InputError, StrictModeError
from batch_scheduler.gcpause import heap_frozen
from batch_scheduler.ledger import Ledger
from batch_scheduler.models import (
    AppointmentRequest,
    CancelRequest,
    Issue,
    Outcome,
    RawTable,
    ResultKind,
    ResultLine,
    RowResult,
    Severity,
)
from batch_scheduler.reader import read_table
from batch_scheduler.schema import BookValidation, CancelValidation, validate_book, validate_cancel
from batch_scheduler.sender import SendStats, plan_cancels, plan_creates, send_cancels, send_creates
from batch_scheduler.workbook import summary_counts, write_results, write_summary_json

log = logging.getLogger(__name__)

COMMANDS = ("validate", "book", "cancel")


class Progress(Protocol):
    """What the pipeline reports while sending (the CLI draws a bar or logs lines)."""

    def start(self, total: int, description: str) -> None: ...
    def advance(self, result: RowResult) -> None: ...
    def finish(self) -> None: ...


class _NoProgress:
    def start(self, total: int, description: str) -> None:
        pass

    def advance(self, result: RowResult) -> None:
        pass

    def finish(self) -> None:
        pass


@dataclass(frozen=True)
class RunRequest:
    """What to do: one command on one input file."""

    command: str  # "validate" | "book" | "cancel"
    input_path: Path
    out_path: Path | None = None  # results (book/cancel) or report (validate) workbook
    sheet: str | None = None
    dry_run: bool = False
    strict: bool = False
    summary_json: Path | None = None
    include_host_links: bool = False
    reason: str | None = None  # cancel: default cancellation reason
    options_text: str = ""  # the options as given, for the Summary sheet (never secrets)
    kind: str | None = None  # the sheet's kind, for `validate`; book/cancel imply their own

    @property
    def sheet_kind(self) -> str:
        return self.kind or ("cancel" if self.command == "cancel" else "book")


@dataclass(frozen=True)
class RunReport:
    """What happened, for the CLI to print and map to an exit code."""

    command: str
    rows: int
    outcomes: Mapping[str, int]
    issues: tuple[Issue, ...]
    out_path: Path | None
    summary: Mapping[str, object]
    interrupted: bool = False
    unreachable: bool = False  # the API stopped answering mid-run; partial results written
    lines: tuple[ResultLine, ...] = field(default=(), repr=False)
    source_rows: tuple[int, ...] = field(default=(), repr=False)  # lines[j] is this Excel row

    @property
    def exit_code(self) -> int:
        if self.unreachable:
            return ApiUnreachable.exit_code
        if self.interrupted:
            return 130
        good = sum(n for name, n in self.outcomes.items() if Outcome(name).is_success)
        return 0 if good == self.rows else 1

    @property
    def issue_codes(self) -> dict[str, int]:
        return dict(Counter(issue.code for issue in self.issues))


def run(
    request: RunRequest,
    settings: Settings,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
    transport: Any = None,
    handle_signals: bool = False,
    stats: SendStats | None = None,
) -> RunReport:
    """Run one command end to end. Raises only for what stops a run (errors.py).

    `stats`, when given, is filled in while sending, so a caller on another thread (the web
    page's progress) can read requests sent and 429s met as they happen."""
    if request.command not in COMMANDS:
        raise ValueError(f"unknown command {request.command!r}")
    now = now or datetime.now(UTC)
    started, clock0 = datetime.now(UTC), time.monotonic()
    table = read_table(
        request.input_path, kind=request.sheet_kind, sheet=request.sheet, settings=settings.intake
    )
    if len(table) == 0:
        raise InputError(
            f"{table.source.name} has a header row but no rows: nothing to do. Add the rows "
            "under the header (or pick the right file) and try again."
        )
    validation = _validate(table, settings, now=now, reason=request.reason)
    log.info(
        "validated %d rows: %d valid, %d issues",
        len(table),
        len(validation.requests),
        len(validation.issues),
    )

    stats = stats if stats is not None else SendStats()
    stopped = _Stopped()
    results: dict[int, RowResult] = {}
    if request.command == "validate":
        results = {pos: RowResult(Outcome.VALID) for pos in validation.requests}
    elif request.strict and validation.invalid_positions():
        _write_outputs(
            request, table, validation, results, settings, stats, started, clock0, stopped
        )
        raise StrictModeError(
            f"{len(validation.invalid_positions())} of {len(table)} rows are invalid and "
            "--strict was given: nothing was sent. Fix the rows listed and run again."
        )
    elif request.dry_run:
        results = _dry_run(request.command, validation, settings)
    else:
        results = _send(
            request.command, validation, settings, progress or _NoProgress(), stats, stopped,
            transport=transport, handle_signals=handle_signals,
        )  # fmt: skip
    return _write_outputs(
        request, table, validation, results, settings, stats, started, clock0, stopped
    )


# ---------------------------------------------------------------- validate


def _validate(
    table: RawTable, settings: Settings, *, now: datetime, reason: str | None
) -> BookValidation | CancelValidation:
    if table.kind == "cancel":
        return validate_cancel(table, settings.intake, default_reason=reason)
    return validate_book(table, settings.intake, now=now)


# ---------------------------------------------------------------- plan (dry run)


def _dry_run(
    command: str, validation: BookValidation | CancelValidation, settings: Settings
) -> dict[int, RowResult]:
    """Plan against the ledger (read-only) when we know the base URL; send nothing."""
    items = sorted(validation.requests.items())
    if settings.api is None:
        would = Outcome.WOULD_CANCEL if command == "cancel" else Outcome.WOULD_CREATE
        return {pos: RowResult(would) for pos, _ in items}
    with Ledger.open_readonly(settings.state_dir, base_url=settings.api.base_url) as ledger:
        if command == "cancel":
            cancel_plan = plan_cancels(_typed_cancels(items), ledger)
            results = dict(cancel_plan.done)
            pending = [p for p, _, _ in cancel_plan.to_send] + [
                p for p, _ in cancel_plan.to_resolve
            ]
            results |= {pos: RowResult(Outcome.WOULD_CANCEL) for pos in pending}
            return results
        create_plan = plan_creates(_typed_creates(items), ledger)
        results = dict(create_plan.done)
        for pos, _ in (*create_plan.to_send, *create_plan.to_reconcile):
            results[pos] = RowResult(Outcome.WOULD_CREATE)
        return results


def _typed_creates(items: Sequence[tuple[int, Any]]) -> list[tuple[int, AppointmentRequest]]:
    return [(pos, req) for pos, req in items if isinstance(req, AppointmentRequest)]


def _typed_cancels(items: Sequence[tuple[int, Any]]) -> list[tuple[int, CancelRequest]]:
    return [(pos, req) for pos, req in items if isinstance(req, CancelRequest)]


# ---------------------------------------------------------------- send


@dataclass
class _Stopped:
    """Why a send stopped before every row was done: a signal, or a server lost mid-run."""

    interrupted: bool = False
    unreachable: bool = False

    @property
    def reason(self) -> str | None:
        if self.unreachable:
            return "api-unreachable"
        return "interrupted" if self.interrupted else None


def _send(
    command: str,
    validation: BookValidation | CancelValidation,
    settings: Settings,
    progress: Progress,
    stats: SendStats,
    stopped: _Stopped,
    *,
    transport: Any,
    handle_signals: bool,
) -> dict[int, RowResult]:
    if settings.api is None:
        raise ValueError("sending needs API settings")
    items = sorted(validation.requests.items())
    run_id = uuid.uuid4().hex
    with (
        Ledger.open(settings.state_dir, base_url=settings.api.base_url) as ledger,
        heap_frozen(),  # the rows live through the run: no collection need walk them (gcpause)
    ):
        return asyncio.run(
            _send_async(
                command,
                items,
                settings,
                ledger,
                progress,
                stats,
                stopped,
                run_id,
                transport=transport,
                handle_signals=handle_signals,
            )
        )


async def _send_async(
    command: str,
    items: list[tuple[int, Any]],
    settings: Settings,
    ledger: Ledger,
    progress: Progress,
    stats: SendStats,
    stopped: _Stopped,
    run_id: str,
    *,
    transport: Any,
    handle_signals: bool,
) -> dict[int, RowResult]:
    assert settings.api is not None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if handle_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with ApiClient(settings.api, transport=transport) as client:
            await _check_access(client, settings)
            watchdog = asyncio.create_task(_watch_contact(client, settings, stop, stopped))
            progress.start(len(items), "cancelling" if command == "cancel" else "booking")
            common: dict[str, Any] = {
                "client": client,
                "ledger": ledger,
                "settings": settings.send,
                "run_id": run_id,
                "on_result": lambda _position, result: progress.advance(result),
                "stop": stop,
                "stats": stats,
            }
            if command == "cancel":
                results = await send_cancels(_typed_cancels(items), **common)
            else:
                results = await send_creates(_typed_creates(items), **common)
            watchdog.cancel()
            progress.finish()
    finally:
        if handle_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
    stopped.interrupted = stop.is_set() and not stopped.unreachable
    return results


async def _check_access(client: ApiClient, settings: Settings) -> None:
    """Fail fast: bad credentials stop the run; so does an API that cannot be reached at all
    (after a few tries over ~15 s by default), before anything is sent."""
    assert settings.api is not None
    host = urlsplit(settings.api.base_url).netloc
    waits = [settings.send.backoff_initial * 2**n for n in range(1, 5)]
    for wait in [*waits, None]:
        access = await client.check_access()
        if access.kind is ResultKind.FATAL:
            raise AuthError(
                f"The API at {host} refused our credentials ({access.status_code}): "
                f"{access.message or 'no message'}. Check the token or client id and secret."
            )
        if access.status_code is not None or access.kind is ResultKind.SUCCESS:
            return  # it answers; any other trouble is the sender's to ride out
        if wait is None:
            raise ApiUnreachable(
                f"Could not reach the API at {host}: {access.message}. Nothing was sent. "
                "Check the base URL, the network (proxy, firewall) and, for a private "
                "certificate authority, SSL_CERT_FILE; then run again."
            )
        log.warning("the API cannot be reached yet (%s); trying again", access.message)
        await asyncio.sleep(wait)


async def _watch_contact(
    client: ApiClient, settings: Settings, stop: asyncio.Event, stopped: _Stopped
) -> None:
    """Stop the run (as for Ctrl-C: drain, write partial results) when the API has not
    answered for `send.unreachable_after` seconds while tries kept failing."""
    limit = settings.send.unreachable_after
    while not stop.is_set():
        await asyncio.sleep(min(1.0, limit / 4))
        silent = client.contact.silent_for(time.monotonic())
        if silent >= limit:
            log.error("no answer from the API for %.0f s: stopping the run", silent)
            stopped.unreachable = True
            stop.set()


# ---------------------------------------------------------------- write


def _write_outputs(
    request: RunRequest,
    table: RawTable,
    validation: BookValidation | CancelValidation,
    results: Mapping[int, RowResult],
    settings: Settings,
    stats: SendStats,
    started: datetime,
    clock0: float,
    stopped: _Stopped,
) -> RunReport:
    issues = list(validation.issues) + _api_field_issues(table, results)
    lines = _lines(table, validation, results, issues)
    outcomes = Counter(line.outcome.value for line in lines)
    summary = _summary(request, table, settings, stats, started, clock0, stopped)
    if request.out_path is not None:
        write_results(
            request.out_path,
            table=table,
            lines=lines,
            issues=issues,
            summary=summary,
            include_host_links=request.include_host_links,
        )
    if request.summary_json is not None:
        write_summary_json(request.summary_json, summary, lines=lines, issues=issues)
    return RunReport(
        command=request.command,
        rows=len(table),
        outcomes=dict(outcomes),
        issues=tuple(issues),
        out_path=request.out_path,
        summary=summary,
        interrupted=stopped.interrupted,
        unreachable=stopped.unreachable,
        lines=lines,
        source_rows=table.source_rows,
    )


def _lines(
    table: RawTable,
    validation: BookValidation | CancelValidation,
    results: Mapping[int, RowResult],
    issues: Sequence[Issue],
) -> tuple[ResultLine, ...]:
    """One ResultLine per input row, in input order."""
    invalid = validation.invalid_positions()
    errors_by_row: dict[int, list[Issue]] = {}
    for issue in issues:
        if issue.row is not None and issue.severity is Severity.ERROR:
            errors_by_row.setdefault(issue.row, []).append(issue)
    lines = []
    for pos in range(len(table)):
        reference = _reference(pos, validation)
        if pos in invalid:
            errors = errors_by_row.get(table.source_rows[pos], [])
            text = " ".join(str(i) for i in errors) or None
            lines.append(ResultLine(Outcome.INVALID, reference=reference, error=text))
        else:
            lines.append(_sent_line(results.get(pos), validation.requests.get(pos), reference))
    return tuple(lines)


def _sent_line(result: RowResult | None, request: object, reference: str | None) -> ResultLine:
    if result is None:
        return ResultLine(Outcome.NOT_ATTEMPTED, reference=reference)
    appointment = result.appointment
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


def _reference(pos: int, validation: BookValidation | CancelValidation) -> str | None:
    if isinstance(validation, BookValidation):
        return validation.references[pos]
    request = validation.requests.get(pos)
    return request.reference if request else None


def _cancel_id(request: object) -> str | None:
    return request.appointment_id if isinstance(request, CancelRequest) else None


def _api_field_issues(table: RawTable, results: Mapping[int, RowResult]) -> list[Issue]:
    """Map the API's 422 field errors back to the sheet's cells, so they are highlighted."""
    issues: list[Issue] = []
    for pos, result in sorted(results.items()):
        for api_field, messages in result.field_errors.items():
            key = _column_for_api_field(table, api_field)
            letter = table.letter_of(key) if key else None
            header = table.headers[table.keys.index(key)] if key else api_field
            value = table.frame.iloc[pos][key] if key else None
            issues.append(
                Issue(
                    code="api-rejected",
                    severity=Severity.ERROR,
                    message="The API refused this value: " + " ".join(messages),
                    row=table.source_rows[pos],
                    column=letter,
                    header=header,
                    value=None if value is None else str(value),
                    field=api_field,
                )
            )
    return issues


def _column_for_api_field(table: RawTable, api_field: str) -> str | None:
    name = api_field.replace(".", "_").replace("[", "_").replace("]", "")
    candidates = {
        "department_id": ("department",),
        "appointment_at": ("appointment_at", "appointment_date"),
    }.get(name, (name,))
    for candidate in candidates:
        if candidate in table.fields:
            return table.fields[candidate]
    return None


def _summary(
    request: RunRequest,
    table: RawTable,
    settings: Settings,
    stats: SendStats,
    started: datetime,
    clock0: float,
    stopped: _Stopped,
) -> dict[str, object]:
    finished = datetime.now(UTC)
    duration = time.monotonic() - clock0
    summary: dict[str, object] = {
        "command": request.command,
        "tool_version": __version__,
        "input_file": table.source.name,
        "input_sha256": table.source.sha256,
        "sheet": table.source.sheet or "",
        "rows_read": len(table),
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "duration_seconds": round(duration, 3),
        "dry_run": request.dry_run,
        "interrupted": stopped.reason is not None,
        "stopped_because": stopped.reason or "",
        "options": request.options_text,
    }
    if settings.api is not None and request.command != "validate":
        summary["base_url_host"] = urlsplit(settings.api.base_url).netloc
        summary["requests_sent"] = stats.requests
        summary["achieved_rate_per_second"] = round(stats.achieved_rate(), 2)
    return summary


__all__ = ["COMMANDS", "Progress", "RunReport", "RunRequest", "run", "summary_counts"]
