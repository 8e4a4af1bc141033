"""Validate: a RawTable -> API-ready requests, and an issue for every problem found.

Takes a RawTable (from intake) and the intake settings (time zone, departments, "now" for
book sheets); returns a BookValidation or CancelValidation: the requests of the valid rows
by their position, and `models.Issue`s (stable codes, plain words) for every problem.
Nothing here raises for a bad row: problems in rows are data.

    schema.py     the pandera schema of each kind + cross-field rules -> requests + issues
                  (and describe_rules: the template's "Allowed values" text)
    normalise.py  cells -> API-ready values: dates and time zones, phones, emails, booleans,
                  integers, departments, URLs (each distinct value parsed once)
    datetimes.py  why a date or time could not be read, in words
    mojibake.py   names garbled by another program's wrong decoding, and the intended text
"""

from batch_scheduler.validate.schema import (
    REFERENCE_PREFIX,
    BookValidation,
    CancelValidation,
    describe_rules,
    validate_book,
    validate_cancel,
)

__all__ = [
    "REFERENCE_PREFIX",
    "BookValidation",
    "CancelValidation",
    "describe_rules",
    "validate_book",
    "validate_cancel",
]
