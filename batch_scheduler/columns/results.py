"""Our own result columns: their names, and telling them apart in a sheet's headers.

A results workbook of `book` is a valid `cancel` input: the input's columns (each at its own
letter), then source_row and ours (older ones put source_row first). It is recognised by the
set of our core column names (not by where they stand), and the last `outcome` column starts
our block: the columns of an earlier run echoed as input come first. When a results workbook
is itself the input, its result columns are echoed with a `previous_` prefix, so no header is
written twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from batch_scheduler.columns.fields import fold_label

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
# The names that make a sheet one of our results sheets (a trimmed copy may lack the others).
_CORE = frozenset(
    fold_label(n) for n in (SOURCE_ROW, "outcome", "reference", "appointment_id", "status")
)
_OUTCOME = fold_label("outcome")


def results_start(headers: Sequence[str]) -> int | None:
    """Where our columns start (the last `outcome`) if these are a results sheet's headers."""
    folded = [fold_label(h) for h in headers]
    if not set(folded) >= _CORE:
        return None
    return len(folded) - 1 - folded[::-1].index(_OUTCOME)


def echoed_headers(headers: Sequence[str]) -> tuple[str, ...]:
    """The input's headers as the Results sheet echoes them. When the input is a results
    workbook, each of its result columns gets `previous_` in front (again, until unique), so
    the Results sheet never shows a header twice; any other input is echoed as it is."""
    if results_start(headers) is None:
        return tuple(headers)
    taken = {*headers, SOURCE_ROW, *RESULT_COLUMNS, HOST_COLUMN}
    shown = []
    for header in headers:
        name = header
        if name.strip() in (SOURCE_ROW, *RESULT_COLUMNS, HOST_COLUMN):
            while name in taken:
                name = PREVIOUS + name.strip()
            taken.add(name)
        shown.append(name)
    return tuple(shown)
