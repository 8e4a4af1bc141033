"""The xlsx half of reading: which sheet, and its cells as a grid (calamine + the sheet XML).

calamine reads the values, several times faster than openpyxl; what it cannot see (error
values, formulas never calculated, hidden rows, merged cells) comes from the sheet's XML
(sheet_xml.py), read in parallel. The zip itself was checked first (guard.py).
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
from defusedxml import DefusedXmlException
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from batch_scheduler.errors import InputError
from batch_scheduler.intake.grids import as_grid
from batch_scheduler.intake.guard import SAVE_AS
from batch_scheduler.intake.sheet_xml import SheetNotes, SheetXmlUnreadable, cell_fixes
from batch_scheduler.models import SheetKind

_RESULTS_SHEET = "Results"


def xlsx_grid(
    name: str, data: bytes, sheet: str | None, kind: SheetKind
) -> tuple[np.ndarray, tuple[int, int], str, SheetNotes]:
    """The sheet's used range as a 2-D object array ('' for empty), its top-left cell, its
    name, and what its XML says beyond the values (formulas, hidden rows, merged cells)."""
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet_name = _choose_sheet(name, book, sheet, kind)
        # calamine loses error values (#N/A) and cannot tell a missing cached formula value;
        # the few cells concerned are found in the sheet XML, in parallel with calamine.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(cell_fixes, data, sheet_name)
            worksheet = book.get_sheet_by_name(sheet_name)
            rows = worksheet.to_python(skip_empty_area=True)
            start = worksheet.start or (0, 0)
            merged = tuple(worksheet.merged_cell_ranges or ())
            try:
                fixes, notes = pending.result()
            except SheetXmlUnreadable as exc:  # calamine read the values; say what was not checked
                fixes, notes = [], SheetNotes(unchecked=str(exc) or "unreadable")
    except CalamineError:
        raise InputError(f"{name} could not be read as an Excel workbook. {SAVE_AS}") from None
    except DefusedXmlException:
        raise InputError(f"{name} contains unsafe XML (entity declarations). {SAVE_AS}") from None
    grid = as_grid(rows)
    for row, col, value in fixes:
        r, c = row - start[0], col - start[1]
        if 0 <= r < grid.shape[0] and 0 <= c < grid.shape[1]:
            grid[r, c] = value
    hidden = _hidden_sheets_before(book, sheet_name) if sheet is None else ()
    return grid, start, sheet_name, replace(notes, merged=merged, hidden_sheets=hidden)


def _hidden_sheets_before(book: CalamineWorkbook, chosen: str) -> tuple[str, ...]:
    """The hidden worksheets that come before the one read by default."""
    passed = []
    for meta in book.sheets_metadata:
        if meta.name == chosen:
            break
        if meta.visible != SheetVisibleEnum.Visible and meta.typ == SheetTypeEnum.WorkSheet:
            passed.append(meta.name)
    return tuple(passed)


def _choose_sheet(name: str, book: CalamineWorkbook, sheet: str | None, kind: SheetKind) -> str:
    """`sheet` (exact, else ignoring case), else Results for a cancel, else the first one."""
    names = list(book.sheet_names)
    if sheet is not None:
        if sheet in names:
            return sheet
        folded = [n for n in names if n.strip().casefold() == sheet.strip().casefold()]
        if len(folded) == 1:
            return folded[0]
        listed = ", ".join(f'"{n}"' for n in names)
        raise InputError(f'{name} has no sheet named "{sheet}". Its sheets are: {listed}.')
    if kind == SheetKind.CANCEL and _RESULTS_SHEET in names:
        return _RESULTS_SHEET
    visible = [
        meta.name
        for meta in book.sheets_metadata
        if meta.visible == SheetVisibleEnum.Visible and meta.typ == SheetTypeEnum.WorkSheet
    ]
    if visible or names:
        return (visible or names)[0]
    raise InputError(f"{name} has no sheets. {SAVE_AS}")
