"""The web page's one door into the library: every call from web/ to the pipeline, the
allocation, the templates, the config and the errors goes through here.

After the package is reorganised (issue 12) only this module's imports change. It turns the
library's data into plain dicts and counts the pages can show and the job store can keep.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from batch_scheduler.allocate import AllocateRequest, allocate
from batch_scheduler.columns.words import outcome_word, sheet_titles, summary_label
from batch_scheduler.config import Settings, load_settings, pinned_now, read_config_file
from batch_scheduler.errors import (
    BatchSchedulerError,
    ConfigError,
    InputError,
    OutputError,
)
from batch_scheduler.i18n import _
from batch_scheduler.intake import read_table, sheet_names
from batch_scheduler.models import Issue, Outcome, RowResult, SheetKind
from batch_scheduler.output import rows_to_fix, save, write_fix_sheet, write_template
from batch_scheduler.pipeline import RunRequest, run
from batch_scheduler.report import RunReport
from batch_scheduler.send import SendStats

__all__ = [
    "BatchSchedulerError",
    "CheckResult",
    "ConfigError",
    "CountingProgress",
    "InputError",
    "OutputError",
    "Preview",
    "SendResult",
    "SendStats",
    "Settings",
    "Unsaved",
    "check_upload",
    "in_order",
    "load_library_settings",
    "outcome_word",
    "pinned_now",
    "preview",
    "send",
    "sheet_titles",
    "summary_label",
    "template_bytes",
    "web_section",
]

PLAN_SHEET = "Book"  # the plan workbook's sheet that `book` reads
PREVIEW_ROWS = 10
TO_SEND = (Outcome.WOULD_CREATE, Outcome.WOULD_CANCEL)  # a dry run's rows the button sends


# ---------------------------------------------------------------- outcomes


def in_order(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """Every outcome counted, none left out: fine ones first, then those that did not go
    through (`Outcome.is_success`), each group in the Outcome enum's order."""
    rank = {outcome.value: (not outcome.is_success, i) for i, outcome in enumerate(Outcome)}
    unknown = (True, len(rank))  # a job stored by another version: shown, last
    return sorted(counts.items(), key=lambda item: rank.get(item[0], unknown))


def _not_ok(counts: Mapping[str, int]) -> int:
    """Rows whose outcome is not a success (invalid, conflict, rejected, failed...)."""
    return sum(n for name, n in counts.items() if not Outcome(name).is_success)


# ---------------------------------------------------------------- settings


def load_library_settings(
    config_path: Path | None, env: Mapping[str, str] | None = None
) -> tuple[Settings, str | None]:
    """The library's settings, with the API's when they are complete; else why booking is off
    (the page still checks sheets without them). Credentials stay in this object: no page
    ever shows them."""
    env = os.environ if env is None else env
    try:
        return load_settings(config_path=config_path, env=env, need_api=True), None
    except ConfigError as exc:
        return load_settings(config_path=config_path, env=env, need_api=False), exc.message


def web_section(config_path: Path | None) -> dict[str, Any]:
    """The [web] table of the config file ({} when there is none)."""
    section = read_config_file(config_path).get("web", {})
    if not isinstance(section, dict):
        raise ConfigError(_("Config file: {section} must be a table.").format(section="[web]"))
    return section


def template_bytes(kind: str, settings: Settings, folder: Path) -> bytes:
    path = folder / f"{kind}-template.xlsx"
    write_template(path, kind, settings.intake)
    try:
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


# ---------------------------------------------------------------- check


def _issue_dict(issue: Issue, sheet: str | None = None) -> dict[str, Any]:
    return {
        "sheet": sheet,
        "row": issue.row,
        "column": issue.column,
        "header": issue.header,
        "value": issue.value,
        "code": issue.code,
        "severity": str(issue.severity),
        "message": issue.message,
        "where": issue.where,
    }


@dataclass(frozen=True)
class CheckResult:
    rows: int
    valid: int  # rows that will be sent (allocate: claimants placed)
    invalid: int
    issues: list[dict[str, Any]]
    sheet: str | None
    sheets: list[str]  # the workbook's visible sheets, to pick another
    report_name: str  # report.xlsx, or plan.xlsx for an allocation
    plan: dict[str, Any] = field(default_factory=dict)  # allocate: the plan's counts
    outcomes: dict[str, int] = field(default_factory=dict)  # validate's, by outcome

    def counts(self) -> dict[str, Any]:
        codes = Counter(issue["code"] for issue in self.issues)
        return {
            "rows": self.rows,
            "valid": self.valid,
            "invalid": self.invalid,
            "issues": len(self.issues),
            "warnings": sum(1 for issue in self.issues if issue["severity"] == "warning"),
            "codes": dict(sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))),
            "sheet": self.sheet,
            "sheets": self.sheets,
            "report": self.report_name,
            "plan": self.plan,
            "outcomes": self.outcomes,
        }


def check_upload(
    kind: str, path: Path, folder: Path, *, sheet: str | None, settings: Settings, now: datetime
) -> CheckResult:
    """Exactly what `validate` finds (allocate: what `allocate` plans); writes the report
    (or plan) workbook into `folder`. Raises InputError when the file cannot be used."""
    if kind == "allocate":
        return _check_allocation(path, folder, settings=settings, now=now)
    request = RunRequest(
        "validate",
        path,
        folder / "report.xlsx",
        sheet=sheet,
        kind=kind,
        options_text="web page check",
    )
    report = run(request, settings, now=now)
    # a row of a results workbook that was never booked is neither valid nor an error: it
    # has nothing to cancel (nothing_to_cancel), so it is counted apart, not as invalid
    return CheckResult(
        rows=report.rows,
        valid=report.outcomes.get(Outcome.VALID.value, 0),
        invalid=_not_ok(report.outcomes),
        issues=[_issue_dict(issue) for issue in report.issues],
        sheet=str(report.summary.get("sheet") or "") or None,
        sheets=sheet_names(path),
        report_name="report.xlsx",
        outcomes=dict(in_order(report.outcomes)),
    )


def _check_allocation(
    path: Path, folder: Path, *, settings: Settings, now: datetime
) -> CheckResult:
    plan_path = folder / "plan.xlsx"
    report = allocate(AllocateRequest(path, plan_path), settings, now=now)
    placed = len(report.plan.placements)
    summary = {key: value for key, value in report.summary.items() if isinstance(value, int)}
    return CheckResult(
        rows=len(report.claimants.table),
        valid=placed,
        invalid=len(report.claimants.table) - placed,
        issues=[_issue_dict(issue, sheet) for sheet, issue in report.issues],
        sheet=None,
        sheets=[],
        report_name="plan.xlsx",
        plan=summary,
    )


def send_input(
    kind: str, folder: Path, input_name: str, sheet: str | None
) -> tuple[Path, str | None]:
    """The file and sheet that booking reads: the upload, or the plan's Book sheet."""
    if kind == "allocate":
        return folder / "plan.xlsx", PLAN_SHEET
    return folder / input_name, sheet


# ---------------------------------------------------------------- confirm (dry run)


@dataclass(frozen=True)
class Preview:
    to_send: int
    others: dict[str, int]  # what happens to every other row, by outcome (none left out)
    rows: list[dict[str, Any]]  # the first rows: Excel row, reference, time, what will happen
    rate: float
    concurrency: int


def preview(
    command: str, path: Path, sheet: str | None, settings: Settings, now: datetime
) -> Preview:
    """A dry run against the ledger (read-only): what pressing the button would do now."""
    request = RunRequest(command, path, None, sheet=sheet, dry_run=True)
    report = run(request, settings, now=now)
    rows = []
    for j, line in enumerate(report.lines[:PREVIEW_ROWS]):
        rows.append(
            {
                "row": report.source_rows[j] if report.source_rows else j + 2,
                "reference": line.reference,
                "appointment_at": line.appointment_at_utc,
                "appointment_id": line.appointment_id,
                "outcome": line.outcome.value,
            }
        )
    others = dict(in_order(report.outcomes))
    return Preview(
        to_send=sum(others.pop(outcome.value, 0) for outcome in TO_SEND),
        others=others,
        rows=rows,
        rate=settings.send.rate,
        concurrency=settings.send.concurrency,
    )


# ---------------------------------------------------------------- send


class CountingProgress:
    """pipeline.Progress that counts rows by outcome and hands the counts on (to the job
    store) at most every `every` seconds, and at the end."""

    def __init__(
        self,
        on_counts: Callable[[dict[str, Any]], None],
        stats: SendStats,
        clock: Callable[[], float],
        every: float = 0.3,
    ) -> None:
        self._on_counts, self._stats, self._clock, self._every = on_counts, stats, clock, every
        self.counts: dict[str, Any] = {"total": 0, "done": 0}
        self.outcomes: Counter[str] = Counter()
        self._started = self._last = 0.0

    def start(self, total: int, description: str) -> None:
        self._started = self._last = self._clock()
        self.counts["total"] = total
        self._flush()

    def advance(self, result: RowResult) -> None:
        self.counts["done"] += 1
        self.outcomes[result.outcome.value] += 1
        if self._clock() - self._last >= self._every:
            self._flush()

    def finish(self) -> None:
        self._flush()

    def _flush(self) -> None:
        now = self._clock()
        self._last = now
        elapsed = max(now - self._started, 1e-9)
        done, total = self.counts["done"], self.counts["total"]
        rate = done / elapsed if done else 0.0
        self.counts |= {
            "outcomes": dict(in_order(self.outcomes)),
            "requests": self._stats.requests,
            "throttled": self._stats.throttled,
            "retries": self._stats.retries,
            "rate": round(rate, 1),
            "seconds_left": round((total - done) / rate) if rate > 0 else None,
            "elapsed": round(elapsed, 1),
        }
        self._on_counts(dict(self.counts))


@dataclass(frozen=True)
class Unsaved:
    """An output the job's folder could not take: the server kept it elsewhere."""

    name: str  # results.xlsx, summary.json, fix.xlsx
    problem: str
    kept_at: str  # the fallback file in the state directory


@dataclass(frozen=True)
class SendResult:
    outcomes: dict[str, int]
    interrupted: bool
    unreachable: bool
    to_fix: int  # rows in fix.xlsx
    failed_rows: list[dict[str, Any]]  # Excel row, reference, outcome, reason
    unsaved: list[Unsaved] = field(default_factory=list)


def send(
    command: str,
    path: Path,
    sheet: str | None,
    folder: Path,
    *,
    settings: Settings,
    now: datetime,
    progress: CountingProgress,
    stats: SendStats,
    handle_signals: bool = False,
) -> SendResult:
    """Book or cancel for real (the ledger decides what is sent), then write the results,
    the summary JSON and the rows to fix; an output the job's folder cannot take goes to the
    state directory (`unsaved`). Raises what stops a run (OutputError...).
    `handle_signals`: SIGTERM stops the send gently (only from a process's main thread)."""
    request = RunRequest(
        command,
        path,
        folder / "results.xlsx",
        sheet=sheet,
        summary_json=folder / "summary.json",
        options_text="web page",
    )
    report = run(request, settings, now=now, progress=progress, stats=stats,
                 handle_signals=handle_signals)  # fmt: skip
    kind = SheetKind.CANCEL if command == "cancel" else SheetKind.BOOK
    table = read_table(path, kind=kind, sheet=sheet, settings=settings.intake)

    def write_fix(target: Path) -> None:
        write_fix_sheet(target, table, report.lines)

    fix = save(write_fix, folder / "fix.xlsx", settings.state_dir)
    return SendResult(
        outcomes=dict(in_order(report.outcomes)),
        interrupted=report.interrupted,
        unreachable=report.unreachable,
        to_fix=len(rows_to_fix(report.lines)),
        failed_rows=_failed_rows(report),
        unsaved=[
            Unsaved(saved.asked.name, saved.problem, str(saved.path))
            for saved in (*report.saved, fix)
            if saved.problem
        ],
    )


def _failed_rows(report: RunReport) -> list[dict[str, Any]]:
    """The rows that did not go through (the rows of fix.xlsx), with why."""
    lines = report.lines
    return [
        {
            "row": report.source_rows[j],
            "reference": lines[j].reference,
            "outcome": lines[j].outcome.value,
            "reason": lines[j].error or "",
        }
        for j in rows_to_fix(lines)
    ]
