"""The one place that knows the order of a run: read -> validate -> triage -> send -> write.

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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from batch_scheduler.api import ApiClient
from batch_scheduler.config import Settings
from batch_scheduler.errors import ApiUnreachable, InputError, StrictModeError
from batch_scheduler.intake import NEVER_BOOKED, previous_outcomes, read_table
from batch_scheduler.ledger import IndexedLedger, open_ledger
from batch_scheduler.models import (
    AppointmentRequest,
    CancelRequest,
    Issue,
    Outcome,
    RawTable,
    ResultLine,
    RowResult,
    SheetKind,
)
from batch_scheduler.output import (
    JSON_SUFFIXES,
    RESULTS_SUFFIXES,
    Output,
    Saved,
    check_outputs,
    save,
    write_results,
    write_summary_json,
)
from batch_scheduler.report import result_lines, run_summary, sending_issues
from batch_scheduler.runtime import heap_frozen
from batch_scheduler.send import (
    SendStats,
    Stopped,
    check_access,
    nothing_to_cancel,
    send_cancels,
    send_creates,
    triage_cancels,
    triage_creates,
    watch_contact,
)
from batch_scheduler.validate import (
    BookValidation,
    CancelValidation,
    validate_book,
    validate_cancel,
)

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
    kind: str | None = None  # a SheetKind, for `validate`; book/cancel imply their own

    @property
    def sheet_kind(self) -> SheetKind:
        if self.kind:
            return SheetKind(self.kind)
        return SheetKind.CANCEL if self.command == "cancel" else SheetKind.BOOK


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
    check_outputs(request_outputs(request), inputs=[request.input_path])
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
    unbooked = _unbooked(request, table)
    # invalid rows of a results workbook that were never booked: nothing to cancel, no issue
    settled = {pos: nothing_to_cancel(unbooked[pos])
               for pos in validation.invalid_positions() if pos in unbooked}  # fmt: skip
    quiet_rows = {table.source_rows[pos] for pos in settled}
    issues = [i for i in validation.issues if i.row is None or i.row not in quiet_rows]
    invalid = [pos for pos in validation.invalid_positions() if pos not in settled]
    log.debug("validated %d rows: %d valid, %d issues", len(table), len(validation.requests),
              len(issues))  # fmt: skip

    stats = stats if stats is not None else SendStats()
    stopped = Stopped()
    results: dict[int, RowResult] = dict(settled)
    refused = None
    if request.command == "validate":
        results |= {pos: RowResult(Outcome.VALID) for pos in validation.requests}
    elif request.strict and invalid:
        refused = (
            f"{len(invalid)} of {len(table)} rows are invalid and --strict was given: nothing "
            "was sent."
        )
        held = RowResult(Outcome.NOT_ATTEMPTED, error="Not sent: --strict was given and some "
                         "rows are invalid.")  # fmt: skip
        results |= {pos: held for pos in validation.requests}
    elif request.dry_run:
        results |= _dry_run(request.command, validation, settings, unbooked)
    else:
        results |= _send(
            request.command, validation, settings, progress or _NoProgress(), stats, stopped,
            unbooked, transport=transport, handle_signals=handle_signals,
        )  # fmt: skip
    report = _write_outputs(
        request, table, validation, issues, results, settings, stats, started, clock0, stopped
    )
    return replace(report, refused=refused)


def request_outputs(request: RunRequest) -> list[Output]:
    """The files a run will write, for checking before anything is sent."""
    outputs = []
    if request.out_path is not None:
        option = "--report" if request.command == "validate" else "--out"
        outputs.append(Output(option, request.out_path, RESULTS_SUFFIXES))
    if request.summary_json is not None:
        outputs.append(Output("--summary-json", request.summary_json, JSON_SUFFIXES))
    return outputs


def _unbooked(request: RunRequest, table: RawTable) -> dict[int, Outcome]:
    """Cancel from a results workbook: the rows whose booking never happened."""
    if request.sheet_kind != SheetKind.CANCEL:
        return {}
    previous = previous_outcomes(table)
    return {pos: outcome for pos, outcome in previous.items() if outcome in NEVER_BOOKED}


# ---------------------------------------------------------------- validate


def _validate(
    table: RawTable, settings: Settings, *, now: datetime, reason: str | None
) -> BookValidation | CancelValidation:
    if table.kind == SheetKind.CANCEL:
        return validate_cancel(table, settings.intake, default_reason=reason)
    return validate_book(table, settings.intake, now=now)


# ---------------------------------------------------------------- triage (dry run)


def _dry_run(
    command: str,
    validation: BookValidation | CancelValidation,
    settings: Settings,
    unbooked: Mapping[int, Outcome],
) -> dict[int, RowResult]:
    """Triage against the ledger (read-only) when we know the base URL; send nothing."""
    items = sorted(validation.requests.items())
    if settings.api is None:
        if command == "cancel":
            nothing = {pos: nothing_to_cancel(unbooked[pos]) for pos, _ in items if pos in unbooked}
            return {pos: nothing.get(pos, RowResult(Outcome.WOULD_CANCEL)) for pos, _ in items}
        return {pos: RowResult(Outcome.WOULD_CREATE) for pos, _ in items}
    with _ledger(settings, readonly=True) as ledger:
        if command == "cancel":
            cancel_triage = triage_cancels(_typed_cancels(items), ledger, unbooked)
            results = dict(cancel_triage.done)
            pending = [p for p, _, _ in cancel_triage.to_send] + [
                p for p, _ in cancel_triage.to_resolve
            ]
            results |= {pos: RowResult(Outcome.WOULD_CANCEL) for pos in pending}
            return results
        create_triage = triage_creates(_typed_creates(items), ledger, zone=_zone(settings))
        results = dict(create_triage.done)
        for pos, _ in (*create_triage.to_send, *create_triage.to_reconcile):
            results[pos] = RowResult(Outcome.WOULD_CREATE)
        return results


def _ledger(settings: Settings, *, readonly: bool = False) -> IndexedLedger:
    """The run's ledger: the shared database state_url names, else the state directory's."""
    assert settings.api is not None
    url = settings.state_url.reveal() if settings.state_url else None
    return open_ledger(settings.state_dir, url, base_url=settings.api.base_url,
                       readonly=readonly, lease=settings.send.claim_lease)  # fmt: skip


def _zone(settings: Settings) -> ZoneInfo:
    """The sheet's time zone: conflicts name times as the sheet writes them."""
    return ZoneInfo(settings.intake.timezone)


def _typed_creates(items: Sequence[tuple[int, Any]]) -> list[tuple[int, AppointmentRequest]]:
    return [(pos, req) for pos, req in items if isinstance(req, AppointmentRequest)]


def _typed_cancels(items: Sequence[tuple[int, Any]]) -> list[tuple[int, CancelRequest]]:
    return [(pos, req) for pos, req in items if isinstance(req, CancelRequest)]


# ---------------------------------------------------------------- send


def _send(
    command: str,
    validation: BookValidation | CancelValidation,
    settings: Settings,
    progress: Progress,
    stats: SendStats,
    stopped: Stopped,
    unbooked: Mapping[int, Outcome],
    *,
    transport: Any,
    handle_signals: bool,
) -> dict[int, RowResult]:
    if settings.api is None:
        raise ValueError("sending needs API settings")
    items = sorted(validation.requests.items())
    run_id = uuid.uuid4().hex
    with (
        _ledger(settings) as ledger,
        heap_frozen(),  # the rows live through the run: no collection need walk them (runtime.py)
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
                unbooked,
                transport=transport,
                handle_signals=handle_signals,
            )
        )


async def _send_async(
    command: str,
    items: list[tuple[int, Any]],
    settings: Settings,
    ledger: IndexedLedger,
    progress: Progress,
    stats: SendStats,
    stopped: Stopped,
    run_id: str,
    unbooked: Mapping[int, Outcome],
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
        async with ApiClient(settings.api, wire=transport) as client:
            await check_access(client, settings)
            watchdog = asyncio.create_task(watch_contact(client, settings, stop, stopped))
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
                results = await send_cancels(_typed_cancels(items), unbooked=unbooked, **common)
            else:
                zone = _zone(settings)
                results = await send_creates(_typed_creates(items), zone=zone, **common)
            watchdog.cancel()
            progress.finish()
    finally:
        if handle_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
    if stats.ledger_lost:
        stopped.ledger_lost = True
    stopped.interrupted = stop.is_set() and not stopped.unreachable and not stopped.ledger_lost
    return results


# ---------------------------------------------------------------- write


def _write_outputs(
    request: RunRequest,
    table: RawTable,
    validation: BookValidation | CancelValidation,
    issues: list[Issue],
    results: Mapping[int, RowResult],
    settings: Settings,
    stats: SendStats,
    started: datetime,
    clock0: float,
    stopped: Stopped,
) -> RunReport:
    """Write the results (or report) and the summary JSON; a file that cannot be written
    where asked goes to the state directory's fallback folder instead (output/paths.py)."""
    # by row, so the ones the sending found stand beside the others of their row
    issues = sorted([*issues, *sending_issues(table, results)], key=lambda i: i.row or 0)
    lines = result_lines(table, validation, results, issues)
    outcomes = Counter(line.outcome.value for line in lines)
    summary = run_summary(
        command=request.command, table=table, settings=settings, stats=stats, started=started,
        clock0=clock0, dry_run=request.dry_run, stopped_because=stopped.reason,
        options_text=request.options_text,
    )  # fmt: skip
    saved: list[Saved] = []
    if request.out_path is not None:
        saved.append(save(lambda path: write_results(
            path, table=table, lines=lines, issues=issues, summary=summary,
            include_host_links=request.include_host_links,
        ), request.out_path, settings.state_dir))  # fmt: skip
    if request.summary_json is not None:
        saved.append(save(
            lambda path: write_summary_json(path, summary, lines=lines, issues=issues),
            request.summary_json, settings.state_dir,
        ))  # fmt: skip
    for problem in saved:
        if problem.problem:  # the CLI says so to people; this is for the logs
            log.info("could not write %s (%s); written to %s instead",
                     problem.asked, problem.problem, problem.path)  # fmt: skip
    return RunReport(
        command=request.command,
        rows=len(table),
        outcomes=dict(outcomes),
        issues=tuple(issues),
        out_path=saved[0].path if request.out_path is not None else None,
        summary=summary,
        interrupted=stopped.interrupted,
        unreachable=stopped.unreachable,
        lines=lines,
        source_rows=table.source_rows,
        saved=tuple(saved),
    )


__all__ = ["COMMANDS", "Progress", "RunReport", "RunRequest", "run"]
