"""cancel.py: cancel rows -> requests + issues."""

from __future__ import annotations

from batch_scheduler.validate import validate_cancel
from tests.validate.tables import SETTINGS, raw_table


def test_cancel_rows() -> None:
    rows = [
        ["8F14E45F-CEEA-4E7A-9C1B-2F1D3C4B5A69", "", ""],
        ["", "CASE-1", "Claimant asked"],
        ["", "", "why"],
        ["12345", "CASE-2", ""],
    ]
    table = raw_table(["Appointment id", "Reference", "Reason"], rows, kind="cancel")
    result = validate_cancel(table, SETTINGS, default_reason="Batch cancel")
    assert sorted(result.requests) == [0, 1]
    assert result.requests[0].appointment_id == "8f14e45f-ceea-4e7a-9c1b-2f1d3c4b5a69"
    assert result.requests[0].cancellation_reason == "Batch cancel"
    assert result.requests[1].cancellation_reason == "Claimant asked"
    assert [(i.row, i.code) for i in result.issues] == [
        (4, "missing-id"),
        (5, "invalid-appointment-id"),
    ]
