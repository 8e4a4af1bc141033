"""Our own result columns: their names, and telling them apart in a sheet's headers.

A results workbook of `book` is a valid `cancel` input: the input's columns (each at its own
letter), then source_row and ours (older ones put source_row first). It is recognised by the
set of our core column names (not by where they stand), and the last `outcome` column starts
our block: the columns of an earlier run echoed as input come first. When a results workbook
is itself the input, its result columns are echoed with a `previous_` prefix, so no header is
written twice. Our columns are known by their names in either language: a Welsh results
workbook heads them in Welsh (i18n/welsh_input.py's RESULT_HEADERS).
"""

from __future__ import annotations

from collections.abc import Sequence

from batch_scheduler.columns.fields import fold_label
from batch_scheduler.i18n.welsh_input import RESULT_HEADERS

SOURCE_ROW = "source_row"
# The links come last: they are for clicking, not for paper, so the sheet prints up to
# `attempts` (a link cannot wrap, and its 80 characters would shrink the whole page).
RESULT_COLUMNS: tuple[str, ...] = (
    "outcome",
    "reference",
    "appointment_id",
    "status",
    "appointment_at_utc",
    "error",
    "attempts",
    "meeting_url",
)
HOST_COLUMN = "host_url"
PREVIOUS = "previous_"
_OURS = (SOURCE_ROW, *RESULT_COLUMNS, HOST_COLUMN)


def _names(column: str) -> frozenset[str]:
    """A result column's folded names: its own, and its Welsh header."""
    return frozenset({fold_label(column), fold_label(RESULT_HEADERS[column])})


# The names that make a sheet one of our results sheets (a trimmed copy may lack the others).
_CORE = tuple(_names(n) for n in (SOURCE_ROW, "outcome", "reference", "appointment_id", "status"))
_OUTCOME = _names("outcome")
_SHOWN_OURS = frozenset(name for column in _OURS for name in (column, RESULT_HEADERS[column]))


def results_start(headers: Sequence[str]) -> int | None:
    """Where our columns start (the last `outcome`) if these are a results sheet's headers,
    in either language."""
    folded = [fold_label(h) for h in headers]
    present = set(folded)
    if not all(names & present for names in _CORE):
        return None
    return max(i for i, name in enumerate(folded) if name in _OUTCOME)


def echoed_headers(headers: Sequence[str]) -> tuple[str, ...]:
    """The input's headers as the Results sheet echoes them. When the input is a results
    workbook, each of its result columns gets `previous_` in front (again, until unique), so
    the Results sheet never shows a header twice; any other input is echoed as it is."""
    if results_start(headers) is None:
        return tuple(headers)
    taken = {*headers, *_SHOWN_OURS}
    shown = []
    for header in headers:
        name = header
        if name.strip() in _SHOWN_OURS:
            while name in taken:
                name = PREVIOUS + name.strip()
            taken.add(name)
        shown.append(name)
    return tuple(shown)
