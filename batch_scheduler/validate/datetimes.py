"""Dates and times read from cells: day first, as people in the UK write them, or Excel's own.

Text like 03/12/2026 14:30, 2026-12-03 14:30, 3 Dec 2026 2:30pm, with an optional offset;
date, time and datetime cells; Excel serial numbers. Dates and times written in Welsh ("19eg
o Awst 2027 14:30", "dydd Iau 19 Awst 2027", "2:30yh") are read in either language mode: a
text the English patterns refuse is rewritten (i18n/welsh_dates.py) and read again, once per
distinct text, so a sheet without Welsh pays nothing. Wall-clock times are then placed in
the sheet's time zone, where a time the clocks skip or repeat gets its own code. Which part
of a cell could not be read, in words, is date_problems.py's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from batch_scheduler.i18n import _
from batch_scheduler.i18n.welsh_dates import welsh_date_to_english, welsh_time_to_english
from batch_scheduler.validate.cells import (
    DATE,
    DATETIME,
    DELTA,
    NUMBER,
    TEXT,
    TIME,
    Parsed,
    cells,
    codes_where,
    distinct_rows,
    no_codes,
    numbers,
)

MONTHS = {
    name: i
    for i, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
DATE_RX = (
    r"(?:(?P<d1>\d{1,2})[/.\-](?P<m1>\d{1,2})[/.\-](?P<y1>\d{4}|\d{2})"
    r"|(?P<y2>\d{4})-(?P<m2>\d{1,2})-(?P<d2>\d{1,2})"
    r"|(?:[a-z]{3,9},?\s+)?(?P<d3>\d{1,2})(?:st|nd|rd|th)?[\s\-]+(?P<mon>[a-z]{3,9})\.?,?[\s\-]+"
    r"(?P<y3>\d{4}|\d{2}))"
)
TIME_RX = (
    r"(?P<H>\d{1,2})(?:[:.](?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<F>\d{1,9}))?)?)?"
    r"\s*(?P<ap>[ap]\.?m\.?)?"
)
OFFSET_RX = r"\s*(?P<tz>z|utc|gmt|[+\-]\d{2}(?::?\d{2})?)?"
DATETIME_RX = re.compile(
    rf"^{DATE_RX}(?:(?:t|\s+at\s+|,\s*|\s+){TIME_RX}{OFFSET_RX})?$", re.IGNORECASE
)
TIME_ONLY_RX = re.compile(rf"^{TIME_RX}$", re.IGNORECASE)

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
APPOINTMENT_SERIALS = (36526.0, 73051.0)  # Excel serial numbers of 2000-01-01 .. 2100-01-01
DATE_SERIALS = (61.0, 73051.0)  # 1900-03-01 .. 2100-01-01 (Excel's 1900 leap-year bug below)


@dataclass(frozen=True)
class Moments:
    """Dates/times read from cells: wall-clock `local` or, when the cell said so, an instant."""

    local: pd.Series  # datetime64, naive wall-clock; NaT when empty, bad, or given as an instant
    instant: pd.Series  # datetime64 UTC; set only for cells with an explicit offset or zone
    has_time: pd.Series  # bool: the cell carried a time of day
    missing: pd.Series
    bad: pd.Series  # bool: not empty and not readable


def _years(text: pd.Series, pivot_year: int) -> pd.Series:
    """Two-digit years fall in the hundred years that end at `pivot_year` (a four-digit
    year is what it says, even 0001)."""
    y = numbers(text)
    short = text.str.len() == 2
    return y.where(~short, pivot_year - ((pivot_year - y) % 100))


def _hours(h: pd.Series, minutes: pd.Series, ampm: pd.Series) -> pd.Series:
    """24-hour clock from H and am/pm; NaN when the combination is impossible."""
    ap = ampm.str.lower().str[0]
    twelve = ap.notna()
    bad = (twelve & ((h < 1) | (h > 12))) | (~twelve & (h > 23)) | (~twelve & minutes.isna())
    h24 = h.where(~twelve, h % 12 + np.where(ap == "p", 12, 0))
    return h24.where(~bad)


def parse_text_datetimes(text: pd.Series, pivot_year: int) -> pd.DataFrame:
    """Text like "03/12/2026 14:30" -> columns local (naive), has_time, offset (minutes).

    Accepted: day-first numeric dates (/ - .), ISO dates, "3 Dec 2026"; then an optional time
    (14:30, 14.30, 2:30pm, 14:30:05, 14:30:05.123) and an optional offset (Z, +01:00).
    `local` is NaT when the text is not one of these or names an impossible date or time.
    """
    ex = text.str.extract(DATETIME_RX)
    month = numbers(ex.m1.fillna(ex.m2)).fillna(ex.mon.str.lower().map(MONTHS))
    hour = numbers(ex.H)
    minute, second = numbers(ex.M), numbers(ex.S)
    has_time = hour.notna()
    h24 = _hours(hour, minute, ex.ap)
    micro = numbers(ex.F.str.pad(6, side="right", fillchar="0").str[:6])
    parts = pd.DataFrame(
        {
            "year": _years(ex.y1.fillna(ex.y2).fillna(ex.y3), pivot_year),
            "month": month,
            "day": numbers(ex.d1.fillna(ex.d2).fillna(ex.d3)),
            "hour": h24.where(has_time, 0),
            "minute": minute.fillna(0),
            "second": second.fillna(0),
            "us": micro.fillna(0),
        }
    )
    sane = (parts.minute <= 59) & (parts.second <= 59) & parts.notna().all(axis=1)
    local = pd.to_datetime(parts.where(sane, np.nan), errors="coerce")
    local = local.where(sane)
    return pd.DataFrame(
        {"local": local, "has_time": has_time, "offset": _offset_minutes(ex.tz)},
        index=text.index,
    )


def _with_welsh(
    text: pd.Series,
    parse: Callable[[pd.Series], pd.DataFrame],
    read: str,
    rewrite: Callable[[str], str],
) -> pd.DataFrame:
    """`parse` (distinct texts -> a row of answers each; column `read` NaT where refused),
    then the refused texts that the Welsh `rewrite` changes, parsed again in English."""
    got = parse(text)
    refused = text[got[read].isna().to_numpy()]
    if refused.empty:
        return got
    english = refused.map(rewrite)
    changed = english[english != refused]
    if not changed.empty:
        got.loc[changed.index] = parse(changed)
    return got


def _text_moments(text: pd.Series, pivot_year: int) -> pd.DataFrame:
    """parse_text_datetimes, English or Welsh ("19eg o Awst 2027 14:30")."""
    english = partial(parse_text_datetimes, pivot_year=pivot_year)
    return _with_welsh(text, english, "local", welsh_date_to_english)


def _offset_minutes(tz: pd.Series) -> pd.Series:
    tz = tz.str.lower()
    zero = tz.isin(["z", "utc", "gmt"])
    sign = tz.str[0].map({"+": 1, "-": -1})
    digits = tz.str.replace(":", "", regex=False).str[1:]
    hours, mins = numbers(digits.str[:2]), numbers(digits.str[2:4].replace("", "0"))
    minutes = sign * (hours * 60 + mins.fillna(0))
    return minutes.where(~zero, 0.0).astype(float)


def _serials(days: pd.Series, bounds: tuple[float, float]) -> pd.Series:
    """Excel serial day numbers -> naive datetimes (to the second); NaT outside `bounds`."""
    x = days.astype(float)
    ok = (x >= bounds[0]) & (x < bounds[1])
    seconds = (x.where(ok) * 86400).round()
    return EXCEL_EPOCH + pd.to_timedelta(seconds, unit="s")


def _datetimes(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """datetime cells -> (naive wall-clock, UTC instant for aware ones)."""
    aware = values.map(lambda v: getattr(v, "tzinfo", None) is not None).astype(bool)
    local = pd.to_datetime(values[~aware].tolist()) if (~aware).any() else []
    instant = pd.to_datetime(values[aware].tolist(), utc=True) if aware.any() else []
    naive_s = pd.Series(local, index=values.index[~aware], dtype="datetime64[us]")
    aware_s = pd.Series(instant, index=values.index[aware], dtype="datetime64[us, UTC]")
    return naive_s, aware_s


def read_moments(raw: pd.Series, *, serials: tuple[float, float], pivot_year: int) -> Moments:
    """Read a column of date or date-and-time cells of every accepted kind."""
    c = cells(raw)
    idx = raw.index
    local = pd.Series(pd.NaT, index=idx, dtype="datetime64[us]")
    instant = pd.Series(pd.NaT, index=idx, dtype="datetime64[us, UTC]")
    has_time = pd.Series(False, index=idx)
    is_text = c.kind == TEXT
    if is_text.any():
        got = distinct_rows(c.text[is_text], lambda u: _text_moments(u, pivot_year))
        given = got.offset.notna()
        local[got.index[~given]] = got.local[~given]
        shift = pd.to_timedelta(got.offset[given], unit="min")
        instant[got.index[given]] = (got.local[given] - shift).dt.tz_localize("UTC")
        has_time[got.index] = got.has_time
    for kind in (DATETIME, DATE):
        values = c.of(kind)
        if len(values):
            naive, aware = _datetimes(values)
            local[naive.index] = naive
            instant[aware.index] = aware
            if kind == DATETIME:
                has_time[values.index] = True
    day_numbers = c.of(NUMBER)
    if len(day_numbers):
        local[day_numbers.index] = _serials(day_numbers, serials)
        has_time[day_numbers.index] = True
    bad = ~c.missing & local.isna() & instant.isna()
    return Moments(local, instant, has_time, c.missing, bad)


def read_times(raw: pd.Series) -> Parsed:
    """Times of day -> Timedelta since midnight: time cells, "14:30", "2:30pm", day fractions."""
    c = cells(raw)
    out = pd.Series(pd.NaT, index=raw.index, dtype="timedelta64[us]")
    times = c.of(TIME)
    if len(times):
        out[times.index] = pd.to_timedelta(times.map(_seconds_of_time), unit="s")
    moments = c.of(DATETIME)
    if len(moments):
        out[moments.index] = pd.to_timedelta(moments.map(_seconds_of_time), unit="s")
    deltas = c.of(DELTA)
    if len(deltas):
        d = pd.to_timedelta(deltas)
        out[deltas.index] = d.where((d >= pd.Timedelta(0)) & (d < pd.Timedelta(days=1)))
    fractions = c.of(NUMBER).astype(float)
    if len(fractions):
        ok = (fractions >= 0) & (fractions < 1)
        out[fractions.index] = pd.to_timedelta((fractions.where(ok) * 86400).round(), unit="s")
    texts = c.text[c.kind == TEXT]
    if len(texts):
        out[texts.index] = distinct_rows(
            texts, lambda u: _with_welsh(u, _text_times, "delta", welsh_time_to_english)
        ).delta
    bad = ~c.missing & out.isna()
    return Parsed(out, c.missing, codes_where(bad, "invalid-time"))


def _seconds_of_time(value: time | datetime) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def _text_times(text: pd.Series) -> pd.DataFrame:
    ex = text.str.extract(TIME_ONLY_RX)
    minute, second = numbers(ex.M), numbers(ex.S)
    hour = _hours(numbers(ex.H), minute, ex.ap)
    seconds = hour * 3600 + minute.fillna(0) * 60 + second.fillna(0)
    ok = (minute.fillna(0) <= 59) & (second.fillna(0) <= 59)
    return pd.DataFrame({"delta": pd.to_timedelta(seconds.where(ok), unit="s")}, index=text.index)


def localize(local: pd.Series, tz: str) -> tuple[pd.Series, pd.Series]:
    """Wall-clock times in `tz` -> (UTC instants, codes): gap and overlap times get NaT and
    nonexistent-local-time / ambiguous-local-time."""
    aware = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    failed = aware.isna() & local.notna()
    codes = no_codes(local)
    if failed.any():
        standard = np.zeros(int(failed.sum()), dtype=bool)
        retry = local[failed].dt.tz_localize(tz, ambiguous=standard, nonexistent="NaT")
        codes[retry.index] = np.where(
            retry.isna(), "nonexistent-local-time", "ambiguous-local-time"
        )
    return aware.dt.tz_convert("UTC"), codes


def show_local(moment: datetime) -> str:
    """How we write a wall-clock time back to people: day first, 24-hour clock."""
    return moment.strftime("%d/%m/%Y %H:%M")


def _offset_text(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta(0)).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def explain_local_time(local: datetime, tz: str) -> dict[str, str]:
    """Template values for a wall-clock time that falls in a DST gap or overlap."""
    zone = ZoneInfo(tz)
    early, late = local.replace(tzinfo=zone, fold=0), local.replace(tzinfo=zone, fold=1)
    values = {"local": show_local(local), "tz": tz}
    if _exists(local, zone):
        stamp = local.strftime("%Y-%m-%dT%H:%M")
        for key, moment in (("first", early), ("second", late)):
            utc = moment.astimezone(UTC).strftime("%H:%M UTC")
            values[key] = f"{local:%H:%M} {moment.tzname()} ({utc})"
        first = f"{stamp}{_offset_text(early.utcoffset())}"
        values["example"] = _("{written} for the first").format(written=first)
        return values
    start = local
    while not _exists(start - timedelta(minutes=1), zone):
        start -= timedelta(minutes=1)
    jump = (late.utcoffset() or timedelta(0)) - (early.utcoffset() or timedelta(0))
    end = start + abs(jump)
    values.update(gap_start=f"{start:%H:%M}", gap_end=f"{end:%H:%M}")
    return values


def _exists(local: datetime, zone: ZoneInfo) -> bool:
    aware = local.replace(tzinfo=zone)
    back = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    return back == local
