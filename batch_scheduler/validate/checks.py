"""The pandera side of the rules: run a schema, and read its checks back as words.

The rules on normalised values (required, ranges, lengths, allowed values) live in one
pandera schema per sheet kind (book.py, cancel.py; allocate adds capacity). A schema runs
lazily and every failure case becomes (position, field, code): a check's name is its issue
code (issues/), so pandera's own words never reach anyone. The same checks, read back
through their statistics, give the messages their limits and the template its "Allowed
values" text, so a rule cannot say one thing and check another. The words are in the
current language; the checks' names (the issue codes) never change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import pandera.pandas as pa

from batch_scheduler.i18n import N_, _, pgettext
from batch_scheduler.validate.date_problems import spoken

# How a field's rule reads in a message and in the template ({rule} is the rule's range);
# translated when shown (rule_words).
RULE_WORDS = {
    "duration_in_minutes": N_("the duration must be whole minutes {rule}"),
    "claimant_date_of_birth": N_("a date of birth must be {rule}"),
    "department": N_("a department id must be {rule}"),
    "capacity": N_("a slot takes {rule} claimants"),
}


def rule_words(field: str, rule: str) -> str:
    """The field's rule as a sentence's words: "the duration must be whole minutes from 1 to
    1440"; the rule alone for a field with no words of its own."""
    words = RULE_WORDS.get(field)
    return _(words).format(rule=rule) if words else rule


def choice_words() -> dict[str, str]:
    """The API's choices as a person reads them (the Welsh template's dropdown words)."""
    return {
        "low": pgettext("bandwidth", "low"),
        "medium": pgettext("bandwidth", "medium"),
        "high": pgettext("bandwidth", "high"),
    }


def too_long(limit: int) -> pa.Check:
    return pa.Check.str_length(max_value=limit, name="too-long")


def failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> list[tuple[int, str, str]]:
    """(position, field, code) for every failure case of `schema` on `frame`; only the
    schema's columns that `frame` has are checked (a sheet of another kind may hold only
    some of them). pandera's text is dropped here."""
    present = [name for name in schema.columns if name in frame.columns]
    if len(present) < len(schema.columns):
        schema = schema.select_columns(present)
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return []
    out = []
    for column, number, index in zip(
        cases["column"], cases["check_number"], cases["index"], strict=True
    ):
        if index is None or pd.isna(index):
            continue  # a whole-column failure (dtype): cannot happen, values are built here
        if pd.isna(number):
            out.append((int(index), str(column), "required"))  # the not_nullable check
        else:
            code = schema.columns[column].checks[int(number)].name
            out.append((int(index), str(column), str(code)))
    return out


def check_stats(schema: pa.DataFrameSchema, field: str, code: str) -> dict[str, Any]:
    """The statistics (limits, allowed values) of `field`'s check named `code`."""
    check = next(c for c in schema.columns[field].checks if c.name == code)
    return dict(check.statistics)


def rule_text(schema: pa.DataFrameSchema, field: str, code: str) -> str:
    """The rule a check enforces, in words, from the check's own statistics."""
    stats = check_stats(schema, field, code)
    if "include_min" in stats:  # in_range
        return _("from {low} to {high}").format(low=stats["min_value"], high=stats["max_value"])
    if "exact_value" in stats:  # str_length
        return _("at most {limit} characters").format(limit=stats["max_value"])
    if "min_value" in stats:  # ge
        low = stats["min_value"]
        if isinstance(low, datetime):
            return _("on or after {date}").format(date=f"{low:%d/%m/%Y}")
        return _("{low} or more").format(low=low)
    if "allowed_values" in stats:
        words = choice_words()
        return ", ".join(words.get(value, value) for value in stats["allowed_values"])
    return ""


def failure_values(schema: pa.DataFrameSchema, code: str, field: str, value: Any) -> dict[str, Any]:
    """Message values for a failure of `field`'s check `code` on the normalised `value`."""
    if code == "dob-in-future":
        read = _("we read it as {date}").format(date=spoken(value.date()))  # a Timestamp
        return {"read": f" ({read})"}
    if code in ("out-of-range", "not-in-list"):
        rule = rule_text(schema, field, code)
        return {"rule": rule_words(field, rule), "allowed": rule}
    if code == "too-long":
        return {"limit": check_stats(schema, field, code)["max_value"], "length": len(str(value))}
    return {}
