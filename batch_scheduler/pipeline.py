"""The one place that knows the order of a run, and nothing else. `run`:

    1. checks every output can be written          output.check_outputs (nothing read yet)
    2. reads the sheet                             intake.read_table -> RawTable
    3. validates it                                validate.validate_book/_cancel
    4. acts on the valid rows, one of:             -> a RowResult per row
         validate only, refuse (--strict), triage against the ledger (--dry-run), or
         check access and send (send.send_creates/_cancels, the watchdog beside)
    5. reports                                     report.build_report -> RunReport
    6. writes the outputs                          output.save_outputs

Every command (`validate`, `book`, `cancel`) is one call to `run`; so is every check and job
of the web page. The process-wide switches (the garbage collector, the signals) are flipped
here and nowhere else, around the stages (runtime.py says why).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from batch_scheduler import intake, output, report, send, validate
from batch_scheduler.api import ApiClient
from batch_scheduler.api.wire import Wire
from batch_scheduler.config import Settings
from batch_scheduler.errors import InputError
from batch_scheduler.i18n import _
from batch_scheduler.ledger import IndexedLedger, open_ledger
from batch_scheduler.models import Issue, Outcome, RawTable, RowResult, SheetKind
from batch_scheduler.report import RunReport
from batch_scheduler.runtime import collector_paused, heap_frozen, stop_on_signals
from batch_scheduler.validate import BookValidation, CancelValidation

log = logging.getLogger(__name__)

COMMANDS = ("validate", "book", "cancel")
Results = dict[int, RowResult]  # by the row's position in the table


class Progress(Protocol):
    """What the pipeline reports while sending (the CLI draws a bar or logs lines)."""

    def start(self, total: int, description: str) -> None: ...
    def advance(self, result: RowResult) -> None: ...
    def finish(self) -> None: ...


class _NoProgress:
    def start(self, total: int, description: str) -> None: ...
    def advance(self, result: RowResult) -> None: ...
    def finish(self) -> None: ...


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
class _RunContext:
    """One run's request, settings and the caller's hooks: what the stages below are handed."""

    request: RunRequest
    settings: Settings
    progress: Progress
    stats: send.SendStats  # filled while sending (the web page reads it from another thread)
    wire: Wire | None  # the API client's HTTP exchange (api/wire.py); None: the default
    handle_signals: bool
    stopped: send.Stopped = field(default_factory=send.Stopped)  # why sending stopped early


@dataclass(frozen=True)
class _Checked:
    """The sheet read and validated, and the rows settled without sending."""

    validation: BookValidation | CancelValidation
    settled: Results  # rows of a results workbook that were never booked: nothing to cancel
    unbooked: Mapping[int, Outcome]  # those rows' outcome in that workbook
    issues: list[Issue]  # the validation's issues, the settled rows' left out
    invalid: list[int]  # positions of the other invalid rows


def run(
    request: RunRequest,
    settings: Settings,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
    wire: Wire | None = None,
    handle_signals: bool = False,
    stats: send.SendStats | None = None,
) -> RunReport:
    """Run one command end to end. Raises only for what stops a run (errors.py).

    `stats`, when given, is filled in while sending, so a caller on another thread (the web
    page's progress) can read requests sent and 429s met as they happen. `handle_signals`:
    Ctrl-C and SIGTERM stop the send gently (only from the process's main thread)."""
    if request.command not in COMMANDS:
        raise ValueError(f"unknown command {request.command!r}")
    output.check_outputs(request_outputs(request), inputs=[request.input_path])
    ctx = _RunContext(request, settings, progress=progress or _NoProgress(),
                      stats=stats or send.SendStats(), wire=wire,
                      handle_signals=handle_signals)  # fmt: skip
    start = report.RunStart.now()
    with collector_paused():  # millions of objects, no cycles among them (runtime.py)
        checked = _check(ctx, now or datetime.now(UTC))
    with heap_frozen():  # what was read lives through the run: no collection walks it
        results, refused = _act(ctx, checked)
    done = _report(ctx, checked, results, refused=refused, start=start)
    return _write(ctx, done, checked.validation.table)


def request_outputs(request: RunRequest) -> list[output.Output]:
    """The files a run will write, for checking before anything is sent."""
    outputs = []
    if request.out_path is not None:
        option = "--report" if request.command == "validate" else "--out"
        outputs.append(output.Output(option, request.out_path, output.RESULTS_SUFFIXES))
    if request.summary_json is not None:
        outputs.append(output.Output("--summary-json", request.summary_json, output.JSON_SUFFIXES))
    return outputs


# ---------------------------------------------------------------- read and validate


def _check(ctx: _RunContext, now: datetime) -> _Checked:
    """Read the sheet and validate it; settle the rows of a results workbook that were never
    booked (nothing to cancel: neither an error nor a request)."""
    request, settings = ctx.request, ctx.settings.intake
    table = intake.read_table(request.input_path, kind=request.sheet_kind, sheet=request.sheet,
                              settings=settings)  # fmt: skip
    if len(table) == 0:
        raise InputError(
            _(
                "{name} has a header row but no rows: nothing to do. Add the rows under the "
                "header (or pick the right file) and try again."
            ).format(name=table.source.name)
        )
    validation: BookValidation | CancelValidation
    if table.kind == SheetKind.CANCEL:
        validation = validate.validate_cancel(table, settings, default_reason=request.reason)
    else:
        validation = validate.validate_book(table, settings, now=now)
    unbooked = _unbooked(table)
    invalid = validation.invalid_positions()
    settled = {pos: send.nothing_to_cancel(unbooked[pos]) for pos in invalid if pos in unbooked}
    quiet_rows = {table.source_rows[pos] for pos in settled}
    issues = [i for i in validation.issues if i.row is None or i.row not in quiet_rows]
    log.debug("validated %d rows: %d valid, %d issues", len(table), len(validation.requests),
              len(issues))  # fmt: skip
    return _Checked(validation, settled, unbooked, issues,
                    sorted(pos for pos in invalid if pos not in settled))  # fmt: skip


def _unbooked(table: RawTable) -> dict[int, Outcome]:
    """Cancel from a results workbook: the rows whose booking never happened."""
    if table.kind != SheetKind.CANCEL:
        return {}
    previous = intake.previous_outcomes(table)
    return {pos: outcome for pos, outcome in previous.items() if outcome in intake.NEVER_BOOKED}


# ---------------------------------------------------------------- act on the valid rows


def _act(ctx: _RunContext, checked: _Checked) -> tuple[Results, str | None]:
    """Every row's result, and why nothing was sent when --strict refused the run."""
    request, requests = ctx.request, checked.validation.requests
    results = dict(checked.settled)
    if request.command == "validate":  # a row never booked: what cancel will say of it
        unbooked, valid = checked.unbooked, RowResult(Outcome.VALID)
        return results | {pos: send.nothing_to_cancel(unbooked[pos]) if pos in unbooked
                          else valid for pos in requests}, None  # fmt: skip
    if request.strict and checked.invalid:
        refused = report.strict_refusal(len(checked.invalid), len(checked.validation.table))
        held = report.held_by_strict()
        return results | {pos: held for pos in requests}, refused
    if request.dry_run:
        return results | _dry_run(ctx, checked), None
    return results | _send(ctx, checked), None


def _dry_run(ctx: _RunContext, checked: _Checked) -> Results:
    """Triage against the ledger (read-only) when we know the base URL; send nothing."""
    validation, unbooked, api = checked.validation, checked.unbooked, ctx.settings.api
    if api is None:  # no ledger to ask: every valid row would be sent
        cancelling = isinstance(validation, CancelValidation)
        would = RowResult(Outcome.WOULD_CANCEL if cancelling else Outcome.WOULD_CREATE)
        return {pos: send.nothing_to_cancel(unbooked[pos]) if pos in unbooked else would
                for pos in validation.requests}  # fmt: skip
    with _ledger(ctx.settings, readonly=True) as ledger:
        if isinstance(validation, CancelValidation):
            items = sorted(validation.requests.items())
            cancels = send.triage_cancels(items, ledger, unbooked)
            pending = [p for p, _, _ in cancels.to_send] + [p for p, _ in cancels.to_resolve]
            return dict(cancels.done) | {pos: RowResult(Outcome.WOULD_CANCEL) for pos in pending}
        zone = _zone(ctx.settings)
        creates = send.triage_creates(sorted(validation.requests.items()), ledger, zone=zone)
        pending = [pos for pos, _ in (*creates.to_send, *creates.to_reconcile)]
        return dict(creates.done) | {pos: RowResult(Outcome.WOULD_CREATE) for pos in pending}


def _ledger(settings: Settings, *, readonly: bool = False) -> IndexedLedger:
    """The run's ledger: the shared database state_url names, else the state directory's."""
    assert settings.api is not None
    url = settings.state_url.reveal() if settings.state_url else None
    return open_ledger(settings.state_dir, url, base_url=settings.api.base_url,
                       readonly=readonly, lease=settings.send.claim_lease)  # fmt: skip


def _zone(settings: Settings) -> ZoneInfo:
    """The sheet's time zone: conflicts name times as the sheet writes them."""
    return ZoneInfo(settings.intake.timezone)


def _send(ctx: _RunContext, checked: _Checked) -> Results:
    api = ctx.settings.api
    if api is None:
        raise ValueError("sending needs API settings")
    with _ledger(ctx.settings) as ledger:
        return asyncio.run(_send_async(ctx, checked, ledger))


async def _send_async(ctx: _RunContext, checked: _Checked, ledger: IndexedLedger) -> Results:
    """Check access, then send every valid row with the watchdog beside it."""
    settings, progress, validation = ctx.settings, ctx.progress, checked.validation
    assert settings.api is not None
    stop = asyncio.Event()
    cancelling = isinstance(validation, CancelValidation)
    with stop_on_signals(stop, enabled=ctx.handle_signals):
        async with ApiClient(settings.api, wire=ctx.wire) as client:
            await send.check_access(client, settings)
            watchdog = asyncio.create_task(send.watch_contact(client, settings, stop, ctx.stopped))
            progress.start(len(validation.requests), "cancelling" if cancelling else "booking")
            common: dict[str, Any] = {
                "client": client,
                "ledger": ledger,
                "settings": settings.send,
                "run_id": uuid.uuid4().hex,
                "on_result": lambda _position, result: progress.advance(result),
                "stop": stop,
                "stats": ctx.stats,
            }
            if isinstance(validation, CancelValidation):
                cancels = sorted(validation.requests.items())
                results = await send.send_cancels(cancels, unbooked=checked.unbooked, **common)
            else:
                creates = sorted(validation.requests.items())
                results = await send.send_creates(creates, zone=_zone(settings), **common)
            watchdog.cancel()
            progress.finish()
    ctx.stopped.ledger_lost = ctx.stats.ledger_lost is not None
    ctx.stopped.interrupted = stop.is_set() and not ctx.stopped.unreachable
    return results


# ---------------------------------------------------------------- report and write


def _report(
    ctx: _RunContext, checked: _Checked, results: Results, *, refused: str | None,
    start: report.RunStart,
) -> RunReport:  # fmt: skip
    request = ctx.request
    summary = report.run_summary(
        checked.validation.table, ctx.settings, command=request.command,
        dry_run=request.dry_run, options_text=request.options_text, stats=ctx.stats,
        start=start, stopped=ctx.stopped,
    )  # fmt: skip
    return report.build_report(request.command, checked.validation, results,
                               issues=checked.issues, summary=summary, stopped=ctx.stopped,
                               refused=refused)  # fmt: skip


def _write(ctx: _RunContext, done: RunReport, table: RawTable) -> RunReport:
    """The report, with where its files went (as asked, or a fallback: output/paths.py)."""
    request = ctx.request
    saved = output.save_outputs(
        table, done.lines, done.issues, done.summary, results_path=request.out_path,
        summary_json=request.summary_json, include_host_links=request.include_host_links,
        state_dir=ctx.settings.state_dir,
    )  # fmt: skip
    out_path = saved[0].path if request.out_path is not None else None
    return replace(done, out_path=out_path, saved=saved)


__all__ = ["COMMANDS", "Progress", "RunRequest", "request_outputs", "run"]
