"""Input sheets built for tests, and written workbooks read back. Dates come from a clock
the test pins (NOW)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook

# The instant every end-to-end test treats as "now" (passed to the CLI via BATCH_SCHEDULER_NOW).
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
BOOK_HEADERS = (
    "Reference",
    "Claimant name",
    "Appointment",
    "Phone",
    "Email",
    "Interpreter needed?",
    "Interpreter language",
    "Department",
    "Notes",
)


def slot(index: int, now: datetime = NOW) -> datetime:
    """A naive London wall-clock time: weekdays from 3 days after `now`, 10:00-15:30 in 30 min."""
    day = (now + timedelta(days=3 + index // 12)).date()
    minutes = 10 * 60 + (index % 12) * 30
    return datetime(day.year, day.month, day.day, minutes // 60, minutes % 60)


def book_row(index: int, *, now: datetime = NOW, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "Reference": f"REF-{index:05d}",
        "Claimant name": f"Claimant {index}",
        "Appointment": slot(index, now),
        "Phone": f"07400 900{index % 1000:03d}",
        "Email": f"person{index}@example.org",
        "Interpreter needed?": "no",
        "Interpreter language": None,
        "Department": "Benefits",
        "Notes": f"=note {index}" if index % 7 == 0 else f"note {index}",
    }
    row.update(changes)
    return row


def write_xlsx(
    path: Path, rows: Sequence[dict[str, Any]], headers: Sequence[str] = BOOK_HEADERS
) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(headers))
    for row in rows:
        sheet.append([row.get(h) for h in headers])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # keep "=note" as text, as a person typing '=... would
    workbook.save(path)
    return path


def book_sheet(path: Path, count: int, *, now: datetime = NOW, start: int = 0) -> Path:
    return write_xlsx(path, [book_row(i, now=now) for i in range(start, start + count)])


def sheet_rows(
    path: Path, sheet: str = "Results", *, read_only: bool = False
) -> list[dict[str, Any]]:
    """A written workbook's sheet as one {header: value} dict per row under the header."""
    rows = list(load_workbook(path, read_only=read_only)[sheet].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
