"""Raw tables and result lines built by hand, for the output tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from batch_scheduler.models import Outcome, RawTable, ResultLine, SourceInfo


def make_table(columns: dict[str, list[Any]], *, headers: Sequence[str] | None = None) -> RawTable:
    keys = tuple(columns)
    rows = len(next(iter(columns.values()))) if columns else 0
    return RawTable(
        frame=pd.DataFrame(columns, dtype=object),
        keys=keys,
        headers=tuple(headers or keys),
        letters=tuple(chr(ord("A") + i) for i in range(len(keys))),
        source_rows=tuple(range(2, 2 * rows + 2, 2)),  # gaps, as after skipped blank rows
        fields={},
        source=SourceInfo("in.csv", "in.csv", "ab" * 32, 10, "csv"),
        kind="book",
    )


def created(j: int, **changes: Any) -> ResultLine:
    values: dict[str, Any] = {
        "outcome": Outcome.CREATED,
        "reference": f"REF-{j:03d}",
        "appointment_id": f"id-{j}",
        "status": "scheduled",
        "meeting_url": f"https://meet.example.org/c/{j}",
        "host_url": f"https://meet.example.org/h/{j}",
        "appointment_at_utc": datetime(2030, 3, 4, 9, j, tzinfo=UTC),
        "attempts": 1,
    }
    return ResultLine(**(values | changes))
