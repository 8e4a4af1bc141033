"""Why a date or time cell could not be read, in words the person fixing it can act on.

datetimes.py reads whole columns at once and only says which cells it could not read. This
module looks again at one such cell and names the first thing wrong with it: no 31 February,
month 15 (written US style?), hour 25, minute 61, a time without a date, a date without the
time an appointment needs... Its answer fills the {why} and {advice} of the invalid-datetime,
invalid-date and invalid-time messages (issues/); an empty answer keeps the message's general
advice. Bad cells are few, and each distinct text is explained once per language (cached), in
the current language. A cell written in Welsh is explained as datetimes.py read it: in its
English form ("31 Chwefror 2027": there is no 31 February 2027, named in the message's
language).
"""

from __future__ import annotations

import calendar
import numbers
import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Literal

from batch_scheduler.i18n import N_, _, current_language, pgettext
from batch_scheduler.i18n.welsh_dates import welsh_date_to_english, welsh_time_to_english
from batch_scheduler.validate.datetimes import DATE_RX, DATETIME_RX, MONTHS, TIME_ONLY_RX

Want = Literal["datetime", "date", "time"]  # what the column holds
Problem = tuple[str, str]  # (why, advice): why follows "we can read": "" or ": ..."

_EXAMPLE = {"datetime": "03/12/2026 14:30", "date": "14/02/1985", "time": "14:30"}
_QUOTED = 20  # characters of the cell a reason quotes
_NO_TIME = (
    N_(": it has a date but no time of day"),
    N_("Add the time after the date, like 03/12/2026 14:30."),
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
        text = cell.strip()
        english = welsh_time_to_english(text) if want == "time" else welsh_date_to_english(text)
        problem = _explain_text(english, want, pivot_year, current_language())
    elif isinstance(cell, numbers.Real) and not isinstance(cell, bool):
        problem = _explain_number(float(cell), want)
    elif isinstance(cell, date) and not isinstance(cell, datetime) and want == "datetime":
        problem = _(_NO_TIME[0]), _(_NO_TIME[1])  # an Excel date cell
    else:
        problem = None
    return {"why": problem[0], "advice": problem[1]} if problem else {}


def month_name(month: int) -> str:
    """The month's name in the current language: 2 -> February, Chwefror."""
    names = (
        pgettext("month", "January"),
        pgettext("month", "February"),
        pgettext("month", "March"),
        pgettext("month", "April"),
        pgettext("month", "May"),
        pgettext("month", "June"),
        pgettext("month", "July"),
        pgettext("month", "August"),
        pgettext("month", "September"),
        pgettext("month", "October"),
        pgettext("month", "November"),
        pgettext("month", "December"),
    )
    return names[month - 1]


def spoken(day: date) -> str:
    """A date as words, so nobody wonders which is the day and which the month: 1 December
    2026 (1 Rhagfyr 2026)."""
    return f"{day.day} {month_name(day.month)} {day.year}"


def _explain_number(number: float, want: Want) -> Problem | None:
    if want == "time":
        return _clock_digits(f"{number:.0f}") if number.is_integer() else None
    if want == "datetime":
        why = _(": it is a number, not a date and time")
    else:
        why = _(": it is a number, not a date")
    return why, _("Write it day first, like {example}.").format(example=_EXAMPLE[want])


@lru_cache(maxsize=4096)
def _explain_text(text: str, want: Want, pivot_year: int, language: str) -> Problem | None:
    """The problem with `text`, in `language` (the current one: a key of the cache)."""
    full = DATETIME_RX.match(text)
    time_only = TIME_ONLY_RX.match(text)
    if want == "time":
        if full and full["H"] is None:
            return _(": it is a date, not a time of day"), _("Write the time of day, like 14:30.")
        if full:
            return _(": it has a date as well as a time"), _("Write the time alone, like 14:30.")
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
                _(": “{month}” is not a month we know").format(month=found["mon"]),
                _("Write the month as a number, or as its English name, like {example}.").format(
                    example=example
                ),
            )
        month = MONTHS[found["mon"].lower()]
    else:
        month = int(found["m1"] or found["m2"])
    if not 1 <= month <= 12:
        return _not_a_month(found, text, month, day, year)
    if year < 1:
        return _(": {year} is not a year").format(year=year_text), _("Check the year.")
    last = calendar.monthrange(year, month)[1]
    if 1 <= day <= last:
        return None
    if day < 1 or day > 31:
        return _(": {day} is not a day of the month").format(day=day), _("Check the day.")
    name = month_name(month)
    if month == 2 and day == 29:
        why = _(": there is no 29 February {year} ({year} is not a leap year)").format(year=year)
    elif month == 2:
        why = _(": there is no {day} February {year} (February {year} has {last} days)")
        why = why.format(day=day, year=year, last=last)
    else:
        why = _(": there is no {day} {month} {year} ({month} has {last} days)")
        why = why.format(day=day, month=name, year=year, last=last)
    return why, _("Check the day and the month.")


def _not_a_month(found: re.Match[str], text: str, month: int, day: int, year: int) -> Problem:
    """Month 13 or more (or 0): when the day would make a month and the swap a real date, the
    date was most likely written month first, US style."""
    why = _(": {month} is not a month").format(month=month)
    if found["d1"] and _real(year, day, month):
        swapped = (
            text[: found.start("d1")]
            + found["m1"]
            + text[found.end("d1") : found.start("m1")]
            + found["d1"]
            + text[found.end("m1") :]
        )
        swap = _("If you wrote the month first (US style), swap it: {swapped}.")
        return why, swap.format(swapped=swapped)
    return why, _("Months go from 1 to 12: check the date.")


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
            return _(": 24:00 is not a time of day"), _("Write midnight as 00:00 of the next day.")
        return (
            _(": there is no hour {hour}").format(hour=hour),
            _("The 24-hour clock goes from 00:00 to 23:59: check the time."),
        )
    if ampm and (hour == 0 or hour > 12):
        mm = minutes or "00"
        suffix = ampm.lower().replace(".", "")
        written = f"{found['H']}:{mm}{suffix}" if minutes else f"{found['H']}{suffix}"
        twelve = hour % 12 or 12
        half = pgettext("clock", "pm") if hour >= 12 else pgettext("clock", "am")
        return (
            _(": “{written}” mixes the 24-hour clock and the 12-hour clock (am/pm)").format(
                written=written
            ),
            _("Write {clock24}, or {clock12}.").format(
                clock24=f"{hour:02d}:{mm}", clock12=f"{twelve}:{mm}{half}"
            ),
        )
    if not ampm and minutes is None:
        return (
            _(": the time “{hour}” has no minutes").format(hour=found["H"]),
            _("Write the minutes too, like {example}.").format(example=f"{hour:02d}:00"),
        )
    if minutes is not None and int(minutes) > 59:
        why = _(": there is no minute {minute}").format(minute=int(minutes))
        return why, _("Minutes go from 00 to 59: check the time.")
    if found["S"] is not None and int(found["S"]) > 59:
        why = _(": there is no second {second}").format(second=int(found["S"]))
        return why, _("Seconds go from 00 to 59: check the time.")
    return None


def _whole(found: re.Match[str], want: Want) -> Problem | None:
    """A date and time that is fine in itself but not what the column needs."""
    if want == "datetime" and found["H"] is None:
        return _(_NO_TIME[0]), _(_NO_TIME[1])
    if want == "date" and found["tz"]:
        return (
            _(": it has a time zone offset, which a date cannot have"),
            _("Write the date alone, like 14/02/1985."),
        )
    return None


def _time_alone(found: re.Match[str], want: Want) -> Problem:
    """A time of day where a date (and time) was expected."""
    if want == "date":
        return _(": it is a time of day, not a date"), _("Write it day first, like 14/02/1985.")
    also = _time(found)
    if also:  # its reason without the ": " in front
        why = _(": it is a time of day with no date, and {problem}").format(problem=also[0][2:])
    else:
        why = _(": it is a time of day with no date")
    return why, _("Write the date and the time, like 03/12/2026 14:30.")


def _date_then_junk(text: str, want: Want, pivot_year: int) -> Problem | None:
    """A date followed by something that is not a time, or a date whose year has 1, 3 or 5+
    digits."""
    numeric = _ANY_NUMERIC_DATE.match(text)
    if numeric and len(numeric["y"]) not in (2, 4):
        return (
            _(": {year} is not a year").format(year=numeric["y"]),
            _("Write the year with all four digits, like {example}.").format(
                example=_EXAMPLE[want]
            ),
        )
    found = _DATE_FIRST.match(text)
    if found is None:
        return None
    date_problem = _date(found, found[0], pivot_year)
    if date_problem:
        return date_problem
    rest = text[found.end() :].strip(" ,")
    rest = rest if len(rest) <= _QUOTED else rest[:_QUOTED] + "…"
    why = _(": “{rest}” after the date is not a time we can read").format(rest=rest)
    if want == "date":
        return why, _("Write the date alone, like 14/02/1985.")
    return why, _("Write the time on the 24-hour clock after the date, like 03/12/2026 14:30.")


def _no_year(text: str, want: Want) -> Problem | None:
    if _NO_YEAR.match(text):
        return _(": it has no year"), _("Add the year, like {example}.").format(
            example=_EXAMPLE[want]
        )
    return None


def _clock_digits(text: str) -> Problem | None:
    """1430 for 14:30 (a time typed without its colon, or a number cell)."""
    found = _CLOCK_DIGITS.match(text)
    if found is None or int(found["h"]) > 23 or int(found["m"]) > 59:
        return None
    example = f"{int(found['h']):02d}:{found['m']}"
    return "", _("Write it with a colon, like {example}.").format(example=example)
