"""Rows as a CSV file that a spreadsheet opens without running anything in it.

A spreadsheet runs a CSV cell as a formula when its text starts with = + - @ (or a tab or
carriage return before one). Such a cell is written with a leading apostrophe (') so it shows
as text, EXCEPT when the whole value is plainly a number or an E.164 phone number
("-12.5", "+442079460123"): those are harmless, and changing them would corrupt phones
and amounts, so they stay byte for byte. Everything else is written as it is.

UTF-8 with a BOM (so Excel reads accents right), comma-separated, quoted where needed,
written atomically and readable by the owner only.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from pathlib import Path

from batch_scheduler.output.atomic import atomic_path
from batch_scheduler.output.xlsx.cells import FORMULA_START, value_kind

# A plain number (optional sign, digits, optional decimals and exponent); this includes
# E.164 phone numbers, "+" then up to 15 digits.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise(text: str) -> str:
    """`text`, with a leading ' when a spreadsheet would run it as a formula."""
    if text and text[0] in FORMULA_START and _PLAIN_NUMBER.fullmatch(text) is None:
        return "'" + text
    return text


def csv_cell(value: object) -> str:
    """A cell's text: numbers plainly, dates as ISO (seconds only if any), text neutralised."""
    if type(value) is str:  # the common cases first
        return neutralise(value)
    if value is None:
        return ""
    kind, shown = value_kind(value)
    if kind is None:
        return ""
    if kind == "str":
        return neutralise(str(shown))
    if kind == "bool":
        return "TRUE" if shown else "FALSE"
    if kind == "num":
        if isinstance(shown, float) and shown.is_integer() and math.fabs(shown) < 1e15:
            return str(int(shown))
        return repr(shown) if isinstance(shown, float) else str(shown)
    return _date_text(kind, shown)  # type: ignore[arg-type]


def _date_text(kind: str, value: datetime | date | time) -> str:
    if isinstance(value, datetime):
        value = value.replace(tzinfo=None)  # the wall clock, as the workbook shows it
        return value.isoformat(sep=" ", timespec="seconds" if kind == "datetime_s" else "minutes")
    if isinstance(value, date):
        return value.isoformat()
    return value.isoformat(timespec="seconds" if kind == "time_s" else "minutes")


def write_csv(path: Path, headers: Sequence[object], rows: Iterable[Sequence[object]]) -> None:
    """Write the header and rows to `path` atomically (0600), every cell through csv_cell."""
    with atomic_path(Path(path)) as temp, temp.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([csv_cell(h) for h in headers])
        writer.writerows([csv_cell(v) for v in row] for row in rows)
