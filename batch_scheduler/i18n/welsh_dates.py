"""Dates as people write them in Welsh, turned into the form our date parser reads.

"19eg o Awst 2027 14:30" -> "19/08/2027 14:30", "dydd Iau 19 Awst 2027" -> "19/08/2027".
Months by name (Ionawr...), their soft-mutated forms after "o" (o Fawrth, o Fai, o Fehefin,
o Orffennaf, o Fedi, o Dachwedd, o Ragfyr), "o fis Awst", the short forms (Ion, Chwef...);
ordinals (1af, 2il, 3ydd, 19eg, 21ain...); a day name in front is dropped ("dydd Iau",
"Iau,"), as the English parser drops "Thu"; "am 14:30" (at 14:30) and "2:30yh" (p.m.).

Pure text in, text out: a text with no Welsh in it comes back unchanged, and a text that is
Welsh but not a date we read comes back changed only as far as we understood it, so the
date parser refuses it as it refuses any other bad date.
"""

from __future__ import annotations

import re
import unicodedata

# month number -> its names: the full name first, then short forms (CLDR's and common ones)
MONTH_NAMES: dict[int, tuple[str, ...]] = {
    1: ("Ionawr", "Ion"),
    2: ("Chwefror", "Chwef", "Chw"),
    3: ("Mawrth", "Maw"),
    4: ("Ebrill", "Ebr"),
    5: ("Mai",),
    6: ("Mehefin", "Meh"),
    7: ("Gorffennaf", "Gorff", "Gor"),
    8: ("Awst",),
    9: ("Medi",),
    10: ("Hydref", "Hyd"),
    11: ("Tachwedd", "Tach"),
    12: ("Rhagfyr", "Rhag"),
}
# the soft mutation after "o" (of): "19eg o Fawrth"; the other months keep their first letter
MUTATED_MONTHS: dict[int, str] = {
    3: "Fawrth",
    5: "Fai",
    6: "Fehefin",
    7: "Orffennaf",
    9: "Fedi",
    11: "Dachwedd",
    12: "Ragfyr",
}
# weekday (Monday = 0) -> its names: after "dydd", and short forms (CLDR's Gwen and Gwe)
DAY_NAMES: dict[int, tuple[str, ...]] = {
    0: ("Llun",),
    1: ("Mawrth", "Maw"),
    2: ("Mercher", "Mer"),
    3: ("Iau",),
    4: ("Gwener", "Gwen", "Gwe"),
    5: ("Sadwrn", "Sad"),
    6: ("Sul",),
}


def _ordinal_suffix(day: int) -> str:
    """The suffix of a day of the month written as a numeral: 1af, 2il, 3ydd, 4ydd, 5ed,
    6ed, 7fed...10fed, 11eg, 12fed, 13eg, 14eg, 15fed, 16eg, 17eg, 18fed, 19eg, 20fed, then
    21ain...31ain (unfed ar hugain...: the "ar hugain" numbers)."""
    special = {1: "af", 2: "il", 3: "ydd", 4: "ydd", 5: "ed", 6: "ed", 11: "eg", 13: "eg"}
    special |= {14: "eg", 16: "eg", 17: "eg", 19: "eg"}
    if day in special:
        return special[day]
    return "ain" if day > 20 else "fed"


ORDINALS: dict[int, str] = {day: f"{day}{_ordinal_suffix(day)}" for day in range(1, 32)}
ORDINAL_SUFFIXES: tuple[str, ...] = ("af", "il", "ydd", "ed", "fed", "eg", "ain")


def _alternatives(names: list[str]) -> str:
    """A regex alternation, longest first (so "Chwef" is tried before "Chw")."""
    return "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


MONTHS: dict[str, int] = {
    _fold(name): month
    for month, names in MONTH_NAMES.items()
    for name in (*names, MUTATED_MONTHS.get(month, names[0]))
}
_WEEKDAY = r"(?:d?dydd\s+)?(?:" + _alternatives([n for ns in DAY_NAMES.values() for n in ns]) + r")"
_LEADING_WEEKDAY = re.compile(rf"^\s*{_WEEKDAY}\.?\s*,?\s+(?=\d)", re.IGNORECASE)
_TEXT_DATE = re.compile(
    r"^(?P<day>\d{1,2})(?:" + "|".join(ORDINAL_SUFFIXES) + r")?\.?"
    r"(?:\s*-\s*|\s+(?:o\s+)?(?:[fm]is\s+)?)"
    r"(?P<month>" + _alternatives(list(MONTHS)) + r")\.?"
    r"(?:\s*-\s*|,?\s+)(?P<year>\d{4}|\d{2})(?![\w])(?P<rest>.*)$",
    re.IGNORECASE,
)
_NUMERIC_DATE = re.compile(r"^(?P<date>\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2}))(?P<rest>.*)$")
_ENGLISH_DATE = re.compile(r"^\d{1,2}(?:st|nd|rd|th)?[\s\-]+[a-z]{3,9}\b", re.IGNORECASE)
_AT = re.compile(r"^\s*,?\s*am\s+(?=\d)", re.IGNORECASE)  # "am 14:30": at 14:30
_SEPARATOR = re.compile(r"^\s*,?\s*")
# y.b. (y bore, a.m.); y.h. (yr hwyr) and y.p. (y prynhawn), p.m.
_PERIOD = re.compile(r"(?<=\d)\s*y\.?\s?(?P<part>[bhp])\.?$", re.IGNORECASE)


def welsh_time_to_english(text: str) -> str:
    """ "am 2:30yh" -> "2:30pm", "9.15 y.b." -> "9.15am"; other text unchanged."""
    rest = _AT.sub("", text, count=1)
    found = _PERIOD.search(rest)
    if found is None:
        return rest
    return rest[: found.start()] + ("am" if found["part"].lower() == "b" else "pm")


def _time_part(rest: str) -> str:
    if not rest.strip():
        return ""
    return " " + welsh_time_to_english(_SEPARATOR.sub("", rest, count=1)).strip()


def _welsh_time_in(rest: str) -> bool:
    return bool(_AT.match(rest) or _PERIOD.search(rest))


def welsh_date_to_english(text: str) -> str:
    """A Welsh date (and time) as "DD/MM/YYYY HH:MM", the date parser's own day-first form;
    an English date after a Welsh day name without the day name; any other text as it was."""
    normal = unicodedata.normalize("NFC", text).strip()
    without_day = _LEADING_WEEKDAY.sub("", normal, count=1)
    day_dropped = without_day != normal
    found = _TEXT_DATE.match(without_day)
    if found is not None:
        month = MONTHS[_fold(found["month"])]
        date = f"{int(found['day']):02d}/{month:02d}/{found['year']}"
        return date + _time_part(found["rest"])
    numeric = _NUMERIC_DATE.match(without_day)
    if numeric is not None and (day_dropped or _welsh_time_in(numeric["rest"])):
        return numeric["date"] + _time_part(numeric["rest"])
    if day_dropped and _ENGLISH_DATE.match(without_day):
        return without_day
    return text
