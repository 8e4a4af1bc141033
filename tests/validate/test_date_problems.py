"""date_problems.py: why a date or time could not be read, for every way it can be wrong."""

from __future__ import annotations

import pytest

from batch_scheduler.validate import date_problems
from tests.validate.test_datetimes import PIVOT, read

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
        why = date_problems.explain(text, "datetime", PIVOT)
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
def test_what_is_wrong_with_a_date_or_time(
    cell: object, want: date_problems.Want, why: str
) -> None:
    assert date_problems.explain(cell, want, PIVOT)["why"] == why


def test_nothing_more_to_say_keeps_the_general_advice() -> None:
    assert date_problems.explain("next tuesday", "datetime", PIVOT) == {}
    assert date_problems.explain(True, "date", PIVOT) == {}
