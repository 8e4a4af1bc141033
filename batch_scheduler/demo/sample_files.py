"""Write sample rows as ops' files would hold them: xlsx with real date cells and text
phones, or CSV the way Excel saves one (day-first dates, big numbers in scientific notation).
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

Cell = str | int | float | bool | date | datetime | None
Sheet = tuple[tuple[str, ...], list[dict[str, Cell]]]  # headers, rows


def _csv_cell(value: Cell) -> str:
    """What Excel would write when saving as CSV (day-first dates, 11-digit floats)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        return f"{value:.11E}" if abs(value) >= 1e11 else f"{value:g}"
    return str(value)


def write_csv(path: Path, headers: tuple[str, ...], rows: list[dict[str, Cell]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows([_csv_cell(row.get(h)) for h in headers] for row in rows)
    return path


def write_xlsx(path: Path, headers: tuple[str, ...], rows: list[dict[str, Cell]]) -> Path:
    """An xlsx as ops would type it: real date cells, text phones, the odd number cell."""
    return write_sheets(path, {"Appointments": (headers, rows)})


def write_sheets(path: Path, sheets: dict[str, Sheet]) -> Path:
    """A workbook with one sheet per entry, each written like `write_xlsx`."""
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"created": datetime(2026, 11, 25, 9, 0)})  # reproducible bytes
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7"})
    formats: dict[type, Format] = {
        datetime: book.add_format({"num_format": "dd/mm/yyyy hh:mm"}),
        date: book.add_format({"num_format": "dd/mm/yyyy"}),
    }
    for name, (headers, rows) in sheets.items():
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, headers, bold)
        for r, row in enumerate(rows, start=1):
            for c, header in enumerate(headers):
                _write_cell(sheet, r, c, row.get(header), formats)
        sheet.set_column(0, len(headers) - 1, 16)
        sheet.freeze_panes(1, 0)
    book.close()
    return path


def _write_cell(sheet: Worksheet, r: int, c: int, value: Cell, formats: dict[type, Format]) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(r, c, value)
    elif isinstance(value, datetime):
        sheet.write_datetime(r, c, value, formats[datetime])
    elif isinstance(value, date):
        sheet.write_datetime(r, c, value, formats[date])
    elif isinstance(value, int | float):
        sheet.write_number(r, c, value)
    else:
        sheet.write_string(r, c, value)  # never a formula, even if it starts with "="
