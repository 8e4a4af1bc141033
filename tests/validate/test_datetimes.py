"""datetimes.py: dates and times of every shape and kind of cell, and time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_scheduler.validate import datetimes
from tests.validate.tables import col

PIVOT = 2076  # two-digit years: 00..76 -> 20xx


def read(*values: object) -> datetimes.Moments:
    return datetimes.read_moments(
        col(*values), serials=datetimes.APPOINTMENT_SERIALS, pivot_year=PIVOT
    )


# ---------------------------------------------------------------- dates and times

SHAPES = {
    "iso T": "{d:%Y-%m-%dT%H:%M}",
    "iso space": "{d:%Y-%m-%d %H:%M}",
    "iso seconds": "{d:%Y-%m-%d %H:%M:%S}",
    "uk": "{d:%d/%m/%Y %H:%M}",
    "uk unpadded pm": "{d.day}/{d.month}/{d.year} {h12}:{d:%M}{ampm}",
    "uk short year dot": "{d.day}/{d.month}/{d:%y} {d:%H.%M}",
    "month name": "{d.day} {d:%b %Y %H:%M}",
    "dashes": "{d:%d-%m-%Y %H:%M}",
}


def shape(fmt: str, moment: datetime) -> str:
    h12 = moment.hour % 12 or 12
    return fmt.format(d=moment, h12=h12, ampm="pm" if moment.hour >= 12 else "am")


naive_minutes = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2075, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0)
)


@settings(max_examples=60, deadline=None)
@given(moment=naive_minutes, name=st.sampled_from(sorted(SHAPES)))
def test_every_text_shape_reads_back_the_same_wall_clock_time(moment: datetime, name: str) -> None:
    m = read(shape(SHAPES[name], moment))
    assert not m.bad.iat[0]
    assert m.local.iat[0] == pd.Timestamp(moment)
    assert m.has_time.iat[0]


@settings(max_examples=60, deadline=None)
@given(moment=naive_minutes, minutes=st.integers(-12 * 60, 14 * 60), z=st.booleans())
def test_text_with_an_offset_is_that_instant(moment: datetime, minutes: int, z: bool) -> None:
    zone = timezone(timedelta(minutes=minutes))
    aware = moment.replace(tzinfo=UTC if z and minutes == 0 else zone)
    text = aware.isoformat().replace("+00:00", "Z") if z else aware.isoformat()
    m = read(text)
    assert pd.isna(m.local.iat[0])
    assert m.instant.iat[0] == pd.Timestamp(aware)


@settings(max_examples=40, deadline=None)
@given(day=st.integers(1, 12), month=st.integers(1, 12))
def test_numeric_dates_are_read_day_first(day: int, month: int) -> None:
    m = read(f"{day:02d}/{month:02d}/2027 10:00")
    assert m.local.iat[0] == pd.Timestamp(2027, month, day, 10, 0)


@pytest.mark.parametrize(
    "text",
    [
        "31/02/2027 10:00",
        "03/12/2027 25:00",
        "03/12/2027 14:61",
        "3/12/2027 0:30am",
        "soon",
        "2027",
    ],
)
def test_impossible_or_unreadable_text_is_bad(text: str) -> None:
    assert read(text).bad.iat[0]


def test_a_four_digit_year_is_never_taken_for_a_two_digit_one() -> None:
    assert read("03/12/0027 10:00").local.iat[0] == pd.Timestamp(27, 12, 3, 10, 0)
    assert read("03/12/27 10:00").local.iat[0] == pd.Timestamp(2027, 12, 3, 10, 0)


def test_cells_of_every_kind() -> None:
    aware = datetime(2027, 7, 14, 14, 30, tzinfo=UTC)
    m = read(datetime(2027, 7, 14, 14, 30), 46582.6041666667, aware, date(2027, 7, 14), None, "  ")
    assert m.local.iat[0] == pd.Timestamp(2027, 7, 14, 14, 30)
    assert m.local.iat[1] == pd.Timestamp(2027, 7, 14, 14, 30)  # Excel serial
    assert m.instant.iat[2] == pd.Timestamp(aware)
    assert not m.has_time.iat[3]
    assert list(m.missing) == [False, False, False, False, True, True]


@pytest.mark.parametrize("serial", [5.5, 80000.0])
def test_serial_numbers_outside_a_sane_range_are_bad(serial: float) -> None:
    assert read(serial).bad.iat[0]


def test_times_of_day() -> None:
    p = datetimes.read_times(col("14:30", "2:30pm", time(9, 15), 0.5, "25:00", "x", None))
    assert p.values.iloc[:4].tolist() == [
        pd.Timedelta(hours=14, minutes=30),
        pd.Timedelta(hours=14, minutes=30),
        pd.Timedelta(hours=9, minutes=15),
        pd.Timedelta(hours=12),
    ]
    assert p.codes.tolist()[4:6] == ["invalid-time", "invalid-time"]
    assert p.missing.iat[6]


def test_localize_finds_gap_and_overlap() -> None:
    local = pd.Series(pd.to_datetime(["2027-03-28 01:30", "2027-10-31 01:30", "2027-07-14 14:30"]))
    utc, codes = datetimes.localize(local, "Europe/London")
    assert codes.tolist()[:2] == ["nonexistent-local-time", "ambiguous-local-time"]
    assert utc.iat[2] == pd.Timestamp("2027-07-14 13:30", tz="UTC")
