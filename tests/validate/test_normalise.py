"""normalise.py: cells -> API-ready values, and the fast paths agreeing with the libraries."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import ftfy
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from batch_scheduler.issues import phone_mangled
from batch_scheduler.validate import datetimes, mojibake, normalise

PIVOT = 2076  # two-digit years: 00..76 -> 20xx


def col(*values: object) -> pd.Series:
    return pd.Series(list(values), dtype=object)


def read(*values: object) -> normalise.Moments:
    return normalise.read_moments(
        col(*values), serials=normalise.APPOINTMENT_SERIALS, pivot_year=PIVOT
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


# the shapes of date and time people type, each part at and past the edges of its range
TYPED_SHAPES = (
    "{d:02d}/{m:02d}/{y} {H:02d}:{M:02d}",
    "{d}/{m}/{y} {H}:{M:02d}",
    "{d}/{m}/{y} {h}:{M:02d}pm",
    "{d}/{m}/{y} {h}am",
    "{d}.{m}.{y} {H}.{M:02d}",
    "{y}-{m:02d}-{d:02d}T{H:02d}:{M:02d}",
    "{d}/{m}/{y} {H}",
    "{d}/{m}/{y}",
    "{H}:{M:02d}",
)


def test_every_unreadable_date_and_time_gets_its_own_reason() -> None:
    """Whatever part of a typed date and time is impossible, the message says which: every
    combination of edge values in every shape, read as one column."""
    texts = sorted(
        {
            shape.format(d=d, m=m, y=y, H=hour, M=minute, h=hour)
            for shape in TYPED_SHAPES
            for d in (0, 1, 28, 29, 30, 31, 32)
            for m in (0, 1, 2, 4, 12, 13, 15)
            for y in ("2027", "2028", "27", "0000")
            for hour in (0, 9, 12, 13, 23, 24, 25)
            for minute in (0, 59, 60, 61)
        }
    )
    moments = read(*texts)
    bad = [t for t, wrong in zip(texts, moments.bad | ~moments.has_time, strict=True) if wrong]
    assert len(bad) > len(texts) / 2
    for text in bad:
        why = datetimes.explain(text, "datetime", PIVOT)
        assert why["why"].startswith(": ") and why["advice"].endswith("."), (text, why)


@pytest.mark.parametrize(
    ("cell", "want", "why"),
    [
        (
            "31/02/2027 10:00",
            "datetime",
            ": there is no 31 February 2027 (February 2027 has 28 days)",
        ),
        ("29/02/27", "date", ": there is no 29 February 2027 (2027 is not a leap year)"),
        ("01/15/2027", "date", ": 15 is not a month"),
        ("03/12/2027 25:00", "datetime", ": there is no hour 25"),
        ("03/12/2027 14:61", "datetime", ": there is no minute 61"),
        ("25:00", "datetime", ": it is a time of day with no date, and there is no hour 25"),
        ("03/12/2027", "datetime", ": it has a date but no time of day"),
        (
            "3/12/2027 0:30am",
            "datetime",
            ": “0:30am” mixes the 24-hour clock and the 12-hour clock (am/pm)",
        ),
        ("25:99", "time", ": there is no hour 25"),
        ("14/07/2026 14:30", "time", ": it has a date as well as a time"),
        ("14/07/2026", "time", ": it is a date, not a time of day"),
        ("14:30", "date", ": it is a time of day, not a date"),
        (80000.0, "datetime", ": it is a number, not a date and time"),
    ],
)
def test_what_is_wrong_with_a_date_or_time(cell: object, want: datetimes.Want, why: str) -> None:
    assert datetimes.explain(cell, want, PIVOT)["why"] == why


def test_nothing_more_to_say_keeps_the_general_advice() -> None:
    assert datetimes.explain("next tuesday", "datetime", PIVOT) == {}
    assert datetimes.explain(True, "date", PIVOT) == {}


def test_cells_of_every_kind() -> None:
    aware = datetime(2027, 7, 14, 14, 30, tzinfo=UTC)
    m = read(datetime(2027, 7, 14, 14, 30), 46582.6041666667, aware, date(2027, 7, 14), None, "  ")
    assert m.local.iat[0] == pd.Timestamp(2027, 7, 14, 14, 30)
    assert m.local.iat[1] == pd.Timestamp(2027, 7, 14, 14, 30)  # Excel serial
    assert m.instant.iat[2] == pd.Timestamp(aware)
    assert not m.has_time.iat[3]
    assert list(m.missing) == [False, False, False, False, True, True]


text_cells = st.lists(
    st.one_of(
        st.none(),
        st.just(float("nan")),
        st.sampled_from(["Yes", " yes ", "", "   ", "\t07400 123456\n", "No"]),
        st.text(alphabet=" \t\nab\u00a0\u2003", max_size=4),
    ),
    max_size=30,
)


@given(text_cells)
@settings(max_examples=200, deadline=None)
def test_a_text_column_reads_the_same_as_one_with_other_kinds(values: list[object]) -> None:
    """Text-only columns are read once per distinct value; mixed ones cell by cell."""
    alone = normalise.cells(col(*values))
    mixed = normalise.cells(col(*values, 7))  # the number sends the column down the other path
    assert alone.kind.tolist() == mixed.kind.tolist()[:-1]
    assert alone.text.tolist() == mixed.text.tolist()[:-1]


@pytest.mark.parametrize("serial", [5.5, 80000.0])
def test_serial_numbers_outside_a_sane_range_are_bad(serial: float) -> None:
    assert read(serial).bad.iat[0]


def test_times_of_day() -> None:
    p = normalise.read_times(col("14:30", "2:30pm", time(9, 15), 0.5, "25:00", "x", None))
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
    utc, codes = normalise.localize(local, "Europe/London")
    assert codes.tolist()[:2] == ["nonexistent-local-time", "ambiguous-local-time"]
    assert utc.iat[2] == pd.Timestamp("2027-07-14 13:30", tz="UTC")


# ---------------------------------------------------------------- numbers and booleans


def test_integers() -> None:
    p = normalise.parse_integer(col(30, 30.0, "45", " 45 mins ", 30.5, "thirty", True, None))
    assert p.values.iloc[:4].tolist() == [30, 30, 45, 45]
    assert p.codes.iloc[4:7].tolist() == ["invalid-integer"] * 3
    assert p.missing.iat[7]


def test_booleans() -> None:
    p = normalise.parse_boolean(col("Yes", "n", "TRUE", "f", 1, 0.0, True, "maybe", 2, None))
    assert p.values.iloc[:7].tolist() == [True, False, True, False, True, False, True]
    assert p.codes.iloc[7:9].tolist() == ["invalid-boolean"] * 2
    assert p.missing.iat[9]


# ---------------------------------------------------------------- phones


def test_phones() -> None:
    p = normalise.parse_phone(
        col("07911 123456", "+44 7911 123456", "020 7946 0000", "+33 1 23 45 67 89", "123", None),
        "GB",
    )
    assert p.values.iloc[:4].tolist() == [
        "+447911123456",
        "+447911123456",
        "+442079460000",
        "+33123456789",
    ]
    assert p.codes.iat[4] == "invalid-phone"


def test_numbers_excel_mangled_are_caught_with_the_likely_number() -> None:
    p = normalise.parse_phone(col(7911123456, "4.47911123456E+11", "7.7009E+09"), "GB")
    assert p.codes.tolist() == ["phone-mangled"] * 3
    assert p.details is not None
    assert p.details.tolist() == [
        phone_mangled("number", "07911 123456"),
        phone_mangled("scientific", "07911 123456"),
        phone_mangled("scientific", None),  # digits lost: no guess
    ]


def test_a_phone_that_lost_its_zero_before_it_became_text_is_caught_like_a_number() -> None:
    """7400900123 typed as text, or in a CSV: a number cell upstream dropped the 0 (or +)."""
    p = normalise.parse_phone(col("7400900123", 7400900123, "447400900123", "7400 900123"), "GB")
    assert p.codes.tolist() == ["phone-mangled"] * 3 + [None]
    assert p.values.tolist()[:3] == [pd.NA] * 3
    assert p.details is not None
    assert p.details.tolist()[:3] == [
        phone_mangled("digits", "07400 900123"),
        phone_mangled("number", "07400 900123"),
        phone_mangled("digits", "07400 900123"),
    ]


def test_digits_are_a_whole_national_number_where_numbers_have_no_leading_zero() -> None:
    p = normalise.parse_phone(col("2025550123"), "US")
    assert p.values.tolist() == ["+12025550123"] and p.codes.tolist() == [None]


uk_mobile_text = st.builds(
    lambda lead, digits, gap: f"{lead}7{digits[:3]}{gap}{digits[3:]}",
    st.sampled_from(["0", "+44", "+44 "]),
    st.text("0123456789", min_size=9, max_size=9),
    st.sampled_from(["", " "]),
)


@settings(max_examples=400, deadline=None)
@given(text=uk_mobile_text, region=st.sampled_from(["GB", "FR"]))
def test_phone_fast_path_agrees_with_phonenumbers(text: str, region: str) -> None:
    fast = normalise.fast_phone(text, region)
    if fast is not None:
        assert fast == normalise.library_phone(text, region)


def test_phone_fast_path_answers_the_common_shapes() -> None:
    assert normalise.fast_phone("07400 123456", "GB") == "+447400123456"
    assert normalise.fast_phone("+44 7400 123456", "GB") == "+447400123456"


# ---------------------------------------------------------------- free text

GENUINE_NAMES = (
    "Siân Llewelyn",
    "Zoë Evans",
    "Łukasz Nowak",
    "Ó Súilleabháin",
    "Nguyễn Văn An",
    "Jan Wiśniewski",
    "Dvořák",
    "André’s",
    "Ægir Þór",
    "Ñúñez",
    "İlkay Gündoğan",
    "Bjørn Åsa",
    "Mª José",
    "Ελένη",
    "Дмитрий",
    "王小明",
    "Gwenllian ap Iorwerth",
)


def test_genuine_accented_text_passes_silently() -> None:
    p = normalise.parse_free_text(col(*GENUINE_NAMES, " Welsh ", None))
    assert p.codes.tolist() == [None] * (len(GENUINE_NAMES) + 2)
    assert p.values.tolist() == [*GENUINE_NAMES, "Welsh", pd.NA]


def test_garbled_text_is_flagged_with_what_it_meant() -> None:
    p = normalise.parse_free_text(col("SiÃ¢n Llewelyn", "Jan WiÅ›niewski", "Siân Llewelyn"))
    assert p.codes.tolist() == ["mojibake", "mojibake", None]
    assert p.values.tolist() == ["SiÃ¢n Llewelyn", "Jan WiÅ›niewski", "Siân Llewelyn"]  # as sent
    assert p.details is not None
    assert p.details.tolist() == [
        {"intended": "Siân Llewelyn"},
        {"intended": "Jan Wiśniewski"},
        None,
    ]


@settings(max_examples=300, deadline=None)
@given(text=st.text(min_size=1, max_size=20), encoding=st.sampled_from(["cp1252", "latin-1"]))
def test_mojibake_fast_path_agrees_with_ftfy(text: str, encoding: str) -> None:
    """Text garbled as UTF-8 read as Latin-1 or cp1252: what ftfy would say of it, whether or
    not the cheap pre-check lets it through."""
    try:
        garbled = text.encode("utf-8").decode(encoding)
    except UnicodeDecodeError:
        assume(False)
    fixed = ftfy.fix_encoding(garbled)
    assert mojibake.intended(garbled) == (fixed if fixed != garbled else None)


def test_free_text_is_checked_once_per_distinct_value(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real = mojibake.intended
    monkeypatch.setattr(mojibake, "intended", lambda t: seen.append(t) or real(t))
    p = normalise.parse_free_text(col(*["SiÃ¢n", "Siân", "Rhys"] * 1000))
    assert sorted(seen) == sorted(["SiÃ¢n", "Siân", "Rhys"])
    assert p.codes.tolist().count("mojibake") == 1000


# ---------------------------------------------------------------- emails

email_text = st.one_of(
    st.from_regex(r"\A[A-Za-z0-9_+\-.]{1,20}@[A-Za-z0-9\-.]{1,20}\.[A-Za-z]{2,6}\Z"),
    st.from_regex(r"\A[a-z]{1,8}(\.[a-z]{1,8})?@([a-z0-9\-]{1,10}\.){1,3}(com|org|test|local)\Z"),
    st.text(max_size=30),
)


@settings(max_examples=200, deadline=None)
@given(text=email_text)
def test_email_fast_path_agrees_with_email_validator(text: str) -> None:
    fast = normalise.fast_email(text)
    if fast is not None:
        assert fast == normalise.library_email(text)[0]


def test_emails() -> None:
    p = normalise.parse_email(col("Foo.Bar@Example.COM", "bad@", "x@test", None))
    assert p.values.iat[0] == "Foo.Bar@example.com"
    assert p.codes.iloc[1:3].tolist() == ["invalid-email"] * 2
    assert p.details is not None
    assert p.details.iat[1] == {"reason": "there must be something after the @-sign"}
    assert p.details.iat[2] == {
        "reason": "the part after the @-sign is not valid. It should have a period"
    }
    assert p.missing.iat[3]


# ---------------------------------------------------------------- urls, ids, departments


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://example.org/done", None),
        ("http://example.org/done", "insecure-url"),
        ("example.org", "invalid-url"),
        ("ftp://example.org", "invalid-url"),
        ("https://exa mple.org", "invalid-url"),
    ],
)
def test_urls(url: str, code: str | None) -> None:
    assert normalise.url_problem(url) == code


def test_uuids_are_lower_cased() -> None:
    p = normalise.parse_uuid(col("8F14E45F-CEEA-4E7A-9C1B-2F1D3C4B5A69", "12345"))
    assert p.values.iat[0] == "8f14e45f-ceea-4e7a-9c1b-2f1d3c4b5a69"
    assert p.codes.iat[1] == "invalid-appointment-id"


def test_departments_by_id_or_name() -> None:
    known = {"Benefits": 1, "Housing Team": 2}
    p = normalise.parse_department(col(1, "2", " benefits ", "HOUSING-team", "Nope", 99), known)
    assert p.values.iloc[:4].tolist() == [1, 2, 1, 2]
    assert p.codes.iloc[4:].tolist() == ["unknown-department"] * 2
    anything = normalise.parse_department(col(7, "Benefits"), {})
    assert anything.values.iat[0] == 7
    assert anything.codes.iat[1] == "unknown-department"


def test_closest_departments() -> None:
    known = {"Benefits": 1, "Housing Team": 2, "Housing Benefit": 3, "Employment support": 4}
    assert normalise.closest_departments("Housing", known) == ["Housing Team", "Housing Benefit"]
    assert normalise.closest_departments("benefit", known) == ["Benefits", "Housing Benefit"]
    assert normalise.closest_departments("Planning", known) == []
