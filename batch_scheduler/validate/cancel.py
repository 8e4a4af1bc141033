"""Cancel sheets: a RawTable -> the appointments to cancel, plus every problem as an Issue.

A row names its appointment by id (a UUID), by reference, or both; a reason is optional
(the --reason given fills the blanks). The pandera schema (`cancel_schema`) checks lengths.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pandera.pandas as pa

from batch_scheduler.config import IntakeSettings
from batch_scheduler.models import CancelRequest, Issue, RawTable
from batch_scheduler.validate.book import TEXT_LIMIT
from batch_scheduler.validate.cells import positions
from batch_scheduler.validate.checks import too_long
from batch_scheduler.validate.readers import FieldReader
from batch_scheduler.validate.sheet import Found, Sheet


@dataclass(frozen=True)
class CancelValidation:
    table: RawTable
    requests: Mapping[int, CancelRequest]
    issues: tuple[Issue, ...]

    def invalid_positions(self) -> frozenset[int]:
        return frozenset(range(len(self.table))) - frozenset(self.requests)


def cancel_schema() -> pa.DataFrameSchema:
    """The rules on normalised cancel values. Check names are issue codes (issues/)."""
    return pa.DataFrameSchema(
        {
            "reference": pa.Column(checks=too_long(TEXT_LIMIT), nullable=True),
            "cancellation_reason": pa.Column(checks=too_long(TEXT_LIMIT), nullable=True),
        },
        name="cancel",
    )


def validate_cancel(
    table: RawTable, settings: IntakeSettings, *, default_reason: str | None = None
) -> CancelValidation:
    """Check every cancel row: an id (a UUID) or a reference; a reason of at most 255."""
    found = Found(Sheet.of(table))
    read = FieldReader(found, settings)
    values = pd.DataFrame(
        {
            "appointment_id": read.uuid("appointment_id"),
            "reference": read.given_text("reference"),
            "cancellation_reason": read.free_text("cancellation_reason"),
        }
    )
    if default_reason and default_reason.strip():
        values["cancellation_reason"] = values["cancellation_reason"].fillna(default_reason.strip())
    read.check(cancel_schema(), values)
    neither = read.blank("appointment_id") & read.blank("reference")
    target = "appointment_id" if found.sheet.has("appointment_id") else "reference"
    for pos in positions(neither):
        found.add("missing-id", pos, target)
    bad = found.error_positions()
    requests = {
        pos: CancelRequest(
            appointment_id=_text(values["appointment_id"].iat[pos]),
            reference=_text(values["reference"].iat[pos]),
            cancellation_reason=_text(values["cancellation_reason"].iat[pos]),
        )
        for pos in range(len(values))
        if pos not in bad
    }
    return CancelValidation(table, requests, found.all_issues())


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
