"""Welsh dates rewritten into the form the date parser reads, and then read by it."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from batch_scheduler.i18n.welsh_dates import (
    DAY_NAMES,
    MONTH_NAMES,
    MUTATED_MONTHS,
    ORDINALS,
    welsh_date_to_english,
    welsh_time_to_english,
)
from batch_scheduler.validate.datetimes import parse_text_datetimes


@pytest.mark.parametrize(
    ("welsh", "english"),
    [
        ("19eg o Awst 2027 14:30", "19/08/2027 14:30"),
        ("dydd Iau 19 Awst 2027", "19/08/2027"),
        ("Dydd Iau, 19 Awst 2027", "19/08/2027"),
        ("Iau 19 Awst 2027", "19/08/2027"),
        ("Iau, 19eg o Awst 2027, 14:30", "19/08/2027 14:30"),
        ("19 Awst 2027", "19/08/2027"),
        ("19 AWST 2027", "19/08/2027"),
        ("  19 awst 2027  ", "19/08/2027"),
        ("19eg Awst 2027", "19/08/2027"),
        ("19 o Awst 2027", "19/08/2027"),
        ("19 o fis Awst 2027", "19/08/2027"),
        ("19eg o fis Mawrth 2027", "19/03/2027"),  # after "fis" the month keeps its M
        ("1af o Fawrth 2027", "01/03/2027"),
        ("2il o Fai 2027", "02/05/2027"),
        ("3ydd o Fehefin 2027", "03/06/2027"),
        ("4ydd o Orffennaf 2027", "04/07/2027"),
        ("5ed o Fedi 2027", "05/09/2027"),
        ("6ed o Dachwedd 2027", "06/11/2027"),
        ("7fed o Ragfyr 2027", "07/12/2027"),
        ("8fed o Ionawr 2028", "08/01/2028"),
        ("9fed o Chwefror 2028", "09/02/2028"),
        ("10fed o Ebrill 2028", "10/04/2028"),
        ("11eg o Hydref 2027", "11/10/2027"),
        ("21ain o Fedi 2027", "21/09/2027"),
        ("31ain o Ragfyr 2027", "31/12/2027"),
        ("3 Rhag 2027", "03/12/2027"),
        ("3 Rhag. 2027", "03/12/2027"),
        ("3 Chwef 2027", "03/02/2027"),
        ("3 Gorff 2027", "03/07/2027"),
        ("3 Hyd 2027", "03/10/2027"),
        ("19-Awst-2027", "19/08/2027"),
        ("19 Awst 27", "19/08/27"),  # a two-digit year: the parser's own rule decides
        ("dydd Mawrth 19 Mawrth 2027", "19/03/2027"),  # Tuesday the 19th of March
        ("Mawrth 19 Mawrth 2027", "19/03/2027"),
        ("ddydd Gwener 20 Awst 2027", "20/08/2027"),
        ("Gwen 20 Awst 2027", "20/08/2027"),
        ("19eg o Awst 2027 am 14:30", "19/08/2027 14:30"),
        ("19 Awst 2027 am 2:30yh", "19/08/2027 2:30pm"),
        ("19 Awst 2027, 2:30 y.h.", "19/08/2027 2:30pm"),
        ("19 Awst 2027 9.15yb", "19/08/2027 9.15am"),
        ("19 Awst 2027 3:00 y.p.", "19/08/2027 3:00pm"),
        ("dydd Iau 19/08/2027 14:30", "19/08/2027 14:30"),
        ("19/08/2027 am 14:30", "19/08/2027 14:30"),
        ("dydd Iau 19 August 2027", "19 August 2027"),  # an English date after a Welsh day
        ("19 Awst 2027 rhywbryd", "19/08/2027 rhywbryd"),  # left for the parser to refuse
    ],
)
def test_welsh_dates(welsh: str, english: str) -> None:
    assert welsh_date_to_english(welsh) == english


@pytest.mark.parametrize(
    "text",
    [
        "19 August 2027 14:30",
        "19/08/2027",
        "19/08/2027 2:30 am",
        "2027-08-19T14:30:00Z",
        "Thu 19 Aug 2027",
        "",
        "Awst",
        "dim dyddiad",
        "19 Awstt 2027",
        "19 Awst",  # no year
        "Iau 12",  # a day name, but no date after it
        "19 Awst 20271",
    ],
)
def test_other_text_is_left_as_it_is(text: str) -> None:
    assert welsh_date_to_english(text) == text


def test_every_day_with_its_ordinal() -> None:
    assert [ORDINALS[d] for d in (1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 18, 19, 20, 21, 30, 31)] == [
        "1af", "2il", "3ydd", "4ydd", "5ed", "6ed", "7fed", "11eg", "12fed", "13eg", "18fed",
        "19eg", "20fed", "21ain", "30ain", "31ain",
    ]  # fmt: skip
    for day, ordinal in ORDINALS.items():
        assert welsh_date_to_english(f"{ordinal} o Ionawr 2028") == f"{day:02d}/01/2028"


def test_every_month_by_every_name() -> None:
    for month, names in MONTH_NAMES.items():
        for name in (*names, MUTATED_MONTHS.get(month, names[0])):
            for written in (name, name.lower(), name.upper()):
                rewritten = welsh_date_to_english(f"1 {written} 2028")
                assert rewritten == f"01/{month:02d}/2028", written
                assert welsh_date_to_english(f"1af o {written} 2028") == rewritten


def test_every_day_name_is_dropped() -> None:
    for names in DAY_NAMES.values():
        for name in names:
            for written in (f"dydd {name}", name, f"Dydd {name},", name.upper()):
                assert welsh_date_to_english(f"{written} 3 Ion 2028") == "03/01/2028", written


def test_welsh_times() -> None:
    assert welsh_time_to_english("am 2:30yh") == "2:30pm"
    assert welsh_time_to_english("9.15 y.b.") == "9.15am"
    assert welsh_time_to_english("12:00 Y.H.") == "12:00pm"
    assert welsh_time_to_english("14:30") == "14:30"
    assert welsh_time_to_english("ymhen awr") == "ymhen awr"


def test_the_date_parser_reads_what_comes_out() -> None:
    texts = pd.Series(
        [
            "19eg o Awst 2027 14:30",
            "dydd Iau 19 Awst 2027",
            "1af o Fawrth 2027 am 2:30yh",
            "19 Awst 2027 rhywbryd",
        ]
    ).map(welsh_date_to_english)
    parsed = parse_text_datetimes(texts, pivot_year=2069)
    assert parsed["local"].tolist()[:3] == [
        datetime(2027, 8, 19, 14, 30),
        datetime(2027, 8, 19),
        datetime(2027, 3, 1, 14, 30),
    ]
    assert pd.isna(parsed["local"].iloc[3])  # refused, not misread
    assert parsed["has_time"].tolist() == [True, False, True, False]
