"""Words the page shows for a job's state and a row's outcome, in the reader's language.

The stored values stay the stable English names (the database, summary.json, the CSV); only
what a person reads is translated. The English labels are the names with spaces.
"""

from __future__ import annotations

from batch_scheduler.i18n import LazyString, lazy_gettext

STATES: dict[str, LazyString] = {
    "checking": lazy_gettext("checking"),
    "refused": lazy_gettext("refused"),
    "checked": lazy_gettext("checked"),
    "queued": lazy_gettext("queued"),
    "running": lazy_gettext("running"),
    "finished": lazy_gettext("finished"),
    "stopped": lazy_gettext("stopped"),
}
OUTCOMES: dict[str, LazyString] = {
    "created": lazy_gettext("created"),
    "already_exists": lazy_gettext("already exists"),
    "cancelled": lazy_gettext("cancelled"),
    "already_cancelled": lazy_gettext("already cancelled"),
    "nothing_to_cancel": lazy_gettext("nothing to cancel"),
    "conflict": lazy_gettext("conflict"),
    "invalid": lazy_gettext("invalid"),
    "rejected": lazy_gettext("rejected"),
    "failed": lazy_gettext("failed"),
    "not_attempted": lazy_gettext("not attempted"),
    "would_create": lazy_gettext("would create"),
    "would_cancel": lazy_gettext("would cancel"),
    "valid": lazy_gettext("valid"),
}


def state_label(value: str) -> str:
    return str(STATES.get(value, value))


def outcome_label(value: str) -> str:
    label = OUTCOMES.get(value)
    return str(label) if label is not None else value.replace("_", " ")
