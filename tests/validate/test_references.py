"""references.py: the one reference identity, the same on every run for the same row."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from batch_scheduler.validate.references import (
    claimant_reference,
    fold_person_name,
    generated_reference,
)
from tests.validate.tables import book, codes


def test_generated_references_are_deterministic() -> None:
    slot = datetime(2026, 7, 14, 13, 30, tzinfo=UTC)
    first = generated_reference("Siân  Llewelyn", slot, date(1985, 2, 14))
    assert first == generated_reference("SIÂN LLEWELYN", slot, date(1985, 2, 14))
    assert first.startswith("BS-") and len(first) == 19
    assert first != generated_reference("Siân Llewelyn", slot + timedelta(minutes=15), None)
    assert first != generated_reference("Siân Llewelyn", slot, None)


def test_rows_without_a_reference_get_the_same_one_on_every_run() -> None:
    change = {"Reference": "", "Appointment": "2026-07-14 14:30"}
    first, second = book(change), book({**change, "Appointment": "14/07/2026 2:30pm"})
    assert first.references == second.references
    assert first.references[0] == first.requests[0].reference
    assert first.references[0] == generated_reference(
        "Siân Llewelyn", datetime(2026, 7, 14, 13, 30, tzinfo=UTC), date(1985, 2, 14)
    )
    assert book({"Reference": "", "Claimant name": ""}).references == (None,)


def test_a_repeated_reference_flags_every_row_naming_the_others() -> None:
    result = book({"Reference": "R"}, {}, {"Reference": "R"}, {"Reference": " R "})
    flagged = {i.row: i.message for i in result.issues if i.code == "duplicate-reference"}
    assert sorted(flagged) == [2, 4, 5]
    assert "also used in rows 4 and 5" in flagged[2]
    assert sorted(result.requests) == [1]


def test_identical_rows_without_references_are_the_same_appointment() -> None:
    result = book({"Reference": ""}, {"Reference": ""})
    assert codes(result) == ["duplicate-row", "duplicate-row"]
    assert "row 3" in result.issues[0].message


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        (
            generated_reference(
                "Siân  Llewelyn", datetime(2026, 7, 14, 13, 30, tzinfo=UTC), date(1985, 2, 14)
            ),
            "BS-REPW2MGTPX5YGBAP",
        ),
        (
            generated_reference("Dafydd Jones", datetime(2026, 12, 1, 10, 0, tzinfo=UTC), None),
            "BS-BS2QBG5UMJ4Y6SCH",
        ),
        (
            claimant_reference("Siân  Llewelyn", date(1985, 2, 14), date(2026, 11, 30)),
            "BS-E7JC42YGQ663Z63R",
        ),
        (claimant_reference("Dafydd Jones", None, date(2026, 11, 30)), "BS-DUMW5X26EX6UYHJL"),
    ],
)
def test_references_never_change_between_versions(reference: str, expected: str) -> None:
    """The ledger and the API know earlier runs' bookings by these: a new version that made
    other references would book everyone a second time."""
    assert reference == expected


def test_a_claimant_keeps_their_reference_whatever_the_slot_or_spelling() -> None:
    week = date(2026, 11, 30)
    first = claimant_reference("Siân Llewelyn", date(1985, 2, 14), week)
    assert first == claimant_reference(" SIÂN   llewelyn ", date(1985, 2, 14), week)
    assert first != claimant_reference("Siân Llewelyn", date(1985, 2, 14), week + timedelta(7))
    assert first != generated_reference(
        "Siân Llewelyn", datetime(2026, 11, 30, tzinfo=UTC), date(1985, 2, 14)
    )


def test_a_name_folds_case_and_spacing_but_keeps_its_letters() -> None:
    assert fold_person_name("  Siân \u00a0 LLEWELYN ") == "siân llewelyn"
    assert fold_person_name("Sian Llewelyn") != fold_person_name("Siân Llewelyn")
    assert fold_person_name("O'Brien") != fold_person_name("OBrien")
