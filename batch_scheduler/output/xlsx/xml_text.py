"""The text of an xlsx part: XML escaping, numbers, Excel's serial dates, relationships.

Shared by every part the streaming writer makes (sheets, styles, notes, the workbook's
own parts), so that a value is written the same way wherever it appears.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date, datetime, time
from xml.sax.saxutils import quoteattr

from batch_scheduler.output.xlsx.cells import FORMULA_START

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_EXCEL_EPOCH = datetime(1899, 12, 30)
_EXCEL_EPOCH_DATE = date(1899, 12, 30)
_EXTERNAL = ' TargetMode="External"'

# Characters XML cannot hold or that need escaping, and text that looks like Excel's own
# _xHHHH_ escape (so a literal "_x0041_" is not read back as "A").
UNSAFE = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]|_x[0-9A-Fa-f]{4}_")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape_text(text: str) -> str:
    """Text safe inside an XML element, with control characters as Excel's _xHHHH_ escapes."""
    return UNSAFE.sub(escape_one, text)


def escape_one(match: re.Match[str]) -> str:
    """The replacement for one UNSAFE match (the writer's rows call UNSAFE.sub with it)."""
    found = match.group()
    if len(found) > 1:  # "_x0041_" -> "_x005F_x0041_": an escaped underscore, then the rest
        return "_x005F_" + found[1:]
    if found in _ENTITIES:
        return _ENTITIES[found]
    if found >= "\ud800":  # a lone surrogate (no UTF-8) or a non-character (not XML)
        return "\ufffd"
    return f"_x{ord(found):04X}_"


def is_dangerous(text: str) -> bool:
    """Whether a spreadsheet would run this text as a formula if it were typed in."""
    return bool(text) and text[0] in FORMULA_START


def excel_serial(value: datetime | date | time) -> float:
    """Excel's day number (1900 date system) for a naive date, time or datetime."""
    if isinstance(value, datetime):
        delta = (value if value.tzinfo is None else value.replace(tzinfo=None)) - _EXCEL_EPOCH
        serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86_400
    elif isinstance(value, date):
        serial = float((value - _EXCEL_EPOCH_DATE).days)
    else:
        return (value.hour * 3600 + value.minute * 60 + value.second) / 86_400 + (
            value.microsecond / 86_400e6
        )
    return serial - 1 if serial < 61 else serial  # Excel's phantom 1900-02-29


def number_text(value: object) -> str:
    """A number as a cell's <v> holds it: whole floats without ".0", never inf or nan."""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value) if math.isfinite(value) else "0"
    return str(value)


def quote_sheet(name: str) -> str:
    """A sheet's name as a cell reference writes it: 'Plan''s'."""
    return "'" + name.replace("'", "''") + "'"


def rels_xml(rels: Sequence[tuple[str, str, str, bool]]) -> str:
    """A relationships part: (id, type, target, external) each."""
    items = "".join(
        f'<Relationship Id="{rid}" Type="{REL_NS}/{kind}" Target={quoteattr(target)}'
        f"{_EXTERNAL if external else ''}/>"
        for rid, kind, target, external in rels
    )
    return f'{XML_HEAD}<Relationships xmlns="{PKG_NS}">{items}</Relationships>'
