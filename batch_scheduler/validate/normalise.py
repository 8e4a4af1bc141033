"""Turn raw cells into API-ready values, a whole column at a time.

Cells arrive as the reader read them: str, datetime/date/time/timedelta, int/float, bool or
None. Each `parse_*` function takes one column (a Series) and returns a `Parsed`: the
normalised values, which cells were empty, and an issue code for each cell that could not
be read. Range and length rules are not checked here: the pandera schema does that on the
normalised values (schema.py).

Speed: columns are worked on whole, as numpy arrays (pandas only where it does the work),
text is trimmed and looked up once per distinct value, and the slow per-value libraries
(phonenumbers, email_validator) see each distinct value once, after an exact fast path for
the common shapes has answered the rest (tests prove the fast paths agree with them).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import email_validator
import numpy as np
import pandas as pd
import phonenumbers

from batch_scheduler.intake import fold_header
from batch_scheduler.issues import phone_mangled
from batch_scheduler.validate import mojibake


@dataclass(frozen=True)
class Parsed:
    """One column, normalised. All three Series share the input's index."""

    values: pd.Series  # normalised values; NA where the cell is empty or bad
    missing: pd.Series  # bool: the cell is empty (None, NaN, blank or whitespace-only text)
    codes: pd.Series  # object: an issue code, or None when the cell is fine or empty
    details: pd.Series | None = None  # object: None, or a dict of values for the message


# ---------------------------------------------------------------- cell kinds

MISSING, TEXT, NUMBER, BOOL, DATETIME, DATE, TIME, DELTA, OTHER = range(9)
_KIND_OF_TYPE: dict[type, int] = {
    type(None): MISSING,
    str: TEXT,
    int: NUMBER,
    float: NUMBER,
    np.int64: NUMBER,
    np.float64: NUMBER,
    bool: BOOL,
    np.bool_: BOOL,
    datetime: DATETIME,
    pd.Timestamp: DATETIME,
    date: DATE,
    time: TIME,
    timedelta: DELTA,
    pd.Timedelta: DELTA,
}


@dataclass(frozen=True)
class Cells:
    """A raw column split by what kind of value each cell holds."""

    raw: pd.Series
    kind: pd.Series  # int codes above
    text: pd.Series  # stripped text for TEXT cells, NA elsewhere

    @property
    def missing(self) -> pd.Series:
        return self.kind == MISSING

    def of(self, kind: int) -> pd.Series:
        return self.raw[self.kind == kind]


def cells(raw: pd.Series) -> Cells:
    """Classify each cell; NaN/NaT and blank or whitespace-only text count as missing."""
    raw = raw.astype(object)
    values = raw.to_numpy()
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        kind, text = _text_cells(values)  # the common case
    else:
        kind, text = _mixed_cells(values)
    index = raw.index
    return Cells(raw, pd.Series(kind, index=index), pd.Series(text, index=index, dtype=object))


def _text_cells(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kinds and trimmed text of a column of text and NA, worked out once per distinct value.

    Besides saving work, the text comes back as one object per distinct value: a fresh
    sheet's cells lie scattered in memory, and every later pass over them is faster so.
    """
    codes, uniques = pd.factorize(values)  # NA -> -1, which picks the last entry below
    trimmed = [u.strip() for u in uniques.tolist()]
    kinds = np.array([TEXT if t else MISSING for t in trimmed] + [MISSING], dtype=np.int64)
    texts = np.array([t if t else pd.NA for t in trimmed] + [pd.NA], dtype=object)
    return kinds[codes], texts[codes]


def _mixed_cells(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kinds and trimmed text of a column holding anything, cell by cell."""
    kind = np.fromiter(
        (_KIND_OF_TYPE.get(type(v), OTHER) for v in values), dtype=np.int64, count=len(values)
    )
    kind[pd.isna(values)] = MISSING
    text = np.full(len(values), pd.NA, dtype=object)
    at = np.flatnonzero(kind == TEXT)
    if at.size:
        text[at] = [v.strip() for v in values[at].tolist()]  # no copy when nothing to strip
        blank = at[text[at] == ""]
        kind[blank] = MISSING
        text[blank] = pd.NA
    return kind, text


def per_distinct(values: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """`fn` applied once per distinct value (columns repeat a lot), spread back in place.
    `values` must hold no NA."""
    codes, uniques = pd.factorize(values)
    answers = fn(pd.Series(uniques, dtype=object)).to_numpy(dtype=object)
    return pd.Series(answers[codes], index=values.index, dtype=object)


def _each_distinct(values: np.ndarray, fn: Callable[[Any], Any]) -> np.ndarray:
    """`fn` called once per distinct value of `values` (no NA), answers in `values`' order."""
    codes, uniques = pd.factorize(values)
    answers = np.fromiter(map(fn, uniques.tolist()), dtype=object, count=len(uniques))
    return answers[codes]


def _distinct_parts(values: np.ndarray, fn: Callable[[Any], tuple[Any, ...]]) -> list[np.ndarray]:
    """`fn` (which answers a tuple) called once per distinct value of `values` (no NA, not
    empty); each part of the answers spread back over `values`, one array per part."""
    codes, uniques = pd.factorize(values)
    parts = zip(*map(fn, uniques.tolist()), strict=True)
    return [np.fromiter(part, dtype=object, count=len(uniques))[codes] for part in parts]


def as_text(raw: pd.Series) -> Parsed:
    """Any cell as trimmed text: whole floats lose their ".0", dates become ISO text."""
    return _as_text(cells(raw))


def _as_text(c: Cells) -> Parsed:
    values = c.text.to_numpy(copy=True)
    kind = c.kind.to_numpy()
    other = np.flatnonzero((kind != MISSING) & (kind != TEXT))
    if other.size:
        values[other] = [cell_text(v) for v in c.raw.to_numpy()[other].tolist()]
    index = c.raw.index
    return Parsed(pd.Series(values, index=index, dtype=object), c.missing, _no_codes(c.raw))


def cell_text(value: Any) -> str:
    """A cell's value as text, for messages: ISO for dates, no ".0" on whole floats."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _no_codes(like: pd.Series) -> pd.Series:
    return pd.Series(None, index=like.index, dtype=object)


def _codes_where(mask: pd.Series, code: str) -> pd.Series:
    return pd.Series(_code_array(mask.to_numpy(dtype=bool), code), index=mask.index, dtype=object)


def _code_array(flags: np.ndarray, code: str) -> np.ndarray:
    out = np.full(len(flags), None, dtype=object)
    out[flags] = code
    return out


# ---------------------------------------------------------------- dates and times

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


def _num(col: pd.Series) -> pd.Series:
    return pd.to_numeric(col, errors="coerce")


def _years(text: pd.Series, pivot_year: int) -> pd.Series:
    """Two-digit years fall in the hundred years that end at `pivot_year` (a four-digit
    year is what it says, even 0001)."""
    y = _num(text)
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
    month = _num(ex.m1.fillna(ex.m2)).fillna(ex.mon.str.lower().map(MONTHS))
    hour = _num(ex.H)
    minute, second = _num(ex.M), _num(ex.S)
    has_time = hour.notna()
    h24 = _hours(hour, minute, ex.ap)
    micro = _num(ex.F.str.pad(6, side="right", fillchar="0").str[:6])
    parts = pd.DataFrame(
        {
            "year": _years(ex.y1.fillna(ex.y2).fillna(ex.y3), pivot_year),
            "month": month,
            "day": _num(ex.d1.fillna(ex.d2).fillna(ex.d3)),
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


def _offset_minutes(tz: pd.Series) -> pd.Series:
    tz = tz.str.lower()
    zero = tz.isin(["z", "utc", "gmt"])
    sign = tz.str[0].map({"+": 1, "-": -1})
    digits = tz.str.replace(":", "", regex=False).str[1:]
    hours, mins = _num(digits.str[:2]), _num(digits.str[2:4].replace("", "0"))
    minutes = sign * (hours * 60 + mins.fillna(0))
    return minutes.where(~zero, 0.0).astype(float)


def _distinct(text: pd.Series, parse: Callable[[pd.Series], pd.DataFrame]) -> pd.DataFrame:
    """Run `parse` once per distinct text value and spread the answers back."""
    codes, uniques = pd.factorize(text)
    answers = parse(pd.Series(uniques, dtype=object))
    out = answers.iloc[codes]
    out.index = text.index
    return out


def _serials(numbers: pd.Series, bounds: tuple[float, float]) -> pd.Series:
    """Excel serial day numbers -> naive datetimes (to the second); NaT outside `bounds`."""
    x = numbers.astype(float)
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
        got = _distinct(c.text[is_text], lambda u: parse_text_datetimes(u, pivot_year))
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
    numbers = c.of(NUMBER)
    if len(numbers):
        local[numbers.index] = _serials(numbers, serials)
        has_time[numbers.index] = True
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
    numbers = c.of(NUMBER).astype(float)
    if len(numbers):
        ok = (numbers >= 0) & (numbers < 1)
        out[numbers.index] = pd.to_timedelta((numbers.where(ok) * 86400).round(), unit="s")
    texts = c.text[c.kind == TEXT]
    if len(texts):
        out[texts.index] = _distinct(texts, _text_times).delta
    bad = ~c.missing & out.isna()
    return Parsed(out, c.missing, _codes_where(bad, "invalid-time"))


def _seconds_of_time(value: time | datetime) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def _text_times(text: pd.Series) -> pd.DataFrame:
    ex = text.str.extract(TIME_ONLY_RX)
    minute, second = _num(ex.M), _num(ex.S)
    hour = _hours(_num(ex.H), minute, ex.ap)
    seconds = hour * 3600 + minute.fillna(0) * 60 + second.fillna(0)
    ok = (minute.fillna(0) <= 59) & (second.fillna(0) <= 59)
    return pd.DataFrame({"delta": pd.to_timedelta(seconds.where(ok), unit="s")}, index=text.index)


def localize(local: pd.Series, tz: str) -> tuple[pd.Series, pd.Series]:
    """Wall-clock times in `tz` -> (UTC instants, codes): gap and overlap times get NaT and
    nonexistent-local-time / ambiguous-local-time."""
    aware = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    failed = aware.isna() & local.notna()
    codes = _no_codes(local)
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
        values["example"] = f"{stamp}{_offset_text(early.utcoffset())} for the first"
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


# ---------------------------------------------------------------- numbers and booleans

_INTEGER_TEXT = re.compile(r"^[+-]?\d+(?:\.0*)?(?:\s*(?:m|mins?|minutes?))?$", re.IGNORECASE)


def parse_integer(raw: pd.Series) -> Parsed:
    """Whole numbers: 30, 30.0, "30", " 30 mins "; 30.5, "thirty" and booleans are invalid."""
    return _integers(cells(raw))


def _integers(c: Cells) -> Parsed:
    out = pd.Series(pd.NA, index=c.raw.index, dtype="Float64")
    numbers = c.of(NUMBER).astype(float)
    if len(numbers):
        out[numbers.index] = numbers.where(numbers.mod(1) == 0)
    texts = c.text[c.kind == TEXT]
    if len(texts):
        codes, uniques = pd.factorize(texts)
        whole = _num(_integer_text(pd.Series(uniques, dtype=object)))
        out[texts.index] = whole.to_numpy(dtype=float)[codes]
    ints = out.where(out.abs() < 2**53).round().astype("Int64")
    bad = ~c.missing & ints.isna()
    return Parsed(ints, c.missing, _codes_where(bad, "invalid-integer"))


def _integer_text(text: pd.Series) -> pd.Series:
    good = text.str.match(_INTEGER_TEXT).astype(bool)
    return text.str.extract(r"^([+-]?\d+)", expand=False).where(good)


TRUE_WORDS = ("yes", "y", "true", "t", "1")
FALSE_WORDS = ("no", "n", "false", "f", "0")
_BOOL_WORDS = {w: True for w in TRUE_WORDS} | {w: False for w in FALSE_WORDS}


def parse_boolean(raw: pd.Series) -> Parsed:
    """yes/no/true/false/y/n/1/0 in any case, real booleans, and the numbers 1 and 0."""
    c = cells(raw)
    kind, values = c.kind.to_numpy(), c.raw.to_numpy()
    answers = np.full(len(values), None, dtype=object)
    for code, read in ((BOOL, bool), (NUMBER, lambda v: _NUMBER_WORDS.get(float(v)))):
        at = np.flatnonzero(kind == code)
        if at.size:
            answers[at] = [read(v) for v in values[at].tolist()]
    at = np.flatnonzero(kind == TEXT)
    if at.size:
        answers[at] = _each_distinct(c.text.to_numpy()[at], lambda t: _BOOL_WORDS.get(t.lower()))
    out = pd.Series(pd.array(answers, dtype="boolean"), index=raw.index)
    bad = ~c.missing & out.isna()
    return Parsed(out, c.missing, _codes_where(bad, "invalid-boolean"))


_NUMBER_WORDS = {1.0: True, 0.0: False}


def parse_choice(raw: pd.Series) -> Parsed:
    """Enum text: trimmed and lower-cased (the schema checks it is one of the choices)."""
    text = as_text(raw)
    lowered = text.values.to_numpy(copy=True)
    at = np.flatnonzero(~text.missing.to_numpy())
    if at.size:
        lowered[at] = _each_distinct(lowered[at], str.lower)
    return Parsed(pd.Series(lowered, index=raw.index, dtype=object), text.missing, text.codes)


# ---------------------------------------------------------------- phones

_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?e[+-]?\d+$", re.IGNORECASE)
_ONLY_DIGITS = re.compile(r"^[1-9]\d{5,14}$")  # no leading 0 or +: a number, turned into text
# "07700 900123", "07700900123", "+447700900123", "+44 7700 900123": only ever a GB mobile
_UK_MOBILE_SHAPE = re.compile(r"^(?:0|\+44 ?)(7\d{3}) ?(\d{6})$")


@cache
def _gb_mobile() -> re.Pattern[str]:
    """The GB mobile number pattern from phonenumbers' own metadata, so the fast path and the
    library can never disagree about which national numbers are mobiles."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("GB")
    assert metadata is not None and metadata.mobile is not None
    return re.compile(f"(?:{metadata.mobile.national_number_pattern})")


def fast_phone(text: str, region: str) -> str | None:
    """E.164 for the common UK mobile shapes the library would accept; None for anything else
    (those go to the library)."""
    shape = _UK_MOBILE_SHAPE.match(text)
    if shape is None or (region != "GB" and text.startswith("0")):
        return None
    national = shape[1] + shape[2]
    return "+44" + national if _gb_mobile().fullmatch(national) else None


def library_phone(text: str, region: str) -> str | None:
    """E.164 if phonenumbers says the number is valid, else None."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def likely_phone(number: float, region: str, *, digits_lost: bool) -> str | None:
    """What a number Excel mangled probably was, for the message: never used as a value."""
    if digits_lost or not float(number).is_integer() or number <= 0:
        return None
    digits = str(int(number))
    for candidate in ("0" + digits, "+" + digits):
        e164 = library_phone(candidate, region)
        if e164:
            parsed = phonenumbers.parse(e164)
            style = phonenumbers.PhoneNumberFormat
            home = parsed.country_code == phonenumbers.country_code_for_region(region)
            return phonenumbers.format_number(parsed, style.NATIONAL if home else style.E164)
    return None


def _mangled_text(text: str) -> tuple[float, bool]:
    """A scientific-notation text -> (its value, whether digits were lost)."""
    mantissa = text.lower().split("e")[0].replace(",", ".").lstrip("+-")
    value = float(text.replace(",", "."))
    significant = len(mantissa.replace(".", "").lstrip("0"))
    whole = len(str(int(value))) if value.is_integer() else significant + 1
    return value, significant < whole


@cache
def _writes_leading_zero(region: str) -> bool:
    """Whether national numbers in `region` start with 0 (GB: 020 7946 0123), so one written
    without it lost it on the way; not so where the national prefix is 1 or none (US)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return metadata is not None and metadata.national_prefix == "0"


def _phone_text(text: str, region: str) -> tuple[str | None, str | None, dict[str, str] | None]:
    """(E.164 or None, issue code or None, message values) for one trimmed text cell."""
    e164 = fast_phone(text, region)  # the common shapes never look scientific nor lack the 0
    if e164 is None and _SCIENTIFIC.match(text):
        value, lost = _mangled_text(text)
        likely = likely_phone(value, region, digits_lost=lost)
        return None, "phone-mangled", phone_mangled("scientific", likely)
    if e164 is None and _ONLY_DIGITS.match(text) and _writes_leading_zero(region):
        # 2079460123: a number cell somewhere upstream (Excel, a CSV export) dropped the 0 or
        # the +, exactly as in a number cell here, and is caught the same way
        likely = likely_phone(float(text), region, digits_lost=False)
        if likely:
            return None, "phone-mangled", phone_mangled("digits", likely)
    e164 = e164 or library_phone(text, region)
    return e164, None if e164 else "invalid-phone", None


def parse_phone(raw: pd.Series, region: str) -> Parsed:
    """Phone numbers -> E.164 (valid numbers only). Numbers Excel mangled -> phone-mangled,
    whether the cell is a number or text that was one (4.477009E+11, 2079460123)."""
    c = cells(raw)
    kind, n = c.kind.to_numpy(), len(raw)
    out = np.full(n, pd.NA, dtype=object)
    codes, details = np.full(n, None, dtype=object), np.full(n, None, dtype=object)
    at = np.flatnonzero(kind == TEXT)
    if at.size:
        texts = c.text.to_numpy()[at]
        e164, code, detail = _distinct_parts(texts, lambda t: _phone_text(t, region))
        mangled = code == "phone-mangled"
        out[at[~mangled]] = e164[~mangled]  # None when not a valid number
        codes[at], details[at] = code, detail
    at = np.flatnonzero(kind == NUMBER)
    if at.size:
        numbers = c.raw.to_numpy()[at].tolist()
        codes[at] = "phone-mangled"
        details[at] = [
            phone_mangled("number", likely_phone(float(v), region, digits_lost=False))
            for v in numbers
        ]
    bad = (kind != MISSING) & pd.isna(out) & pd.isna(codes)
    codes[bad] = "invalid-phone"  # neither text nor a number: a date, a boolean...
    index = raw.index
    return Parsed(
        pd.Series(out, index=index, dtype=object),
        c.missing,
        pd.Series(codes, index=index, dtype=object),
        pd.Series(details, index=index, dtype=object),
    )


# ---------------------------------------------------------------- emails

_PLAIN_EMAIL = re.compile(
    r"^(?P<local>[A-Za-z0-9_+\-]+(?:\.[A-Za-z0-9_+\-]+)*)@"
    r"(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})$"
)
_SPECIAL_DOMAINS = tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES)
_SPECIAL_SUFFIXES = tuple("." + name for name in _SPECIAL_DOMAINS)


def fast_email(text: str) -> str | None:
    """The normalised form of a plain ascii address the library would accept unchanged
    (apart from lower-casing the domain); None for anything else (that goes to the library)."""
    found = _PLAIN_EMAIL.match(text)
    if found is None or len(text) > 254 or len(found["local"]) > 64:
        return None
    domain = found["domain"].lower()
    if "--" in domain or len(domain) > 253:
        return None
    if domain in _SPECIAL_DOMAINS or domain.endswith(_SPECIAL_SUFFIXES):
        return None
    return f"{found['local']}@{domain}"


_ADDRESS = re.compile(r"^(?:the|an) email address ", re.IGNORECASE)


def library_email(text: str) -> tuple[str | None, str | None]:
    """(normalised address, None) if email_validator accepts it, else (None, its reason),
    phrased to follow "is not a valid email address: " ("it must have an @-sign")."""
    try:
        found = email_validator.validate_email(text, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        reason = _ADDRESS.sub("it ", str(exc).rstrip("."))
        return None, reason[:1].lower() + reason[1:]
    return found.normalized, None


def _email(text: str) -> tuple[str | None, dict[str, str] | None]:
    fast = fast_email(text)
    if fast:
        return fast, None
    address, reason = library_email(text)
    return address, {"reason": reason} if reason else None


def parse_email(raw: pd.Series) -> Parsed:
    """Email addresses -> email_validator's normalised form (no network)."""
    text = as_text(raw)
    n = len(raw)
    out, details = np.full(n, pd.NA, dtype=object), np.full(n, None, dtype=object)
    present = ~text.missing.to_numpy()
    at = np.flatnonzero(present)
    if at.size:
        out[at], details[at] = _distinct_parts(text.values.to_numpy()[at], _email)
    bad = present & pd.isna(out)
    index = raw.index
    return Parsed(
        pd.Series(out, index=index, dtype=object),
        text.missing,
        pd.Series(_code_array(bad, "invalid-email"), index=index, dtype=object),
        pd.Series(details, index=index, dtype=object),
    )


# ---------------------------------------------------------------- free text


def parse_free_text(raw: pd.Series) -> Parsed:
    """Text people type (names, languages, reasons) as trimmed text; text that looks garbled
    by another program's wrong decoding ("SiÃ¢n") gets code mojibake (a warning) and, as the
    message value "intended", what it most likely said. Ids and URLs do not come here."""
    text = as_text(raw)
    n = len(raw)
    codes, details = np.full(n, None, dtype=object), np.full(n, None, dtype=object)
    at = np.flatnonzero(~text.missing.to_numpy())
    if at.size:
        intended = _each_distinct(text.values.to_numpy()[at], mojibake.intended)
        garbled = pd.notna(intended)
        codes[at[garbled]] = "mojibake"
        details[at[garbled]] = [{"intended": t} for t in intended[garbled].tolist()]
    index = raw.index
    return Parsed(
        text.values,
        text.missing,
        pd.Series(codes, index=index, dtype=object),
        pd.Series(details, index=index, dtype=object),
    )


# ---------------------------------------------------------------- urls, ids, departments


def url_problem(text: str) -> str | None:
    """None for an https URL with a host; else insecure-url or invalid-url."""
    if any(ch.isspace() for ch in text):
        return "invalid-url"
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return "invalid-url"
    if not host or parts.scheme.lower() not in ("http", "https"):
        return "invalid-url"
    return "insecure-url" if parts.scheme.lower() == "http" else None


def parse_url(raw: pd.Series) -> Parsed:
    """Redirect addresses: https only."""
    text = as_text(raw)
    present = text.values[~text.missing]
    problems = {u: url_problem(u) for u in present.unique()}
    codes = _no_codes(raw)
    codes[present.index] = present.map(problems)
    values = text.values.where(codes.isna())
    return Parsed(values, text.missing, codes)


_UUID = re.compile(r"[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}")


def parse_uuid(raw: pd.Series) -> Parsed:
    """Appointment ids: a UUID in any case -> lower case."""
    text = as_text(raw)
    lowered = text.values.copy()
    present = text.values[~text.missing]
    if len(present):
        lowered[present.index] = per_distinct(present, lambda u: u.str.lower())
    ok = lowered.str.fullmatch(_UUID).fillna(False).astype(bool)
    bad = ~text.missing & ~ok
    return Parsed(lowered.where(ok), text.missing, _codes_where(bad, "invalid-appointment-id"))


def fold_name(name: str) -> str:
    """Department names match after folding case, spaces and punctuation."""
    return fold_header(name)


def closest_departments(text: str, departments: Mapping[str, int], most: int = 3) -> list[str]:
    """The configured department names most like `text` (after folding), best first."""
    by_folded = {fold_name(name): name for name in departments}
    close = difflib.get_close_matches(fold_name(text), list(by_folded), n=most, cutoff=0.6)
    return [by_folded[c] for c in close]


def parse_department(raw: pd.Series, departments: Mapping[str, int]) -> Parsed:
    """An id (whole number) or a configured name -> the department id."""
    c = cells(raw)
    ids, text = _integers(c), _as_text(c)
    by_name = {fold_name(k): v for k, v in departments.items()}
    named = text.values[ids.codes.notna()]
    floats = ids.values.astype("Float64")
    if len(named):
        found = _each_distinct(named.to_numpy(), lambda n: by_name.get(fold_name(n)))
        floats.loc[named.index] = pd.array(found, dtype="Float64")
    values = floats.astype("Int64")
    if departments:
        known = set(departments.values())
        values = values.where(values.isin(known) | values.isna())
    bad = ~text.missing & values.isna()
    return Parsed(values, text.missing, _codes_where(bad, "unknown-department"))
