"""Intake: a file -> a RawTable (every cell as given, every row numbered as Excel shows it).

Takes a path and the sheet's kind (book, cancel, claimants, slots); returns a
`models.RawTable` carrying the issues found on the way (hidden rows, merged cells, control
characters...), or raises InputError when the file cannot be used at all. The format is
decided by the file's bytes, never its name. Values are not parsed here: that is validate's.

    table.py             read_table: bytes -> format -> grid -> RawTable
    guard.py             is this zip a whole, safe xlsx (sizes, zip bombs, encryption)
    xlsx.py              the xlsx half: which sheet, and its cells (calamine); sheet_names
    sheet_xml.py         what calamine cannot see: error values, uncalculated formulas,
                         hidden rows and columns, merged cells (the sheet's XML)
    delimited.py         CSV text -> grid (delimiter, quotes, one-column files)
    encoding.py          which encoding a CSV is in; refuses a wrong reading
    grids.py             grids of cells, their headers and columns, column letters
    headers.py           the header row, and headers -> fields (aliases, near misses)
    fields.py            the columns: canonical names, aliases, meaning, examples
    previous_results.py  our own results workbook read back as input (cancel from results)

The column vocabulary (fields.py) and our results' column names (previous_results.py) are
shared with the later stages, so they are on this face too.
"""

from batch_scheduler.intake.fields import (
    BOOK_FIELDS,
    CANCEL_FIELDS,
    CLAIMANT_FIELDS,
    FEATURE_FLAGS,
    SLOT_FIELDS,
    Field,
    Kind,
    fields_for,
    fold_header,
)
from batch_scheduler.intake.grids import column_index, column_letter
from batch_scheduler.intake.previous_results import (
    HOST_COLUMN,
    NEVER_BOOKED,
    RESULT_COLUMNS,
    SOURCE_ROW,
    echoed_headers,
    previous_outcomes,
)
from batch_scheduler.intake.table import read_table
from batch_scheduler.intake.xlsx import sheet_names

__all__ = [
    "BOOK_FIELDS",
    "CANCEL_FIELDS",
    "CLAIMANT_FIELDS",
    "FEATURE_FLAGS",
    "HOST_COLUMN",
    "NEVER_BOOKED",
    "RESULT_COLUMNS",
    "SLOT_FIELDS",
    "SOURCE_ROW",
    "Field",
    "Kind",
    "column_index",
    "column_letter",
    "echoed_headers",
    "fields_for",
    "fold_header",
    "previous_outcomes",
    "read_table",
    "sheet_names",
]
