"""Words the page shows for a job's state, a row's outcome and the plan's counts, in the
reader's language.

The stored values stay the stable English names (the database, summary.json, the CSV); only
what a person reads is translated. Outcomes and counts are the library's words (the same
as the workbooks'); the English labels are the names with spaces.
"""

from __future__ import annotations

from batch_scheduler.i18n import LazyString, lazy_gettext
from batch_scheduler.web import pipeline_bridge as bridge

STATES: dict[str, LazyString] = {
    "checking": lazy_gettext("checking"),
    "refused": lazy_gettext("refused"),
    "checked": lazy_gettext("checked"),
    "queued": lazy_gettext("queued"),
    "running": lazy_gettext("running"),
    "finished": lazy_gettext("finished"),
    "stopped": lazy_gettext("stopped"),
}


def state_label(value: str) -> str:
    return str(STATES.get(value, value))


def outcome_label(value: str) -> str:
    """The outcome as the results workbook shows it, with spaces for underscores (English:
    "already exists"; Welsh: "wedi'i drefnu eisoes")."""
    return bridge.outcome_word(value).replace("_", " ")


def plan_label(key: str) -> str:
    """A count of the allocation's plan, as its Summary sheet labels it ("unplaced:
    no-language-slot" -> "heb le: no-language-slot")."""
    return bridge.summary_label(key).replace("_", " ")
