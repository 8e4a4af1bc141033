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
