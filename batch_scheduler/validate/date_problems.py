"""Why a date or time cell could not be read, in words the person fixing it can act on.

datetimes.py reads whole columns at once and only says which cells it could not read. This
module looks again at one such cell and names the first thing wrong with it: no 31 February,
month 15 (written US style?), hour 25, minute 61, a time without a date, a date without the
time an appointment needs... Its answer fills the {why} and {advice} of the invalid-datetime,
invalid-date and invalid-time messages (issues.py); an empty answer keeps the message's general
advice. Bad cells are few, and each distinct text is explained once (cached).
"""

from __future__ import annotations

import calendar
import numbers
import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Literal

from batch_scheduler.validate.datetimes import DATE_RX, DATETIME_RX, MONTHS, TIME_ONLY_RX

Want = Literal["datetime", "date", "time"]  # what the column holds
Problem = tuple[str, str]  # (why, advice): why follows "we can read": "" or ": ..."

_EXAMPLE = {"datetime": "03/12/2026 14:30", "date": "14/02/1985", "time": "14:30"}
_MONTH_NAMES = (
    *("January", "February", "March", "April", "May", "June", "July", "August"),
    *("September", "October", "November", "December"),
)
_QUOTED = 20  # characters of the cell a reason quotes
_NO_TIME = (
    ": it has a date but no time of day",
    "Add the time after the date, like 03/12/2026 14:30.",
)
_DATE_FIRST = re.compile(rf"^{DATE_RX}", re.IGNORECASE)
_ANY_NUMERIC_DATE = re.compile(r"^\d{1,2}[/.\-]\d{1,2}[/.\-](?P<y>\d+)\b")
_NO_YEAR = re.compile(r"^\d{1,2}[/.\-]\d{1,2}(?:\s|$)")
_CLOCK_DIGITS = re.compile(r"^(?P<h>\d{1,2})(?P<m>\d{2})$")  # 1430: a time without its colon


def explain(cell: Any, want: Want, pivot_year: int) -> dict[str, str]:
    """Template values (why, advice) for a cell that could not be read as `want`; {} when
    there is nothing more precise to say than the message's general advice.

    `pivot_year` is the one the column was read with: two-digit years are named in full in
    the answer ("there is no 29 February 2027"), so the person sees which century we took.
    """
    if isinstance(cell, str):
        problem = _explain_text(cell.strip(), want, pivot_year)
    elif isinstance(cell, numbers.Real) and not isinstance(cell, bool):
        problem = _explain_number(float(cell), want)
    elif isinstance(cell, date) and not isinstance(cell, datetime) and want == "datetime":
        problem = _NO_TIME  # an Excel date cell
    else:
        problem = None
    return {"why": problem[0], "advice": problem[1]} if problem else {}


def spoken(day: date) -> str:
    """A date as words, so nobody wonders which is the day and which the month: 1 December 2026."""
    return f"{day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"


def _explain_number(number: float, want: Want) -> Problem | None:
    if want == "time":
        return _clock_digits(f"{number:.0f}") if number.is_integer() else None
    what = "a date and time" if want == "datetime" else "a date"
    return f": it is a number, not {what}", f"Write it day first, like {_EXAMPLE[want]}."


@lru_cache(maxsize=4096)
def _explain_text(text: str, want: Want, pivot_year: int) -> Problem | None:
    full = DATETIME_RX.match(text)
    time_only = TIME_ONLY_RX.match(text)
    if want == "time":
        if full and full["H"] is None:
            return ": it is a date, not a time of day", "Write the time of day, like 14:30."
        if full:
            return ": it has a date as well as a time", "Write the time alone, like 14:30."
        return _time(time_only) if time_only else _clock_digits(text)
    if full:
        return _date(full, text, pivot_year) or _time(full) or _whole(full, want)
    if time_only and (time_only["M"] or time_only["ap"]):
        return _time_alone(time_only, want)
    return _date_then_junk(text, want, pivot_year) or _no_year(text, want)


def _date(found: re.Match[str], text: str, pivot_year: int) -> Problem | None:
    """What is impossible about the date part of a cell the date-and-time pattern matched."""
    year_text = found["y1"] or found["y2"] or found["y3"]
    year = _year(year_text, pivot_year)
    day = int(found["d1"] or found["d2"] or found["d3"])
    if found["mon"]:
        if found["mon"].lower() not in MONTHS:
            example = "14 Feb 1985" if year < 2000 else "3 Dec 2026"
            return (
                f": “{found['mon']}” is not a month we know",
                f"Write the month as a number, or as its English name, like {example}.",
            )
        month = MONTHS[found["mon"].lower()]
    else:
        month = int(found["m1"] or found["m2"])
    if not 1 <= month <= 12:
        return _not_a_month(found, text, month, day, year)
    if year < 1:
        return f": {year_text} is not a year", "Check the year."
    last = calendar.monthrange(year, month)[1]
    if 1 <= day <= last:
        return None
    if day < 1 or day > 31:
        return f": {day} is not a day of the month", "Check the day."
    name = _MONTH_NAMES[month - 1]
    if month == 2 and day == 29:
        why = f": there is no 29 February {year} ({year} is not a leap year)"
    else:
        length = f"{name} {year}" if month == 2 else name
        why = f": there is no {day} {name} {year} ({length} has {last} days)"
    return why, "Check the day and the month."


def _not_a_month(found: re.Match[str], text: str, month: int, day: int, year: int) -> Problem:
    """Month 13 or more (or 0): when the day would make a month and the swap a real date, the
    date was most likely written month first, US style."""
    why = f": {month} is not a month"
    if found["d1"] and _real(year, day, month):
        swapped = (
            text[: found.start("d1")]
            + found["m1"]
            + text[found.end("d1") : found.start("m1")]
            + found["d1"]
            + text[found.end("m1") :]
        )
        return why, f"If you wrote the month first (US style), swap it: {swapped}."
    return why, "Months go from 1 to 12: check the date."


def _real(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def _year(text: str, pivot_year: int) -> int:
    """As datetimes reads years: two digits fall in the hundred years that end at the pivot."""
    year = int(text)
    return pivot_year - ((pivot_year - year) % 100) if len(text) == 2 else year


def _time(found: re.Match[str]) -> Problem | None:
    """What is impossible about the time of day in a cell one of the patterns matched."""
    if found["H"] is None:
        return None
    hour, minutes, ampm = int(found["H"]), found["M"], found["ap"]
    if hour > 23:
        if hour == 24 and minutes in (None, "00") and not ampm:
            return ": 24:00 is not a time of day", "Write midnight as 00:00 of the next day."
        return (
            f": there is no hour {hour}",
            "The 24-hour clock goes from 00:00 to 23:59: check the time.",
        )
    if ampm and (hour == 0 or hour > 12):
        mm = minutes or "00"
        suffix = ampm.lower().replace(".", "")
        written = f"{found['H']}:{mm}{suffix}" if minutes else f"{found['H']}{suffix}"
        twelve, half = hour % 12 or 12, "pm" if hour >= 12 else "am"
        return (
            f": “{written}” mixes the 24-hour clock and the 12-hour clock (am/pm)",
            f"Write {hour:02d}:{mm}, or {twelve}:{mm}{half}.",
        )
    if not ampm and minutes is None:
        return (
            f": the time “{found['H']}” has no minutes",
            f"Write the minutes too, like {hour:02d}:00.",
        )
    for part, value in (("minute", minutes), ("second", found["S"])):
        if value is not None and int(value) > 59:
            return (
                f": there is no {part} {int(value)}",
                f"{part.capitalize()}s go from 00 to 59: check the time.",
            )
    return None


def _whole(found: re.Match[str], want: Want) -> Problem | None:
    """A date and time that is fine in itself but not what the column needs."""
    if want == "datetime" and found["H"] is None:
        return _NO_TIME
    if want == "date" and found["tz"]:
        return (
            ": it has a time zone offset, which a date cannot have",
            "Write the date alone, like 14/02/1985.",
        )
    return None


def _time_alone(found: re.Match[str], want: Want) -> Problem:
    """A time of day where a date (and time) was expected."""
    if want == "date":
        return ": it is a time of day, not a date", "Write it day first, like 14/02/1985."
    also = _time(found)
    why = ": it is a time of day with no date" + (f", and {also[0][2:]}" if also else "")
    return why, "Write the date and the time, like 03/12/2026 14:30."


def _date_then_junk(text: str, want: Want, pivot_year: int) -> Problem | None:
    """A date followed by something that is not a time, or a date whose year has 1, 3 or 5+
    digits."""
    numeric = _ANY_NUMERIC_DATE.match(text)
    if numeric and len(numeric["y"]) not in (2, 4):
        return (
            f": {numeric['y']} is not a year",
            f"Write the year with all four digits, like {_EXAMPLE[want]}.",
        )
    found = _DATE_FIRST.match(text)
    if found is None:
        return None
    date_problem = _date(found, found[0], pivot_year)
    if date_problem:
        return date_problem
    rest = text[found.end() :].strip(" ,")
    rest = rest if len(rest) <= _QUOTED else rest[:_QUOTED] + "…"
    if want == "date":
        return (
            f": “{rest}” after the date is not a time we can read",
            "Write the date alone, like 14/02/1985.",
        )
    return (
        f": “{rest}” after the date is not a time we can read",
        "Write the time on the 24-hour clock after the date, like 03/12/2026 14:30.",
    )


def _no_year(text: str, want: Want) -> Problem | None:
    if _NO_YEAR.match(text):
        return ": it has no year", f"Add the year, like {_EXAMPLE[want]}."
    return None


def _clock_digits(text: str) -> Problem | None:
    """1430 for 14:30 (a time typed without its colon, or a number cell)."""
    found = _CLOCK_DIGITS.match(text)
    if found is None or int(found["h"]) > 23 or int(found["m"]) > 59:
        return None
    return "", f"Write it with a colon, like {int(found['h']):02d}:{found['m']}."
