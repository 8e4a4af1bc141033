"""notes.py: the template's "Allowed values" text comes from the rules that check the values."""

from __future__ import annotations

from batch_scheduler.columns import BOOK_FIELDS, CANCEL_FIELDS
from batch_scheduler.config import IntakeSettings
from batch_scheduler.validate import describe_rules
from tests.validate.tables import SETTINGS


def test_rules_text_comes_from_the_same_rules() -> None:
    by_name = {f.name: f for f in BOOK_FIELDS}
    assert "1 to 1440" in describe_rules(by_name["duration_in_minutes"], SETTINGS)
    assert "Blank: 30" in describe_rules(by_name["duration_in_minutes"], SETTINGS)
    assert "255" in describe_rules(by_name["claimant_name"], SETTINGS)
    assert "low, medium, high" in describe_rules(by_name["features_bandwidth"], SETTINGS)
    assert "Blank: medium" in describe_rules(by_name["features_bandwidth"], SETTINGS)
    assert "Benefits" in describe_rules(by_name["department"], SETTINGS)
    assert "Europe/London" in describe_rules(by_name["appointment_at"], SETTINGS)
    for f in (*BOOK_FIELDS, *CANCEL_FIELDS):
        assert describe_rules(f, IntakeSettings()).startswith(("Required.", "Optional."))
