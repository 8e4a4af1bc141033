"""The codes of what intake and validation find in a sheet: its cells, rows and columns,
and the words their messages take from callers (a phone's cause, an unknown column's hint)."""

from __future__ import annotations

from batch_scheduler.i18n import N_, _
from batch_scheduler.issues.code import Code, E, W

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

SHEET_CODES: tuple[Code, ...] = (
    Code("required", E, N_("{label} is required but this cell is empty. Fill it in.")),
    Code(
        "invalid-datetime",
        E,
        N_("“{value}” is not a date and time we can read{why}. {advice}"),
        {"advice": N_("Write it day first, like 03/12/2026 14:30, or as 2026-12-03 14:30.")},
    ),
    Code(
        "nonexistent-local-time",
        E,
        N_(
            "{local} does not exist in {tz}: the clocks go forward from {gap_start} to {gap_end} "
            "that night. Pick a time outside that hour."
        ),
    ),
    Code(
        "ambiguous-local-time",
        E,
        N_(
            "{local} happens twice in {tz}, because the clocks go back that night: it could be "
            "{first} or {second}. Use a different time, or write it with an offset, "
            "e.g. {example}."
        ),
    ),
    Code(
        "invalid-time",
        E,
        N_("“{value}” is not a time of day we can read{why}. {advice}"),
        {"advice": N_("Write it on the 24-hour clock, like 14:30 (or 2:30pm).")},
    ),
    Code(
        "in-past",
        E,
        N_(
            "The appointment time {local} ({tz}) has already passed. Give a date and time in the "
            "future."
        ),
    ),
    Code(
        "invalid-date",
        E,
        N_("“{value}” is not a date we can read{why}. {advice}"),
        {"advice": N_("Write it day first, like 14/02/1985, or as 1985-02-14.")},
    ),
    Code(
        "dob-in-future",
        E,
        N_(
            "The date of birth “{value}” is not in the past{read}. Check the day, month and year "
            "(day first, with all four digits of the year: 14/02/1985)."
        ),
    ),
    Code(
        "invalid-integer",
        E,
        N_("“{value}” is not a whole number. Write {label} in digits, like 30."),
    ),
    Code("out-of-range", E, N_("“{value}” is out of range: {rule}. Correct it.")),
    Code(
        "invalid-phone",
        E,
        N_(
            "“{value}” is not a valid phone number. Write a UK number like 020 7946 0123, or an "
            "international one with its country code, like +33 1 99 00 12 34."
        ),
    ),
    Code(
        "phone-mangled",
        E,
        N_("{cause}{likely} Format the column as Text and type the number again."),
        {"cause": PHONE_MANGLED_CAUSES["number"]},
    ),
    Code(
        "invalid-email",
        E,
        N_("“{value}” is not a valid email address: {reason}. Check it, or leave the cell empty."),
        {"reason": N_("it is not in the form name@example.org")},
    ),
    Code(
        "invalid-boolean",
        E,
        N_("“{value}” is not a yes/no answer. Write Yes or No (or leave it empty for {default})."),
    ),
    Code(
        "not-in-list",
        E,
        N_("“{value}” is not one of the allowed values: {allowed}. Use one of them."),
    ),
    Code(
        "duplicate-reference",
        E,
        N_(
            "The reference “{value}” is also used in {others}. Each appointment needs its own "
            "reference: change or remove the repeats."
        ),
    ),
    Code(
        "duplicate-row",
        E,
        N_(
            "This row books the same claimant at the same time as {others}, so it would be the "
            "same appointment. Remove the repeat, or give each row its own reference."
        ),
    ),
    Code(
        "too-long",
        E,
        N_("{label} is {length} characters long; at most {limit} are allowed. Shorten it."),
    ),
    Code(
        "insecure-url",
        E,
        N_("“{value}” is a plain http address. Only https addresses are allowed: write https://."),
    ),
    Code(
        "invalid-url",
        E,
        N_(
            "“{value}” is not a web address. Write a full https address, like "
            "https://example.org/thank-you."
        ),
    ),
    Code(
        "language-required",
        E,
        N_(
            "An interpreter is needed but no interpreter language is given. Fill in the language "
            "(e.g. Welsh), or set Interpreter needed to No."
        ),
    ),
    Code(
        "unknown-department",
        E,
        N_(
            "“{value}” is not a known department id or name.{known} Use the department's "
            "number{or_name}, or add the name under [departments] in your config file (see README)."
        ),
    ),
    Code(
        "missing-id",
        E,
        N_(
            "This row has neither an appointment id nor a reference, so we cannot tell which "
            "appointment to cancel. Fill in one of them."
        ),
    ),
    Code(
        "invalid-appointment-id",
        E,
        N_(
            "“{value}” is not an appointment id. Ids look like "
            "8f14e45f-ceea-4e7a-9c1b-2f1d3c4b5a69: copy it from the results workbook."
        ),
    ),
    Code(
        "unknown-column",
        W,
        N_("This column {problem}; it is kept and copied to the results but not sent.{hint}"),
    ),
    Code(
        "sheet-ignored",
        W,
        N_('A CSV file has no sheets, so the sheet name "{sheet}" was ignored.'),
    ),
    Code(
        "merged-cell",
        E,
        N_(
            "This cell is covered by the merged cells {span}, so it reads as empty: Excel keeps "
            "the value in {first} only. Unmerge the cells and fill in every row."
        ),
    ),
    Code(
        "formula-not-calculated",
        E,
        N_(
            "This cell holds a formula whose result was never calculated (the file was written by "
            "a program and never saved in Excel), so its value is unknown. Open the file in Excel "
            "and save it, or type the value in."
        ),
    ),
    Code(
        "control-characters",
        E,
        N_(
            "{label} contains invisible control characters ({chars}), probably pasted in by "
            "mistake. Retype the value without them."
        ),
    ),
    Code(
        "hidden-row",
        W,
        N_(
            "This row is hidden in Excel (or filtered out), but it is read and sent like every "
            "other row. Unhide it to check it, or delete it if it should not be sent."
        ),
    ),
    Code(
        "hidden-column",
        W,
        N_(
            "This column is hidden in Excel, but it is read like every other column. Unhide it to "
            "check it."
        ),
    ),
    Code(
        "hidden-sheet",
        W,
        N_(
            "The first sheet(s) of the workbook, {hidden}, are hidden, so the first visible sheet, "
            '"{sheet}", was read. To read a hidden sheet, give its name with --sheet.'
        ),
    ),
    Code(
        "quote-not-closed",
        E,
        N_(
            "This cell runs on over the next lines of the file, which look like whole rows: a "
            'quote (") opened in it is closed only further down, so those rows were read into '
            "this cell, not as rows. Fix the quotes on this row (and check the rows below it)."
        ),
    ),
    Code(
        "sheet-checks-skipped",
        W,
        N_(
            "The sheet's values were read, but its XML could not be checked for hidden rows and "
            "columns, error values (#N/A) and formulas never calculated. Open the file in Excel, "
            "look for those, and save it again as .xlsx to have them checked."
        ),
    ),
    Code(
        "rows-above-header",
        W,
        N_(
            "The headers were found on row {header_row}, so {above} above them (a title or notes?) "
            "{verb} not read. If anything there should be sent, move it below the headers."
        ),
    ),
    Code(
        "language-not-needed",
        W,
        N_(
            "An interpreter language (“{value}”) is given but no interpreter is needed, so it is "
            "not sent. Set Interpreter needed to Yes if one is needed."
        ),
    ),
    Code(
        "mojibake",
        W,
        N_(
            "“{value}” looks garbled, as if another program misread its accented letters: did you "
            "mean “{intended}”? If so, correct the cell: it is sent as written."
        ),
    ),
    Code(
        "redirect-without-flag",
        W,
        N_(
            "A redirect address is given but Redirect after call is not Yes, so it will not be "
            "used. Set Redirect after call to Yes, or clear the address."
        ),
    ),
)


# Codes only the allocation sheets (Claimants, Slots) produce; the rest are shared with intake.


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
