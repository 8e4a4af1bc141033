"""What the validate tests share: columns, RawTables as the reader makes them, a good book row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pandas as pd

from batch_scheduler.columns import fields_for, fold_label
from batch_scheduler.config import IntakeSettings
from batch_scheduler.intake.headers import alias_index
from batch_scheduler.models import RawTable, SourceInfo
from batch_scheduler.validate import BookValidation, validate_book

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SETTINGS = IntakeSettings(
    departments={"Benefits": 1, "Housing Team": 2},
    defaults={"features_bandwidth": "medium", "features_call_recording_enable": False},
)
GOOD = {
    "Reference": "CASE-1",
    "Appointment": "14/07/2026 14:30",
    "Claimant name": "Siân Llewelyn",
    "Duration": "45",
    "DOB": "14/02/1985",
    "Phone": "07400 123456",
    "Email": "sian@example.org",
    "Interpreter": "no",
    "Language": "",
    "Department": "Benefits",
    "Bandwidth": "",
    "Recording": "",
    "Chat": "yes",
    "Redirect": "",
    "Claimant redirect URL": "",
}


def col(*values: object) -> pd.Series:
    """One column of cells, as the reader leaves them (dtype object)."""
    return pd.Series(list(values), dtype=object)


def raw_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], kind: str = "book"
) -> RawTable:
    """A RawTable as the reader makes it: keys = headers, letters A.., rows from 2."""
    index = alias_index(fields_for(kind))
    frame = pd.DataFrame([list(r) for r in rows], columns=list(headers), dtype=object)
    found = {index[fold_label(h)]: h for h in headers if fold_label(h) in index}
    return RawTable(
        frame=frame,
        keys=tuple(headers),
        headers=tuple(headers),
        letters=tuple(chr(ord("A") + i) for i in range(len(headers))),
        source_rows=tuple(range(2, 2 + len(rows))),
        fields=found,
        source=SourceInfo("in.csv", "in.csv", "0" * 64, 0, "csv"),
        kind=kind,  # type: ignore[arg-type]
    )


def book(*changes: dict[str, object], settings: IntakeSettings = SETTINGS) -> BookValidation:
    """GOOD rows (references CASE-0, CASE-1, ...) with `changes` applied, validated."""
    rows = [list((GOOD | {"Reference": f"CASE-{i}"} | c).values()) for i, c in enumerate(changes)]
    return validate_book(raw_table(list(GOOD), rows), settings, now=NOW)


def codes(result: object) -> list[str]:
    return [i.code for i in result.issues]  # type: ignore[attr-defined]
