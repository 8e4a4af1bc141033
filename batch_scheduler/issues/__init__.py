"""Every issue code and its message template, in one place (this package: code.py what a
code is, sheet.py the codes of a sheet, run.py those of allocating and sending).

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

from typing import Any

from batch_scheduler.i18n import _
from batch_scheduler.issues.code import Code
from batch_scheduler.issues.run import ALLOCATION_TABLE, RUN_TABLE
from batch_scheduler.issues.sheet import (
    PHONE_MANGLED_CAUSES,
    READER_CODES,
    SHEET_CODES,
    UNKNOWN_COLUMN_PROBLEMS,
    phone_mangled,
    unknown_column,
)
from batch_scheduler.models import Issue


class _Blank(dict[str, Any]):
    """Template values where an optional placeholder left out reads as nothing."""

    def __missing__(self, key: str) -> str:
        return ""


CODES: dict[str, Code] = {c.code: c for c in (*SHEET_CODES, *ALLOCATION_TABLE, *RUN_TABLE)}
ALL_CODES: frozenset[str] = frozenset(CODES)
ALLOCATION_CODES: frozenset[str] = frozenset(c.code for c in ALLOCATION_TABLE)
RUN_CODES: frozenset[str] = frozenset(c.code for c in RUN_TABLE)  # made while sending


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


__all__ = [
    "ALLOCATION_CODES",
    "ALL_CODES",
    "CODES",
    "PHONE_MANGLED_CAUSES",
    "READER_CODES",
    "RUN_CODES",
    "UNKNOWN_COLUMN_PROBLEMS",
    "Code",
    "make_issue",
    "phone_mangled",
    "unknown_column",
]
