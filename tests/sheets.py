"""Builders for input sheets used across tests. Dates come from a clock the test pins."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook

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


def cli_env(folder: Path, config: str) -> dict[str, str]:
    """Write `config` to folder/config.toml; the environment a CLI test runs with (static
    token, a private state directory, "now" pinned to NOW)."""
    (folder / "config.toml").write_text(config)
    return {
        "BATCH_SCHEDULER_TOKEN": "sandbox-token",
        "BATCH_SCHEDULER_STATE_DIR": str(folder / "state"),
        "BATCH_SCHEDULER_NOW": NOW.isoformat(),
    }
