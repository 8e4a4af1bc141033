"""contacts.py: phones and emails, and the fast paths agreeing with the libraries."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_scheduler.issues import phone_mangled
from batch_scheduler.validate import contacts
from tests.validate.tables import col

# ---------------------------------------------------------------- phones


def test_phones() -> None:
    p = contacts.parse_phone(
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
    p = contacts.parse_phone(col(7911123456, "4.47911123456E+11", "7.7009E+09"), "GB")
    assert p.codes.tolist() == ["phone-mangled"] * 3
    assert p.details is not None
    assert p.details.tolist() == [
        phone_mangled("number", "07911 123456"),
        phone_mangled("scientific", "07911 123456"),
        phone_mangled("scientific", None),  # digits lost: no guess
    ]


def test_a_phone_that_lost_its_zero_before_it_became_text_is_caught_like_a_number() -> None:
    """7400900123 typed as text, or in a CSV: a number cell upstream dropped the 0 (or +)."""
    p = contacts.parse_phone(col("7400900123", 7400900123, "447400900123", "7400 900123"), "GB")
    assert p.codes.tolist() == ["phone-mangled"] * 3 + [None]
    assert p.values.tolist()[:3] == [pd.NA] * 3
    assert p.details is not None
    assert p.details.tolist()[:3] == [
        phone_mangled("digits", "07400 900123"),
        phone_mangled("number", "07400 900123"),
        phone_mangled("digits", "07400 900123"),
    ]


def test_digits_are_a_whole_national_number_where_numbers_have_no_leading_zero() -> None:
    p = contacts.parse_phone(col("2025550123"), "US")
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
    fast = contacts.fast_phone(text, region)
    if fast is not None:
        assert fast == contacts.library_phone(text, region)


def test_phone_fast_path_answers_the_common_shapes() -> None:
    assert contacts.fast_phone("07400 123456", "GB") == "+447400123456"
    assert contacts.fast_phone("+44 7400 123456", "GB") == "+447400123456"


# ---------------------------------------------------------------- emails

email_text = st.one_of(
    st.from_regex(r"\A[A-Za-z0-9_+\-.]{1,20}@[A-Za-z0-9\-.]{1,20}\.[A-Za-z]{2,6}\Z"),
    st.from_regex(r"\A[a-z]{1,8}(\.[a-z]{1,8})?@([a-z0-9\-]{1,10}\.){1,3}(com|org|test|local)\Z"),
    st.text(max_size=30),
)


@settings(max_examples=200, deadline=None)
@given(text=email_text)
def test_email_fast_path_agrees_with_email_validator(text: str) -> None:
    fast = contacts.fast_email(text)
    if fast is not None:
        assert fast == contacts.library_email(text)[0]


def test_emails() -> None:
    p = contacts.parse_email(col("Foo.Bar@Example.COM", "bad@", "x@test", None))
    assert p.values.iat[0] == "Foo.Bar@example.com"
    assert p.codes.iloc[1:3].tolist() == ["invalid-email"] * 2
    assert p.details is not None
    assert p.details.iat[1] == {"reason": "there must be something after the @-sign"}
    assert p.details.iat[2] == {
        "reason": "the part after the @-sign is not valid. It should have a period"
    }
    assert p.missing.iat[3]
