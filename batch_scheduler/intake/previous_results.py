"""Our own results workbook read back as input: each row's outcome (cancel from results).

Which columns are ours is columns/results.py's to say (by the stable names the workbook's
defined names give them, else by their headers in either language); this reads their
values, written in either language (columns/words.py: "created", "wedi'i drefnu").
"""

from __future__ import annotations

from batch_scheduler.columns import results_start
from batch_scheduler.columns.words import outcome_from_word
from batch_scheduler.models import Outcome, RawTable

# Outcomes of rows that booked nothing: cancelling them has nothing to do.
NEVER_BOOKED = frozenset(
    {
        Outcome.INVALID,
        Outcome.REJECTED,
        Outcome.FAILED,
        Outcome.NOT_ATTEMPTED,
        Outcome.CONFLICT,
        Outcome.NOTHING_TO_CANCEL,
    }
)


def previous_outcomes(table: RawTable) -> dict[int, Outcome]:
    """Each row's outcome in the results workbook given as input (none for other sheets)."""
    start = results_start(table.labels)
    if start is None:
        return {}
    values = table.frame[table.keys[start]].tolist()
    found = {pos: outcome_from_word(value) for pos, value in enumerate(values)}
    return {pos: outcome for pos, outcome in found.items() if outcome is not None}
