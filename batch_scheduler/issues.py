"""Every issue code and its message template, in one place.

Codes are stable (scripts and the Summary sheet count them); messages are plain sentences a
person fixing the sheet can act on. A message never says where the cell is: `Issue.__str__`
adds "Row 14, column C (Appointment): " in front. Templates take named values with
`str.format`; callers pass only what the template names. A placeholder left out reads as
nothing, or as the code's default for it (`Code.defaults`): e.g. the general advice of a date
message, which a caller replaces when it can say exactly what is wrong.

Templates and defaults are written in English and translated when an issue is made, into the
current language (i18n): each is looked up once, then formatted for every cell it is about.
The words callers pass for placeholders (a reason, a row list) are in that language too. The
codes, severities and fields never change with the language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from batch_scheduler.i18n import N_, _
from batch_scheduler.models import Issue, Severity


@dataclass(frozen=True)
class Code:
    code: str
    severity: Severity
    template: str
    defaults: Mapping[str, str] = field(default_factory=dict)  # placeholders left out


_E = Severity.ERROR
_W = Severity.WARNING

# How a phone number came to lose its leading 0: phone-mangled's {cause}, by the cell's shape.
PHONE_MANGLED_CAUSES = {
    "number": N_(
        "Excel turned this phone number into a number, which drops the leading 0 (and a +)."
    ),
    "scientific": N_(
        "Excel turned this phone number into a number and showed it in scientific "
        "notation, which drops the leading 0 and can lose digits."
    ),
    "digits": N_(
        "This phone number has lost its leading 0 (or +): it was stored as a number, in "
        "Excel or another program, before it reached this file."
    ),
}

_ALL: tuple[Code, ...] = (
    Code("required", _E, N_("{label} is required but this cell is empty. Fill it in.")),
    Code(
        "invalid-datetime",
        _E,
        N_("“{value}” is not a date and time we can read{why}. {advice}"),
        {"advice": N_("Write it day first, like 03/12/2026 14:30, or as 2026-12-03 14:30.")},
    ),
    Code(
        "nonexistent-local-time",
        _E,
        N_(
            "{local} does not exist in {tz}: the clocks go forward from {gap_start} to {gap_end} "
            "that night. Pick a time outside that hour."
        ),
    ),
    Code(
        "ambiguous-local-time",
        _E,
        N_(
            "{local} happens twice in {tz}, because the clocks go back that night: it could be "
            "{first} or {second}. Use a different time, or write it with an offset, "
            "e.g. {example}."
        ),
    ),
    Code(
        "invalid-time",
        _E,
        N_("“{value}” is not a time of day we can read{why}. {advice}"),
        {"advice": N_("Write it on the 24-hour clock, like 14:30 (or 2:30pm).")},
    ),
    Code(
        "in-past",
        _E,
        N_(
            "The appointment time {local} ({tz}) has already passed. Give a date and time in the "
            "future."
        ),
    ),
    Code(
        "invalid-date",
        _E,
        N_("“{value}” is not a date we can read{why}. {advice}"),
        {"advice": N_("Write it day first, like 14/02/1985, or as 1985-02-14.")},
    ),
    Code(
        "dob-in-future",
        _E,
        N_(
            "The date of birth “{value}” is not in the past{read}. Check the day, month and year "
            "(day first, with all four digits of the year: 14/02/1985)."
        ),
    ),
    Code(
        "invalid-integer",
        _E,
        N_("“{value}” is not a whole number. Write {label} in digits, like 30."),
    ),
    Code("out-of-range", _E, N_("“{value}” is out of range: {rule}. Correct it.")),
    Code(
        "invalid-phone",
        _E,
        N_(
            "“{value}” is not a valid phone number. Write a UK number like 020 7946 0123, or an "
            "international one with its country code, like +33 1 99 00 12 34."
        ),
    ),
    Code(
        "phone-mangled",
        _E,
        N_("{cause}{likely} Format the column as Text and type the number again."),
        {"cause": PHONE_MANGLED_CAUSES["number"]},
    ),
    Code(
        "invalid-email",
        _E,
        N_("“{value}” is not a valid email address: {reason}. Check it, or leave the cell empty."),
        {"reason": N_("it is not in the form name@example.org")},
    ),
    Code(
        "invalid-boolean",
        _E,
        N_("“{value}” is not a yes/no answer. Write Yes or No (or leave it empty for {default})."),
    ),
    Code(
        "not-in-list",
        _E,
        N_("“{value}” is not one of the allowed values: {allowed}. Use one of them."),
    ),
    Code(
        "duplicate-reference",
        _E,
        N_(
            "The reference “{value}” is also used in {others}. Each appointment needs its own "
            "reference: change or remove the repeats."
        ),
    ),
    Code(
        "duplicate-row",
        _E,
        N_(
            "This row books the same claimant at the same time as {others}, so it would be the "
            "same appointment. Remove the repeat, or give each row its own reference."
        ),
    ),
    Code(
        "too-long",
        _E,
        N_("{label} is {length} characters long; at most {limit} are allowed. Shorten it."),
    ),
    Code(
        "insecure-url",
        _E,
        N_("“{value}” is a plain http address. Only https addresses are allowed: write https://."),
    ),
    Code(
        "invalid-url",
        _E,
        N_(
            "“{value}” is not a web address. Write a full https address, like "
            "https://example.org/thank-you."
        ),
    ),
    Code(
        "language-required",
        _E,
        N_(
            "An interpreter is needed but no interpreter language is given. Fill in the language "
            "(e.g. Welsh), or set Interpreter needed to No."
        ),
    ),
    Code(
        "unknown-department",
        _E,
        N_(
            "“{value}” is not a known department id or name.{known} Use the department's "
            "number{or_name}, or add the name under [departments] in your config file (see README)."
        ),
    ),
    Code(
        "missing-id",
        _E,
        N_(
            "This row has neither an appointment id nor a reference, so we cannot tell which "
            "appointment to cancel. Fill in one of them."
        ),
    ),
    Code(
        "invalid-appointment-id",
        _E,
        N_(
            "“{value}” is not an appointment id. Ids look like "
            "8f14e45f-ceea-4e7a-9c1b-2f1d3c4b5a69: copy it from the results workbook."
        ),
    ),
    Code(
        "unknown-column",
        _W,
        N_("This column {problem}; it is kept and copied to the results but not sent.{hint}"),
    ),
    Code(
        "sheet-ignored",
        _W,
        N_('A CSV file has no sheets, so the sheet name "{sheet}" was ignored.'),
    ),
    Code(
        "merged-cell",
        _E,
        N_(
            "This cell is covered by the merged cells {span}, so it reads as empty: Excel keeps "
            "the value in {first} only. Unmerge the cells and fill in every row."
        ),
    ),
    Code(
        "formula-not-calculated",
        _E,
        N_(
            "This cell holds a formula whose result was never calculated (the file was written by "
            "a program and never saved in Excel), so its value is unknown. Open the file in Excel "
            "and save it, or type the value in."
        ),
    ),
    Code(
        "control-characters",
        _E,
        N_(
            "{label} contains invisible control characters ({chars}), probably pasted in by "
            "mistake. Retype the value without them."
        ),
    ),
    Code(
        "hidden-row",
        _W,
        N_(
            "This row is hidden in Excel (or filtered out), but it is read and sent like every "
            "other row. Unhide it to check it, or delete it if it should not be sent."
        ),
    ),
    Code(
        "hidden-column",
        _W,
        N_(
            "This column is hidden in Excel, but it is read like every other column. Unhide it to "
            "check it."
        ),
    ),
    Code(
        "hidden-sheet",
        _W,
        N_(
            "The first sheet(s) of the workbook, {hidden}, are hidden, so the first visible sheet, "
            '"{sheet}", was read. To read a hidden sheet, give its name with --sheet.'
        ),
    ),
    Code(
        "quote-not-closed",
        _E,
        N_(
            "This cell runs on over the next lines of the file, which look like whole rows: a "
            'quote (") opened in it is closed only further down, so those rows were read into '
            "this cell, not as rows. Fix the quotes on this row (and check the rows below it)."
        ),
    ),
    Code(
        "sheet-checks-skipped",
        _W,
        N_(
            "The sheet's values were read, but its XML could not be checked for hidden rows and "
            "columns, error values (#N/A) and formulas never calculated. Open the file in Excel, "
            "look for those, and save it again as .xlsx to have them checked."
        ),
    ),
    Code(
        "rows-above-header",
        _W,
        N_(
            "The headers were found on row {header_row}, so {above} above them (a title or notes?) "
            "{verb} not read. If anything there should be sent, move it below the headers."
        ),
    ),
    Code(
        "language-not-needed",
        _W,
        N_(
            "An interpreter language (“{value}”) is given but no interpreter is needed, so it is "
            "not sent. Set Interpreter needed to Yes if one is needed."
        ),
    ),
    Code(
        "mojibake",
        _W,
        N_(
            "“{value}” looks garbled, as if another program misread its accented letters: did you "
            "mean “{intended}”? If so, correct the cell: it is sent as written."
        ),
    ),
    Code(
        "redirect-without-flag",
        _W,
        N_(
            "A redirect address is given but Redirect after call is not Yes, so it will not be "
            "used. Set Redirect after call to Yes, or clear the address."
        ),
    ),
)


# Codes only the allocation sheets (Claimants, Slots) produce; the rest are shared with intake.
_ALLOCATION: tuple[Code, ...] = (
    Code(
        "window-reversed",
        _E,
        N_(
            "The latest date {latest} is before the earliest date {earliest}, so no day fits. "
            "Swap them, or correct one of them."
        ),
    ),
    Code(
        "duplicate-claimant",
        _E,
        N_(
            "This claimant (same name and date of birth, no reference) is already listed in "
            "{others}, so they "
            "would get two appointments. Remove the repeat, or give each row its own reference if "
            "they really are two people."
        ),
    ),
)


# What is wrong with a column the reader does not know: unknown-column's {problem}.
UNKNOWN_COLUMN_PROBLEMS = {
    "unknown": N_("is not one we know"),
    "no-header": N_("has data but no header"),
}


def unknown_column(header: str, nearest: str | None) -> dict[str, str]:
    """unknown-column's values (Issue.where names the column): its problem and, when a header
    we know is close to it, the hint to rename it."""
    hint = _("If it is meant to be “{nearest}”, rename it.") if nearest else ""
    return {
        "problem": _(UNKNOWN_COLUMN_PROBLEMS["unknown" if header else "no-header"]),
        "hint": " " + hint.format(nearest=nearest) if nearest else "",
    }


def phone_mangled(shape: str, likely: str | None) -> dict[str, str]:
    """phone-mangled's values: why the number lost its 0 (`shape`: a PHONE_MANGLED_CAUSES
    key) and, when it can be told, what it probably was."""
    probably = " " + _("It was probably {likely}.").format(likely=likely) if likely else ""
    return {"cause": _(PHONE_MANGLED_CAUSES[shape]), "likely": probably}


# Codes of what a run finds on the account, not in a cell's value (book; see send/matching.py),
# or of what the API refused.
_RUN: tuple[Code, ...] = (
    Code(
        "api-rejected",
        _E,
        N_("The API refused this value: {details}"),
        {"details": ""},  # the API's own sentences: a default, so they are never shortened
    ),
    Code(
        "reference-cancelled",
        _E,
        N_(
            "The reference “{value}” is already used by a cancelled appointment (on {when}, id "
            "{id}), so this row was not booked. Give this row a new reference (e.g. “{value}-2”) "
            "and run again."
        ),
    ),
    Code(
        "reference-in-use",
        _E,
        N_(
            "The reference “{value}” is already used by another appointment (id {id}: "
            "{differences}), so this row was not booked. Give this row a new reference and run "
            "again; or, if that appointment is the one to move, change it on the platform."
        ),
    ),
)


class _Blank(dict[str, Any]):
    """Template values where an optional placeholder left out reads as nothing."""

    def __missing__(self, key: str) -> str:
        return ""


READER_CODES: frozenset[str] = frozenset(  # made by intake
    {
        "unknown-column",
        "sheet-ignored",
        "merged-cell",
        "formula-not-calculated",
        "control-characters",
        "hidden-row",
        "hidden-column",
        "hidden-sheet",
        "rows-above-header",
        "sheet-checks-skipped",
        "quote-not-closed",
    }
)
CODES: dict[str, Code] = {c.code: c for c in (*_ALL, *_ALLOCATION, *_RUN)}
ALL_CODES: frozenset[str] = frozenset(CODES)
ALLOCATION_CODES: frozenset[str] = frozenset(c.code for c in _ALLOCATION)
RUN_CODES: frozenset[str] = frozenset(c.code for c in _RUN)  # made while sending


_QUOTED = 100  # characters of a value a message quotes


def _shortened(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _QUOTED:
        length = _("{count:,} characters").format(count=len(value))
        return f"{value[:_QUOTED]}… ({length})"
    return value


def make_issue(code: str, **where_and_values: Any) -> Issue:
    """Build an Issue for `code`: the message comes from the code's template.

    Keyword arguments named like Issue's location fields (row, column, header, value, field)
    fill the Issue; all keyword arguments are offered to the template.
    """
    spec = CODES[code]
    defaults = {k: _(v) if v else v for k, v in spec.defaults.items()}
    values = {**defaults, **where_and_values}
    values.setdefault("value", "")
    # a 100k-character cell stays a line; values for the code's own default placeholders are
    # its sentences (a date's advice, a phone's cause), not cell text, and are shown whole
    shown = {k: v if k in spec.defaults else _shortened(v) for k, v in values.items()}
    message = _(spec.template).format_map(_Blank(shown))
    return Issue(
        code=code,
        severity=spec.severity,
        message=message,
        row=values.get("row"),
        column=values.get("column"),
        header=values.get("header"),
        value=where_and_values.get("value"),
        field=values.get("field"),
    )
