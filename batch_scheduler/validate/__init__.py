"""Validate: a RawTable -> API-ready requests, and an issue for every problem found.

Takes a RawTable (from intake) and the intake settings (time zone, departments, "now" for
book sheets); returns a BookValidation or CancelValidation: the requests of the valid rows
by their frame position, and `models.Issue`s (stable codes, plain words) for every problem.
Nothing here raises for a bad row: problems in rows are data.

    book.py           book sheets: the pandera schema, the checks in order, the requests
    cancel.py         cancel sheets: the same for cancellations
    readers.py        the column checks: one field read into values, its problems recorded
    cells.py          the shared machinery: cells by kind, each distinct value parsed once
    datetimes.py      dates, times, time zones;  date_problems.py: why one could not be read
    contacts.py       phones and emails
    values.py         whole numbers, yes/no, choices, free text, URLs, ids, departments
    mojibake.py       names garbled by another program's wrong decoding
    checks.py         running a pandera schema; its checks read back as words
    rules.py          the cross-field rules (interpreter, redirects, repeated rows)
    references.py     the one reference identity (a row given no reference)
    requests.py       normalised values -> AppointmentRequest
    sheet.py          where things are: fields -> cells, issues on them; cell_of (422s)
    notes.py          the template's "Allowed values" text, from the same checks

The allocation sheets (allocate/sheets.py) are checked with the same building blocks:
FieldReader and its Found, the schema's checks, the rules and the requests.
"""

from batch_scheduler.validate.book import BookValidation, validate_book
from batch_scheduler.validate.cancel import CancelValidation, validate_cancel
from batch_scheduler.validate.notes import describe_rules
from batch_scheduler.validate.references import REFERENCE_PREFIX, claimant_reference
from batch_scheduler.validate.sheet import SheetCell, cell_of

__all__ = [
    "REFERENCE_PREFIX",
    "BookValidation",
    "CancelValidation",
    "SheetCell",
    "cell_of",
    "claimant_reference",
    "describe_rules",
    "validate_book",
    "validate_cancel",
]
