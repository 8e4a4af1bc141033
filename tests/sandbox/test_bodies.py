"""The sandbox's form parser: the same pairs as urllib's parse_qsl, for any text."""

from urllib.parse import parse_qsl, urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from batch_scheduler.sandbox.bodies import form_pairs


@settings(derandomize=True, max_examples=300)
@given(st.text(alphabet=st.sampled_from("ab=&+%20é%zz[]"), max_size=40))
def test_form_pairs_match_parse_qsl_on_any_text(text: str) -> None:
    assert form_pairs(text) == parse_qsl(text, keep_blank_values=True)


@settings(derandomize=True, max_examples=100)
@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=12)), max_size=6))
def test_form_pairs_read_back_what_urlencode_wrote(pairs: list[tuple[str, str]]) -> None:
    assert form_pairs(urlencode(pairs)) == pairs


# ---------------------------------------------------------------- the sandbox's email check

_LOCAL = st.text(alphabet=st.sampled_from('ab.Z9_%+-!é" '), min_size=0, max_size=70)
_DOMAIN = st.sampled_from(["example.org", "EXAMPLE.org", "mail.example.co.uk", "ex..org", "x"])


@settings(derandomize=True, max_examples=400)
@given(st.lists(st.tuples(_LOCAL, _DOMAIN), min_size=1, max_size=8))
def test_the_email_shortcut_agrees_with_email_validator(addresses: list[tuple[str, str]]) -> None:
    """Once a domain passed, plain addresses on it skip email-validator: same verdicts."""
    from email_validator import EmailNotValidError, validate_email

    from batch_scheduler.sandbox.validation import _is_email

    for local, domain in addresses:
        address = f"{local}@{domain}"
        try:
            validate_email(address, check_deliverability=False, test_environment=True)
            expected = True
        except EmailNotValidError:
            expected = False
        assert _is_email(address) is expected, address
