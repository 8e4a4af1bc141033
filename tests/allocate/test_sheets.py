"""The Claimants and Slots sheets: the intake's rules and codes; the plan's Book sheet is a valid
book input; the allocate template and sample."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from batch_scheduler.allocate import AllocateRequest, Strategy, allocate
from batch_scheduler.allocate.matcher import Claimant, Reason
from batch_scheduler.allocate.sheets import validate_claimants, validate_slots
from batch_scheduler.columns import CLAIMANT_FIELDS, SLOT_FIELDS, fold_label
from batch_scheduler.config import IntakeSettings, Settings
from batch_scheduler.demo.samples import ALLOCATE_STORY, SAMPLE_DEPARTMENTS, write_allocate_sample
from batch_scheduler.errors import InputError
from batch_scheduler.intake import read_table
from batch_scheduler.intake.headers import alias_index
from batch_scheduler.issues import ALLOCATION_CODES
from batch_scheduler.output import write_template
from batch_scheduler.output.allocation import BOOK_COLUMNS
from batch_scheduler.validate import validate_book
from tests.support.sheets import NOW
from tests.support.templates import CHECKED_IN, REGENERATE, snapshot

SETTINGS = IntakeSettings(departments={"Benefits": 1, "Housing": 2})
TODAY = NOW.date()


def workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
    book.save(path)
    return path


def claimants(tmp_path: Path, headers: list[str], *rows: list[Any]) -> Any:
    path = workbook(tmp_path / "c.xlsx", {"Claimants": [headers, *rows]})
    table = read_table(path, kind="claimants", sheet="Claimants", settings=SETTINGS)
    return validate_claimants(table, SETTINGS, now=NOW)


def slots(tmp_path: Path, headers: list[str], *rows: list[Any]) -> Any:
    path = workbook(tmp_path / "s.xlsx", {"Slots": [headers, *rows]})
    table = read_table(path, kind="slots", sheet="Slots", settings=SETTINGS)
    return validate_slots(table, SETTINGS, now=NOW)


def codes(result: Any) -> list[tuple[int | None, str | None, str]]:
    return [(i.row, i.column, i.code) for i in result.issues]


# ---------------------------------------------------------------- claimants


def test_a_claimant_row_becomes_a_claimant_with_api_ready_details(tmp_path: Path) -> None:
    result = claimants(
        tmp_path,
        ["Name", "Mobile", "Interpreter?", "Language", "Team", "Not before", "Deadline", "Ref"],
        ["Siân Llewelyn", "07400 900123", "yes", "Welsh", "Housing", "01/12/2026",
         datetime(2026, 12, 4, 17, 0), "CASE-1"],
        ["Dafydd Jones", None, None, None, None, None, None, None],
    )  # fmt: skip
    assert result.issues == ()
    assert result.claimants == (
        Claimant(0, 2, 2, "Welsh", date(2026, 12, 1), date(2026, 12, 4)),
        Claimant(1, 3, None, None, None, None),
    )
    details = result.details[0]
    assert details.reference == "CASE-1" and result.details[1].reference is None
    assert details.claimant.phone_number == "+447400900123"
    assert details.department_id == 2 and details.is_interpreter_needed


def test_claimant_problems_use_the_intake_codes_and_the_new_ones(tmp_path: Path) -> None:
    result = claimants(
        tmp_path,
        ["Name", "DOB", "Email", "Interpreter?", "Language", "Earliest", "Latest", "Department"],
        ["A", None, "bad@@example.org", None, None, None, None, None],
        ["B", None, None, "yes", None, None, None, None],
        ["C", None, None, None, None, "05/12/2026", "01/12/2026", None],
        ["D", None, None, None, None, "someday", None, "Appeals"],
        ["Siân  LLEWELYN", "14/02/1985", None, None, None, None, None, None],
        ["siân llewelyn", "14/02/1985", None, None, None, None, None, None],
    )
    assert codes(result) == [
        (2, "C", "invalid-email"),
        (3, "E", "language-required"),
        (4, "G", "window-reversed"),
        (5, "F", "invalid-date"),
        (5, "H", "unknown-department"),
        (7, "A", "duplicate-claimant"),
    ]
    assert [c.row for c in result.claimants] == [6]  # the first of the two repeats stays
    assert "already listed in row 6" in result.issues[-1].message
    assert "01/12/2026 is before the earliest date 05/12/2026" in result.issues[2].message
    assert {i.code for i in result.issues} >= ALLOCATION_CODES


def test_repeats_with_their_own_references_are_two_people(tmp_path: Path) -> None:
    result = claimants(tmp_path, ["Name", "Ref"], ["Ann Lee", "R1"], ["Ann Lee", "R2"])
    assert result.issues == () and len(result.claimants) == 2


def test_a_window_date_says_exactly_what_is_wrong_like_the_book_sheet(tmp_path: Path) -> None:
    result = claimants(
        tmp_path,
        ["Name", "Earliest", "Latest"],
        ["A", "31/02/2026", "01/15/2027"],
        ["B", "2026-12-01T10:00+01:00", None],
        ["C", None, 46000.5],
    )
    assert [(i.row, i.column, i.code) for i in result.issues] == [
        (2, "B", "invalid-date"), (2, "C", "invalid-date"), (3, "B", "invalid-date"),
    ]  # fmt: skip
    feb, month_first, offset = (i.message for i in result.issues)
    assert feb == (
        "“31/02/2026” is not a date we can read: there is no 31 February 2026 (February 2026 "
        "has 28 days). Check the day and the month."
    )
    assert month_first.endswith("If you wrote the month first (US style), swap it: 15/01/2027.")
    assert "it has a time zone offset, which a date cannot have" in offset
    assert [c.latest for c in result.claimants] == [date(2025, 12, 9)]  # a serial's time dropped


def test_a_repeated_claimant_is_caught_even_when_their_name_also_has_a_warning(
    tmp_path: Path,
) -> None:
    """A garbled name's warning is on the same cell; the repeat must still be an error, or
    the same person would be booked twice."""
    result = claimants(tmp_path, ["Name", "DOB"], ["SiÃ¢n Lee", "14/02/1985"],
                       ["SiÃ¢n Lee", "14/02/1985"])  # fmt: skip
    assert [(i.row, i.code) for i in result.issues] == [
        (2, "mojibake"), (3, "mojibake"), (3, "duplicate-claimant"),
    ]  # fmt: skip
    assert [c.row for c in result.claimants] == [2]


def test_checks_see_only_the_sheets_own_columns(tmp_path: Path) -> None:
    """No placeholder column, no made-up time: every issue is on a column of the sheet, and
    a slot's language is its own (no interpreter rule applies to a slot)."""
    claimant = claimants(tmp_path, ["Name", "Language"], ["A", "Welsh"], ["", "Welsh"])
    slot = slots(tmp_path, ["Start", "Language"], ["01/12/2026 10:00", "Welsh"], ["", "x" * 300])
    assert codes(claimant) == [
        (2, "B", "language-not-needed"), (3, "A", "required"), (3, "B", "language-not-needed"),
    ]  # fmt: skip
    assert codes(slot) == [(3, "A", "required"), (3, "B", "too-long")]
    assert [s.language for s in slot.slots] == ["Welsh"]
    assert all("\x00" not in str(i) for i in (*claimant.issues, *slot.issues))


def test_claimants_need_a_name_column(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Claimant name"):
        claimants(tmp_path, ["Phone"], ["07400 900123"])


# ---------------------------------------------------------------- slots


def test_slot_rows_become_slots(tmp_path: Path) -> None:
    result = slots(
        tmp_path,
        ["Slot start", "Length", "Department", "Language offered", "Places"],
        [datetime(2026, 12, 1, 10, 0), 45, "Benefits", "Welsh", 3],
        ["02/12/2026 14:30", None, 2, None, None],
    )
    assert result.issues == ()
    first, second = result.slots
    assert (first.local, first.duration, first.department, first.language, first.capacity) == (
        datetime(2026, 12, 1, 10, 0), 45, 1, "Welsh", 3,
    )  # fmt: skip
    assert first.start == datetime(2026, 12, 1, 10, 0, tzinfo=first.start.tzinfo)
    assert (second.duration, second.department, second.language, second.capacity) == (
        30, 2, None, 1,
    )  # fmt: skip


def test_slot_problems(tmp_path: Path) -> None:
    result = slots(
        tmp_path,
        ["Start date", "Start time", "Capacity", "Duration"],
        [date(2026, 12, 1), time(10, 0), "two", 30],
        [date(2026, 12, 1), time(11, 0), 0, 30],
        [date(2026, 11, 20), time(11, 0), 1, 30],
        [date(2027, 3, 28), time(1, 30), 1, 30],
        [date(2026, 12, 1), "25:00", 1, 2000],
        [date(2026, 12, 2), time(9, 0), 1, None],
    )
    assert codes(result) == [
        (2, "C", "invalid-integer"),
        (3, "C", "out-of-range"),
        (4, "A", "in-past"),
        (5, "A", "nonexistent-local-time"),
        (6, "B", "invalid-time"),
        (6, "D", "out-of-range"),
    ]
    assert "from 1 to 1000" in result.issues[1].message
    assert [s.row for s in result.slots] == [7]


def test_slots_need_a_start(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Start"):
        slots(tmp_path, ["Department"], ["Benefits"])


def test_claimant_and_slot_spellings_do_not_clash() -> None:
    """Every spelling, English or Welsh, finds its own field."""
    for fields in (CLAIMANT_FIELDS, SLOT_FIELDS):
        spellings = [fold_label(s) for f in fields for s in f.spellings()]
        index = alias_index(fields)
        for f in fields:
            for s in f.spellings():
                assert index[fold_label(s)] == f.name, s
        assert len(index) <= len(spellings)


# ---------------------------------------------------------------- the plan workbook


def plan_sample(tmp_path: Path, strategy: Strategy = Strategy.FIRST_FIT) -> Any:
    path = write_allocate_sample(tmp_path / "sample.xlsx", TODAY)
    settings = Settings(intake=IntakeSettings(departments=SAMPLE_DEPARTMENTS))
    out = tmp_path / f"plan-{strategy}.xlsx"
    return allocate(AllocateRequest(path, out, strategy=strategy), settings, now=NOW)


def test_the_plan_book_sheet_is_a_valid_book_input(tmp_path: Path) -> None:
    report = plan_sample(tmp_path)
    settings = IntakeSettings(departments=SAMPLE_DEPARTMENTS)

    table = read_table(report.out_path, kind="book", settings=settings)  # the first sheet
    booked = validate_book(table, settings, now=NOW)

    assert table.source.sheet == "Book"
    assert list(table.headers) == [f.header for f in BOOK_COLUMNS]
    assert booked.issues == ()
    assert len(booked.requests) == len(report.plan.placements) == 22
    by_name = {r.claimant.name: r for r in booked.requests.values()}
    for p in report.plan.placements:
        details = report.claimants.details[p.claimant.id]
        request = by_name[details.claimant.name]
        assert request.appointment_at == p.slot.start
        assert request.duration_in_minutes == p.slot.duration
        assert request.claimant == details.claimant
        assert request.interpreter_language == details.interpreter_language
        assert request.department_id == p.slot.department
        if details.reference:
            assert request.reference == details.reference


def test_the_plan_explains_the_unplaced_and_shows_slot_use(tmp_path: Path) -> None:
    report = plan_sample(tmp_path)
    book = load_workbook(report.out_path)
    assert book.sheetnames == ["Book", "Unplaced", "Slots", "Issues", "Summary"]

    unplaced = list(book["Unplaced"].iter_rows(values_only=True))
    assert unplaced[0] == ("Claimant row", "Reference", "Claimant name", "Reason code", "Reason")
    reasons = {row[2]: (row[3], row[4]) for row in unplaced[1:]}
    assert len(unplaced) - 1 == 8 and set(reasons) == set(ALLOCATE_STORY)  # Eleri: the repeat
    assert reasons["Eleri Griffiths"][0] == "invalid-row"
    assert reasons["Iolo Morgan"][0] == Reason.NO_LANGUAGE_SLOT
    assert reasons["Megan Roberts"][0] == Reason.NO_DEPARTMENT_SLOT
    assert reasons["Gareth Evans"][0] == Reason.NO_SLOT_IN_WINDOW
    assert reasons["Ceri Powell"][0] == reasons["Mari Jenkins"][0] == Reason.ALL_FULL
    assert reasons["Bethan Lloyd"][0] == "invalid-row"
    assert "not a valid email address" in reasons["Bethan Lloyd"][1]

    rows = list(book["Slots"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    used = {r[0]: dict(zip(header, r, strict=True)) for r in body}
    assert sum(r["Used"] or 0 for r in used.values()) == 22
    assert all((r["Used"] or 0) <= (r["Capacity"] or 0) for r in used.values())
    assert "not a whole number" in str(used[23]["Problem"])


def test_interpreter_first_places_the_polish_speaker(tmp_path: Path) -> None:
    report = plan_sample(tmp_path, Strategy.INTERPRETER_FIRST)
    placed = {report.claimants.details[p.claimant.id].claimant.name for p in report.plan.placements}
    assert "Mari Jenkins" in placed
    assert len(placed) == 22


def test_a_csv_cannot_hold_both_sheets(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("Name\nAnn\n")
    with pytest.raises(InputError, match="--slots"):
        allocate(AllocateRequest(path, tmp_path / "p.xlsx"), Settings(), now=NOW)


# ---------------------------------------------------------------- template


def test_allocate_template_matches_the_checked_in_one(tmp_path: Path) -> None:
    write_template(tmp_path / "a.xlsx", "allocate", IntakeSettings())
    generated = snapshot(load_workbook(tmp_path / "a.xlsx"))
    assert generated == snapshot(load_workbook(CHECKED_IN / "allocate.xlsx")), REGENERATE


def test_allocate_template_sheets_and_instructions(tmp_path: Path) -> None:
    write_template(tmp_path / "a.xlsx", "allocate", IntakeSettings())
    book = load_workbook(tmp_path / "a.xlsx")
    assert book.sheetnames == ["Claimants", "Slots", "Instructions"]
    alternatives = ("appointment_date", "appointment_time")
    assert [c.value for c in book["Slots"][1]] == [
        f.header for f in SLOT_FIELDS if f.name not in alternatives
    ]
    assert [c.value for c in book["Claimants"][1]] == [f.header for f in CLAIMANT_FIELDS]
    rows = {r[0]: r for r in book["Instructions"].iter_rows(values_only=True) if r[0]}
    assert "Slots sheet" in rows and "Claimants sheet" in rows
    assert rows["Capacity"][3] == "Optional. A whole number from 1 to 1000. Blank: 1."
    assert "Not before the earliest date" in rows["Latest date"][3]


def test_a_filled_in_allocate_template_plans_clean(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    write_template(path, "allocate", SETTINGS)
    book = load_workbook(path)
    values = {"Claimant name": "Ann Lee", "Department": "Benefits", "Earliest date": "01/12/2026"}
    slot = {"Start": "02/12/2026 10:00", "Department": "Benefits", "Capacity": 1}
    for sheet, filled in (("Claimants", values), ("Slots", slot)):
        ws = book[sheet]
        for col, cell in enumerate(ws[1], start=1):
            ws.cell(row=2, column=col, value=filled.get(str(cell.value)))
    book.save(path)

    report = allocate(
        AllocateRequest(path, tmp_path / "p.xlsx"), Settings(intake=SETTINGS), now=NOW
    )

    assert report.issues == () and report.exit_code == 0
    assert [p.slot.local for p in report.plan.placements] == [datetime(2026, 12, 2, 10, 0)]
