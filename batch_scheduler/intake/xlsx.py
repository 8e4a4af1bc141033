"""The xlsx half of reading: which sheet, and its cells as a grid (calamine + the sheet XML).

calamine reads the values, several times faster than openpyxl; what it cannot see (error
values, formulas never calculated, hidden rows, merged cells) comes from the sheet's XML
(sheet_xml.py), read in parallel. The zip itself was checked first (guard.py).
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
from defusedxml import DefusedXmlException
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from batch_scheduler.errors import InputError
from batch_scheduler.i18n import N_, _
from batch_scheduler.i18n.welsh_input import SHEET_NAMES
from batch_scheduler.intake.grids import as_grid
from batch_scheduler.intake.guard import UNSAFE_XML, ZIP_MAGIC, save_again
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
        unread = N_("{name} could not be read as an Excel workbook.")
        raise save_again(unread, name=name) from None
    except DefusedXmlException:
        raise save_again(UNSAFE_XML, name=name) from None
    grid = as_grid(rows)
    for row, col, value in fixes:
        r, c = row - start[0], col - start[1]
        if 0 <= r < grid.shape[0] and 0 <= c < grid.shape[1]:
            grid[r, c] = value
    hidden = _hidden_sheets_before(book, sheet_name) if sheet is None else ()
    return grid, start, sheet_name, replace(notes, merged=merged, hidden_sheets=hidden)


def sheet_names(path: Path) -> list[str]:
    """The visible worksheets of a file that read_table has let in (to offer another); [] when
    it is not a workbook. Like read_table, the file's bytes decide, not its name."""
    with Path(path).open("rb") as handle:
        if handle.read(len(ZIP_MAGIC)) != ZIP_MAGIC:
            return []
    return _visible(CalamineWorkbook.from_path(str(path)))


def _visible(book: CalamineWorkbook) -> list[str]:
    """The workbook's visible worksheets, in order (no chart sheets, no hidden ones)."""
    return [
        meta.name
        for meta in book.sheets_metadata
        if meta.visible == SheetVisibleEnum.Visible and meta.typ == SheetTypeEnum.WorkSheet
    ]


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
    """`sheet` (exact, else ignoring case; one of ours also by its Welsh name: "Claimants"
    finds "Hawlwyr"), else Results (or Canlyniadau) for a cancel, else the first one."""
    names = list(book.sheet_names)
    if sheet is not None:
        for wanted in (sheet, *SHEET_NAMES.get(sheet, ())):
            found = _sheet_named(names, wanted)
            if found is not None:
                return found
        listed = ", ".join(f'"{n}"' for n in names)
        also = "".join(f' / "{n}"' for n in SHEET_NAMES.get(sheet, ()))
        missing = _('{name} has no sheet named "{sheet}"{also}. Its sheets are: {listed}.')
        raise InputError(missing.format(name=name, sheet=sheet, also=also, listed=listed))
    results = [n for n in (_RESULTS_SHEET, *SHEET_NAMES[_RESULTS_SHEET]) if n in names]
    if kind == SheetKind.CANCEL and results:
        return results[0]
    visible = _visible(book)
    if visible or names:
        return (visible or names)[0]
    raise save_again(N_("{name} has no sheets."), name=name)


def _sheet_named(names: list[str], wanted: str) -> str | None:
    """The sheet called `wanted`: exactly, else the only one so called ignoring case."""
    if wanted in names:
        return wanted
    folded = [n for n in names if n.strip().casefold() == wanted.strip().casefold()]
    return folded[0] if len(folded) == 1 else None
