"""cells.py: cells split by kind, text columns read once per distinct value."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from batch_scheduler.validate import cells
from tests.validate.tables import col

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
    alone = cells.cells(col(*values))
    mixed = cells.cells(col(*values, 7))  # the number sends the column down the other path
    assert alone.kind.tolist() == mixed.kind.tolist()[:-1]
    assert alone.text.tolist() == mixed.text.tolist()[:-1]
