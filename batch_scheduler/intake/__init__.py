"""Intake: a file -> a RawTable (every cell as given, every row numbered as Excel shows it).

Takes a path and the sheet's kind (a models.SheetKind: book, cancel, claimants, slots);
returns a `models.RawTable` carrying the issues found on the way (hidden rows, merged cells,
control characters...), or raises InputError when the file cannot be used at all, which
includes a sheet without a column its kind requires (checked here, and only here). The
format is decided by the file's bytes, never its name. Values are not parsed here: that is
validate's. The columns it looks for are batch_scheduler.columns'.

    table.py             read_table: bytes -> format -> grid -> RawTable
    guard.py             is this zip a whole, safe xlsx (sizes, zip bombs, encryption)
    xlsx.py              the xlsx half: which sheet, and its cells (calamine); sheet_names
    sheet_xml.py         what calamine cannot see: error values, uncalculated formulas,
                         hidden rows and columns, merged cells (the sheet's XML)
    delimited.py         CSV text -> grid (delimiter, quotes, one-column files)
    encoding.py          which encoding a CSV is in; refuses a wrong reading
    grids.py             grids of cells, their headers and columns
    headers.py           the header row, and headers -> fields (aliases, near misses,
                         the required columns)
    previous_results.py  our own results workbook read back as input (cancel from results)
"""

from batch_scheduler.intake.previous_results import NEVER_BOOKED, previous_outcomes
from batch_scheduler.intake.table import read_table
from batch_scheduler.intake.xlsx import sheet_names

__all__ = ["NEVER_BOOKED", "previous_outcomes", "read_table", "sheet_names"]
