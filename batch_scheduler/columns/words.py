"""What people read for the stable names, in the language in force: our result columns'
headers, outcome and severity words, the Summary's labels, our sheets' names.

Programs read the stable names (the CSV, the JSON, issue codes, the workbooks' defined
names: `defined_name`); people read these words. In English the words of the results
workbook are the stable names themselves, as scripts have always read them (`created`,
`appointment_id`); in Welsh they are the catalogue's (pgettext, context "outcome",
"column", "summary", "sheet"). Each table is looked up once per workbook, never per cell.

Reading back (cancel from a results workbook) accepts the words of every language we have
(`outcome_from_word`), so a workbook written in Welsh is read in either mode.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache, lru_cache

from batch_scheduler.columns.fields import fold_label
from batch_scheduler.i18n import LANGUAGES, pgettext, use_language
from batch_scheduler.models import Outcome, Severity

STABLE_PREFIX = "bs_"  # the workbooks' defined names: bs_outcome, bs_appointment_id, ...
_NOT_NAME = re.compile(r"\W+")


def defined_name(stable: str) -> str:
    """The workbook's defined name marking the cell labelled `stable` ("outcome" ->
    "bs_outcome", "unplaced: no-slot" -> "bs_unplaced_no_slot"): letters, digits and _,
    which Excel, LibreOffice and openpyxl all keep."""
    return STABLE_PREFIX + _NOT_NAME.sub("_", stable).strip("_")


def outcome_words() -> dict[Outcome, str]:
    """Each outcome as a person reads it (English: the stable name)."""
    return {
        Outcome.CREATED: pgettext("outcome", "created"),
        Outcome.ALREADY_EXISTS: pgettext("outcome", "already_exists"),
        Outcome.CANCELLED: pgettext("outcome", "cancelled"),
        Outcome.ALREADY_CANCELLED: pgettext("outcome", "already_cancelled"),
        Outcome.NOTHING_TO_CANCEL: pgettext("outcome", "nothing_to_cancel"),
        Outcome.CONFLICT: pgettext("outcome", "conflict"),
        Outcome.INVALID: pgettext("outcome", "invalid"),
        Outcome.REJECTED: pgettext("outcome", "rejected"),
        Outcome.FAILED: pgettext("outcome", "failed"),
        Outcome.NOT_ATTEMPTED: pgettext("outcome", "not_attempted"),
        Outcome.WOULD_CREATE: pgettext("outcome", "would_create"),
        Outcome.WOULD_CANCEL: pgettext("outcome", "would_cancel"),
        Outcome.VALID: pgettext("outcome", "valid"),
    }


def outcome_word(name: str) -> str:
    """An outcome's word from its stable name (one from another version: the name)."""
    try:
        return outcome_words()[Outcome(name)]
    except ValueError:
        return name


def answer_words() -> tuple[str, str]:
    """(yes, no) as our templates' dropdowns and the plan's Book sheet write them."""
    return pgettext("answer", "Yes"), pgettext("answer", "No")


def severity_words() -> dict[Severity, str]:
    return {
        Severity.ERROR: pgettext("severity", "error"),
        Severity.WARNING: pgettext("severity", "warning"),
    }


def column_headers() -> dict[str, str]:
    """Our columns' headers (Results, Issues, Reasons, the plan's sheets), by stable name."""
    return {
        "source_row": pgettext("column", "source_row"),
        "outcome": pgettext("column", "outcome"),
        "reference": pgettext("column", "reference"),
        "appointment_id": pgettext("column", "appointment_id"),
        "status": pgettext("column", "status"),
        "appointment_at_utc": pgettext("column", "appointment_at_utc"),
        "error": pgettext("column", "error"),
        "attempts": pgettext("column", "attempts"),
        "meeting_url": pgettext("column", "meeting_url"),
        "host_url": pgettext("column", "host_url"),
        "column": pgettext("column", "column"),
        "header": pgettext("column", "header"),
        "value": pgettext("column", "value"),
        "code": pgettext("column", "code"),
        "severity": pgettext("column", "severity"),
        "message": pgettext("column", "message"),
        "reason": pgettext("column", "reason"),
        "sheet": pgettext("column", "sheet"),
    }


def sheet_titles() -> dict[str, str]:
    """Our sheets' names, by their stable (English) name."""
    return {
        "Results": pgettext("sheet", "Results"),
        "Summary": pgettext("sheet", "Summary"),
        "Issues": pgettext("sheet", "Issues"),
        "Rows to fix": pgettext("sheet", "Rows to fix"),
        "Reasons": pgettext("sheet", "Reasons"),
        "Book": pgettext("sheet", "Book"),
        "Cancel": pgettext("sheet", "Cancel"),
        "Claimants": pgettext("sheet", "Claimants"),
        "Slots": pgettext("sheet", "Slots"),
        "Unplaced": pgettext("sheet", "Unplaced"),
        "Instructions": pgettext("sheet", "Instructions"),
        "Lists": pgettext("sheet", "Lists"),
    }


def summary_labels() -> dict[str, str]:
    """The Summary's labels (a run's and a plan's), by key; English: the key itself."""
    return {
        "command": pgettext("summary", "command"),
        "tool_version": pgettext("summary", "tool_version"),
        "input_file": pgettext("summary", "input_file"),
        "input_sha256": pgettext("summary", "input_sha256"),
        "sheet": pgettext("summary", "sheet"),
        "rows_read": pgettext("summary", "rows_read"),
        "started_at": pgettext("summary", "started_at"),
        "finished_at": pgettext("summary", "finished_at"),
        "duration_seconds": pgettext("summary", "duration_seconds"),
        "dry_run": pgettext("summary", "dry_run"),
        "interrupted": pgettext("summary", "interrupted"),
        "stopped_because": pgettext("summary", "stopped_because"),
        "options": pgettext("summary", "options"),
        "base_url_host": pgettext("summary", "base_url_host"),
        "requests_sent": pgettext("summary", "requests_sent"),
        "achieved_rate_per_second": pgettext("summary", "achieved_rate_per_second"),
        "strategy": pgettext("summary", "strategy"),
        "claimants": pgettext("summary", "claimants"),
        "placed": pgettext("summary", "placed"),
        "unplaced": pgettext("summary", "unplaced"),
        "slot_rows": pgettext("summary", "slot_rows"),
        "usable_slots": pgettext("summary", "usable_slots"),
        "places": pgettext("summary", "places"),
        "places_used": pgettext("summary", "places_used"),
    }


def summary_label(key: str, labels: Mapping[str, str] | None = None) -> str:
    """A Summary key as people read it; "unplaced: no-slot" keeps its code after the label;
    a key we have no word for is shown as it is."""
    labels = summary_labels() if labels is None else labels
    head, colon, code = key.partition(": ")
    return f"{labels.get(head, head)}{colon}{code}" if colon else labels.get(key, key)


# ---------------------------------------------------------------- read back


@lru_cache(maxsize=1024)  # a column holds a dozen different words, many times over
def outcome_from_word(text: object) -> Outcome | None:
    """The outcome a results workbook's cell names, in any language we have (its stable
    name, or its word: "created", "wedi'i drefnu"); None for anything else."""
    return _outcomes_by_word().get(fold_label(text))


@cache
def _outcomes_by_word() -> dict[str, Outcome]:
    found = {fold_label(outcome.value): outcome for outcome in Outcome}
    for language in LANGUAGES:
        with use_language(language):
            found |= {fold_label(word): outcome for outcome, word in outcome_words().items()}
    return found
