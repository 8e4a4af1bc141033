"""The pandera side of the rules: run a schema, and read its checks back as words.

The rules on normalised values (required, ranges, lengths, allowed values) live in one
pandera schema per sheet kind (book.py, cancel.py; allocate adds capacity). A schema runs
lazily and every failure case becomes (position, field, code): a check's name is its issue
code (issues.py), so pandera's own words never reach anyone. The same checks, read back
through their statistics, give the messages their limits and the template its "Allowed
values" text, so a rule cannot say one thing and check another.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import pandera.pandas as pa

from batch_scheduler.validate.date_problems import spoken

# How a field's rule reads in a message and in the template ("{}" is the rule's range).
RULE_WORDS = {
    "duration_in_minutes": "the duration must be whole minutes {}",
    "claimant_date_of_birth": "a date of birth must be {}",
    "department": "a department id must be {}",
    "capacity": "a slot takes {} claimants",
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
        return f"from {stats['min_value']} to {stats['max_value']}"
    if "exact_value" in stats:  # str_length
        return f"at most {stats['max_value']} characters"
    if "min_value" in stats:  # ge
        low = stats["min_value"]
        return f"on or after {low:%d/%m/%Y}" if isinstance(low, datetime) else f"{low} or more"
    if "allowed_values" in stats:
        return ", ".join(stats["allowed_values"])
    return ""


def failure_values(schema: pa.DataFrameSchema, code: str, field: str, value: Any) -> dict[str, Any]:
    """Message values for a failure of `field`'s check `code` on the normalised `value`."""
    if code == "dob-in-future":
        return {"read": f" (we read it as {spoken(value.date())})"}  # a Timestamp
    if code in ("out-of-range", "not-in-list"):
        rule = rule_text(schema, field, code)
        return {"rule": RULE_WORDS.get(field, "{}").format(rule), "allowed": rule}
    if code == "too-long":
        return {"limit": check_stats(schema, field, code)["max_value"], "length": len(str(value))}
    return {}
