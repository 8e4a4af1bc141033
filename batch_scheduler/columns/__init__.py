"""Columns: the names every stage shares, so none of them owns another's vocabulary.

The input sheets' columns (fields: canonical names, accepted headers, meaning, examples),
read by intake, checked by validate, written by the templates and the plan; our results'
columns, written by output and read back by intake (cancel from results); the API's names
for the fields; and Excel's column letters. Data and small pure functions only.

    fields.py     Field, Kind, the field list of each SheetKind (English and Welsh headers),
                  fold_label (header matching)
    results.py    our result columns' names; where they start in a sheet's headers
    api_names.py  the API's name for each field, in both body formats
    letters.py    column letters <-> indexes
"""

from batch_scheduler.columns.api_names import API_NAMES, OPTION_FIELDS, field_named
from batch_scheduler.columns.fields import (
    BOOK_FIELDS,
    CANCEL_FIELDS,
    CLAIMANT_FIELDS,
    FEATURE_FLAGS,
    SLOT_FIELDS,
    Field,
    Kind,
    fields_for,
    fold_label,
)
from batch_scheduler.columns.letters import column_index, column_letter
from batch_scheduler.columns.results import (
    HOST_COLUMN,
    RESULT_COLUMNS,
    SOURCE_ROW,
    echoed_headers,
    results_start,
)

__all__ = [
    "API_NAMES",
    "BOOK_FIELDS",
    "CANCEL_FIELDS",
    "CLAIMANT_FIELDS",
    "FEATURE_FLAGS",
    "HOST_COLUMN",
    "OPTION_FIELDS",
    "RESULT_COLUMNS",
    "SLOT_FIELDS",
    "SOURCE_ROW",
    "Field",
    "Kind",
    "column_index",
    "column_letter",
    "echoed_headers",
    "field_named",
    "fields_for",
    "fold_label",
    "results_start",
]
