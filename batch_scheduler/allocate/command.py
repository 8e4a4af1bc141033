"""`allocate` end to end: read -> validate -> plan -> write the plan -> (book it).

Booking is not done here: with `book=True` the plan workbook just written is handed to
`pipeline.run` as a `book` input, so it gets every guarantee of `book` (validation, the
ledger, exactly once, the results workbook). The plan is deterministic, so running the same
input again gives the same Book rows, hence the same references: nothing is booked twice
(a claimant without a reference gets one tied to them and the week, not to the slot).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from batch_scheduler.allocate.matcher import Plan, Strategy, plan
from batch_scheduler.allocate.sheets import (
    ClaimantSheet,
    SlotSheet,
    validate_claimants,
    validate_slots,
)
from batch_scheduler.config import IntakeSettings, Settings
from batch_scheduler.errors import InputError, OutputError
from batch_scheduler.i18n import _
from batch_scheduler.intake import read_table
from batch_scheduler.models import Issue, RawTable, SheetKind
from batch_scheduler.output import (
    JSON_SUFFIXES,
    PLAN_SUFFIXES,
    RESULTS_SUFFIXES,
    Output,
    Saved,
    check_outputs,
    plan_summary,
    save,
    summary_counts,
    write_bytes_atomic,
    write_plan,
)
from batch_scheduler.pipeline import RunRequest, run
from batch_scheduler.report import RunReport

CLAIMANTS_SHEET, SLOTS_SHEET = "Claimants", "Slots"


@dataclass(frozen=True)
class AllocateRequest:
    input_path: Path  # a workbook with both sheets, or the claimants when slots_path is given
    out_path: Path  # the plan workbook
    slots_path: Path | None = None
    claimants_sheet: str | None = None  # default: "Claimants" in one workbook, else the first
    slots_sheet: str | None = None  # default: "Slots" in one workbook, else the first
    strategy: Strategy = Strategy.FIRST_FIT
    book: bool = False
    results_path: Path | None = None  # default: beside the plan, "<plan>-results.xlsx"
    include_host_links: bool = False
    summary_json: Path | None = None  # the plan's summary (and the booking's, with --book)
    options_text: str = ""

    @property
    def results(self) -> Path:
        out = self.out_path
        return self.results_path or out.with_name(f"{out.stem}-results{out.suffix or '.xlsx'}")


@dataclass(frozen=True)
class AllocationReport:
    plan: Plan
    claimants: ClaimantSheet
    slots: SlotSheet
    summary: dict[str, object]
    out_path: Path
    booking: RunReport | None = None  # the `book` run of the plan, with --book
    summary_saved: Saved | None = None  # where --summary-json went

    @property
    def issues(self) -> tuple[tuple[str, Issue], ...]:
        """(sheet, issue) for every issue of both sheets."""
        return (
            *((CLAIMANTS_SHEET, i) for i in self.claimants.issues),
            *((SLOTS_SHEET, i) for i in self.slots.issues),
        )

    @property
    def exit_code(self) -> int:
        """0 when everyone was placed (and booked); 1 when some were not; 130 interrupted."""
        if self.booking is not None and self.booking.exit_code != 0:
            return self.booking.exit_code
        if self.summary_saved is not None and self.summary_saved.problem:
            return 1
        unplaced = int(str(self.summary["unplaced"]))
        bad_slots = len(self.slots.table) - len(self.slots.slots)
        return 1 if unplaced or bad_slots else 0


def allocate(
    request: AllocateRequest,
    settings: Settings,
    *,
    now: datetime,
    **book_options: Any,
) -> AllocationReport:
    """Plan, write the plan workbook, and book it when asked. `book_options` go to
    `pipeline.run` (progress, handle_signals, wire)."""
    inputs = [p for p in (request.input_path, request.slots_path) if p is not None]
    check_outputs(_outputs(request), inputs=inputs)
    claimant_table, slot_table = read_sheets(request, settings.intake)
    claimants = validate_claimants(claimant_table, settings.intake, now=now)
    slots = validate_slots(slot_table, settings.intake, now=now)
    names = {ident: name for name, ident in settings.intake.departments.items()}
    result = plan(claimants.claimants, slots.slots, request.strategy, department_names=names,
                  left_out=left_out_words(slots))  # fmt: skip
    summary = plan_summary(result, claimants, slots)
    try:
        write_plan(
            request.out_path,
            plan=result,
            claimants=claimants,
            slots=slots,
            timezone=settings.intake.timezone,
            summary=summary,
        )
    except OSError as exc:
        words = _("Could not write the plan to {path} ({error}). Nothing was booked.")
        raise OutputError(words.format(path=request.out_path, error=exc.strerror or exc)) from None
    booking = None
    if request.book and result.placements:
        book_request = RunRequest(
            "book",
            request.out_path,
            request.results,
            sheet="Book",
            include_host_links=request.include_host_links,
            options_text=request.options_text,
        )
        booking = run(book_request, settings, now=now, **book_options)
    saved = None
    if request.summary_json is not None:
        text = _summary_json(summary, booking)
        saved = save(lambda path: write_bytes_atomic(path, text), request.summary_json,
                     settings.state_dir)  # fmt: skip
    return AllocationReport(
        result, claimants, slots, summary, request.out_path, booking, summary_saved=saved
    )


def left_out_words(slots: SlotSheet) -> str | None:
    """Which slot rows could not be used, and the commonest why: a stale sheet (every slot
    in the past) must not read as "no slot for your department"."""
    bad = {i.row for i in slots.issues if i.is_error and i.row is not None}
    if not bad:
        return None
    past = {i.row for i in slots.issues if i.code == "in-past"}
    total = len(slots.table)
    if len(bad) == total:
        which = _("all {total} slot rows").format(total=total)
    else:
        which = _("{bad} of the {total} slot rows").format(bad=len(bad), total=total)
    if bad <= past:
        why = _("are in the past")
    elif past & bad:
        why = _("have errors ({past} in the past)").format(past=len(past & bad))
    else:
        why = _("have errors")
    return _("{which} on the Slots sheet {why}").format(which=which, why=why)


def _outputs(request: AllocateRequest) -> list[Output]:
    outputs = [Output("--out", request.out_path, PLAN_SUFFIXES)]
    if request.book:
        outputs.append(Output("--results", request.results, RESULTS_SUFFIXES))
    if request.summary_json is not None:
        outputs.append(Output("--summary-json", request.summary_json, JSON_SUFFIXES))
    return outputs


def _summary_json(summary: dict[str, object], booking: RunReport | None) -> bytes:
    """{"allocation": the plan's counts, "booking": what `book --summary-json` writes}."""
    document: dict[str, object] = {"allocation": summary}
    if booking is not None:
        counts = summary_counts(booking.lines, booking.issues)
        document["booking"] = dict(booking.summary) | {"counts": counts}
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
    return (text + "\n").encode("utf-8")


def read_sheets(request: AllocateRequest, settings: IntakeSettings) -> tuple[RawTable, RawTable]:
    """The Claimants and Slots tables, from one workbook or from two files."""
    path = request.input_path
    if request.slots_path is None:
        claimants = read_table(
            path, kind=SheetKind.CLAIMANTS, sheet=request.claimants_sheet or CLAIMANTS_SHEET,
            settings=settings,
        )  # fmt: skip
        if claimants.source.format == "csv":
            raise InputError(
                _(
                    "{name} is a CSV file, which holds one sheet: give the slots in a second "
                    "file with --slots SLOTS.csv (or use one .xlsx workbook with a Claimants "
                    "sheet and a Slots sheet)."
                ).format(name=claimants.source.name)
            )
        slots = read_table(
            path, kind=SheetKind.SLOTS, sheet=request.slots_sheet or SLOTS_SHEET, settings=settings
        )
    else:
        claimants = read_table(
            path, kind=SheetKind.CLAIMANTS, sheet=request.claimants_sheet, settings=settings
        )
        slots = read_table(
            request.slots_path, kind=SheetKind.SLOTS, sheet=request.slots_sheet, settings=settings
        )
    empty = (
        (claimants, _("{where} has a header row but no claimants: nothing to plan.")),
        (slots, _("{where} has a header row but no slots: nothing to plan.")),
    )
    for table, words in empty:
        if len(table) == 0:
            raise InputError(words.format(where=table.source.where))
    return claimants, slots
