"""Header folding: the ways people write a header never change which field it means."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batch_scheduler.columns import BOOK_FIELDS, CANCEL_FIELDS, Field, fields_for, fold_label
from batch_scheduler.intake.headers import alias_index

KINDS = ("book", "cancel")
SPELLINGS = [
    (kind, f.name, spelling)
    for kind in KINDS
    for f in fields_for(kind)
    for spelling in (f.name, f.header, *f.aliases)
]
NOISE = [" ", "\u00a0", "_", "-", ".", "/", "?", "(", ")", ":", "\t", "\u202f"]


@pytest.mark.parametrize(("kind", "name", "spelling"), SPELLINGS)
def test_every_name_header_and_alias_maps_back_to_its_field(
    kind: str, name: str, spelling: str
) -> None:
    assert alias_index(fields_for(kind))[fold_label(spelling)] == name


@pytest.mark.parametrize("fields", [BOOK_FIELDS, CANCEL_FIELDS], ids=KINDS)
def test_no_two_fields_of_a_kind_share_a_folded_spelling(fields: tuple[Field, ...]) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for f in fields:
        for spelling in (f.name, f.header, *f.aliases):
            owners[fold_label(spelling)].add(f.name)
    shared = {folded: names for folded, names in owners.items() if len(names) > 1}
    assert shared == {}


@st.composite
def decorated(draw: st.DrawFn) -> tuple[str, str, str]:
    """A known spelling with random case, inner noise and surrounding spaces."""
    kind, name, spelling = draw(st.sampled_from(SPELLINGS))
    out = [draw(st.sampled_from([" ", "\u00a0", ""]))]
    for char in spelling:
        out.append(char.upper() if draw(st.booleans()) else char.lower())
        out.append(draw(st.sampled_from(["", "", *NOISE])))
    out.append(draw(st.sampled_from([" ", "\u00a0 ", "", "?"])))
    return kind, name, "".join(out)


@given(decorated())
def test_case_spaces_punctuation_and_nbsp_never_change_the_match(
    case: tuple[str, str, str],
) -> None:
    kind, name, header = case
    assert alias_index(fields_for(kind)).get(fold_label(header)) == name


@pytest.mark.parametrize(
    ("header", "folded"),
    [
        ("Claimant\u00a0Name ", "claimantname"),
        ("claimant[name]", "claimantname"),
        ("CLAIMANT_NAME", "claimantname"),
        ("Date/Time", "datetime"),
        ("Interpreter?", "interpreter"),
        ("Ｐｈｏｎｅ", "phone"),  # full-width letters, as pasted from some systems
        (None, ""),
    ],
)
def test_fold_label_examples(header: object, folded: str) -> None:
    assert fold_label(header) == folded


def test_a_header_of_the_other_kind_is_not_matched() -> None:
    assert fold_label("Mobile") not in alias_index(CANCEL_FIELDS)
    assert alias_index(CANCEL_FIELDS)[fold_label("Appointment")] == "appointment_id"
    assert alias_index(BOOK_FIELDS)[fold_label("Appointment")] == "appointment_at"
