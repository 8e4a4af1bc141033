"""The codes of what allocation and sending find beyond a cell's value: the allocation's
window and repeated claimants, the account's references, and the API's refusals."""

from __future__ import annotations

from batch_scheduler.i18n import N_
from batch_scheduler.issues.code import Code, E

ALLOCATION_TABLE: tuple[Code, ...] = (
    Code(
        "window-reversed",
        E,
        N_(
            "The latest date {latest} is before the earliest date {earliest}, so no day fits. "
            "Swap them, or correct one of them."
        ),
    ),
    Code(
        "duplicate-claimant",
        E,
        N_(
            "This claimant (same name and date of birth, no reference) is already listed in "
            "{others}, so they "
            "would get two appointments. Remove the repeat, or give each row its own reference if "
            "they really are two people."
        ),
    ),
)


# Codes of what a run finds on the account, not in a cell's value (book; see send/matching.py),
# or of what the API refused.
RUN_TABLE: tuple[Code, ...] = (
    Code(
        "api-rejected",
        E,
        N_("The API refused this value: {details}"),
        {"details": ""},  # the API's own sentences: a default, so they are never shortened
    ),
    Code(
        "reference-cancelled",
        E,
        N_(
            "The reference “{value}” is already used by a cancelled appointment (on {when}, id "
            "{id}), so this row was not booked. Give this row a new reference (e.g. “{value}-2”) "
            "and run again."
        ),
    ),
    Code(
        "reference-in-use",
        E,
        N_(
            "The reference “{value}” is already used by another appointment (id {id}: "
            "{differences}), so this row was not booked. Give this row a new reference and run "
            "again; or, if that appointment is the one to move, change it on the platform."
        ),
    ),
)
