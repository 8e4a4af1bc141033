"""values.py: whole numbers, yes/no, free text (and garbled text), URLs, ids, departments."""

from __future__ import annotations

import ftfy
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from batch_scheduler.validate import mojibake, values
from tests.validate.tables import col

# ---------------------------------------------------------------- numbers and booleans


def test_integers() -> None:
    p = values.parse_integer(col(30, 30.0, "45", " 45 mins ", 30.5, "thirty", True, None))
    assert p.values.iloc[:4].tolist() == [30, 30, 45, 45]
    assert p.codes.iloc[4:7].tolist() == ["invalid-integer"] * 3
    assert p.missing.iat[7]


def test_booleans() -> None:
    p = values.parse_boolean(col("Yes", "n", "TRUE", "f", 1, 0.0, True, "maybe", 2, None))
    assert p.values.iloc[:7].tolist() == [True, False, True, False, True, False, True]
    assert p.codes.iloc[7:9].tolist() == ["invalid-boolean"] * 2
    assert p.missing.iat[9]


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
    p = values.parse_free_text(col(*GENUINE_NAMES, " Welsh ", None))
    assert p.codes.tolist() == [None] * (len(GENUINE_NAMES) + 2)
    assert p.values.tolist() == [*GENUINE_NAMES, "Welsh", pd.NA]


def test_garbled_text_is_flagged_with_what_it_meant() -> None:
    p = values.parse_free_text(col("SiÃ¢n Llewelyn", "Jan WiÅ›niewski", "Siân Llewelyn"))
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
    p = values.parse_free_text(col(*["SiÃ¢n", "Siân", "Rhys"] * 1000))
    assert sorted(seen) == sorted(["SiÃ¢n", "Siân", "Rhys"])
    assert p.codes.tolist().count("mojibake") == 1000


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
    assert values.url_problem(url) == code


def test_uuids_are_lower_cased() -> None:
    p = values.parse_uuid(col("8F14E45F-CEEA-4E7A-9C1B-2F1D3C4B5A69", "12345"))
    assert p.values.iat[0] == "8f14e45f-ceea-4e7a-9c1b-2f1d3c4b5a69"
    assert p.codes.iat[1] == "invalid-appointment-id"


def test_departments_by_id_or_name() -> None:
    known = {"Benefits": 1, "Housing Team": 2}
    p = values.parse_department(col(1, "2", " benefits ", "HOUSING-team", "Nope", 99), known)
    assert p.values.iloc[:4].tolist() == [1, 2, 1, 2]
    assert p.codes.iloc[4:].tolist() == ["unknown-department"] * 2
    anything = values.parse_department(col(7, "Benefits"), {})
    assert anything.values.iat[0] == 7
    assert anything.codes.iat[1] == "unknown-department"


def test_closest_departments() -> None:
    known = {"Benefits": 1, "Housing Team": 2, "Housing Benefit": 3, "Employment support": 4}
    assert values.closest_departments("Housing", known) == ["Housing Team", "Housing Benefit"]
    assert values.closest_departments("benefit", known) == ["Benefits", "Housing Benefit"]
    assert values.closest_departments("Planning", known) == []
