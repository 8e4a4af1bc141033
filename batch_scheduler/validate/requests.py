"""Normalised values -> the API-ready requests of the rows without errors.

The values are columns (one Series per field, by frame position); a request is a row. Rows
are built from plain Python lists taken once per column, never cell by cell from pandas:
it is the difference between a fraction of a second and seconds for 100,000 rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

import pandas as pd

from batch_scheduler.columns import OPTION_FIELDS
from batch_scheduler.config import IntakeSettings
from batch_scheduler.models import AppointmentRequest, ClaimantIn
from batch_scheduler.validate.cells import python_values

Columns = Mapping[str, list[Any]]


def book_requests(
    values: pd.DataFrame,
    references: Sequence[str | None],
    settings: IntakeSettings,
    bad: frozenset[int],
) -> dict[int, AppointmentRequest]:
    """Frame position -> request, for every row not in `bad`."""
    good = [p for p in range(len(values)) if p not in bad]
    if not good:
        return {}
    cols = row_lists(values, good)
    rows = zip(
        good,
        claimants(cols),
        cols["appointment_at"],
        cols["duration_in_minutes"],
        cols["is_interpreter_needed"],
        cols["interpreter_language"],
        cols["department"],
        option_dicts(cols, settings),
        strict=True,
    )
    return {
        pos: AppointmentRequest(
            reference=str(references[pos]),
            appointment_at=at,
            duration_in_minutes=int(minutes),
            claimant=claimant,
            is_interpreter_needed=bool(needed),
            interpreter_language=language if needed else None,
            department_id=department,
            options=options,
        )
        for pos, claimant, at, minutes, needed, language, department, options in rows
    }


def row_lists(values: pd.DataFrame, positions: list[int]) -> dict[str, list[Any]]:
    """The rows at `positions`, column by column, as Python values: appointment times as
    aware UTC datetimes, dates of birth as dates."""
    rows = values if len(positions) == len(values) else values.iloc[positions]
    dates = ("appointment_at", "claimant_date_of_birth")
    out = {name: python_values(rows[name]) for name in rows.columns if name not in dates}
    if "appointment_at" in rows:
        utc = rows["appointment_at"].dt.tz_convert(UTC).dt.to_pydatetime()
        out["appointment_at"] = python_values(utc)
    if "claimant_date_of_birth" in rows:
        births = rows["claimant_date_of_birth"].to_numpy().astype("datetime64[D]")
        out["claimant_date_of_birth"] = births.tolist()
    return out


def claimants(cols: Columns) -> list[ClaimantIn]:
    """The claimant of each row."""
    return [
        ClaimantIn(name=name, date_of_birth=birth, phone_number=phone, email=email)
        for name, birth, phone, email in zip(
            cols["claimant_name"],
            cols["claimant_date_of_birth"],
            cols["claimant_phone_number"],
            cols["claimant_email"],
            strict=True,
        )
    ]


def option_dicts(cols: Columns, settings: IntakeSettings) -> list[dict[str, Any]]:
    """Per row, the options given or defaulted (blank without a default: not sent).

    Options blank in every row are left out up front, and when the rest are filled in every
    row no per-value test is needed: the common sheet builds each dict straight from a row.
    """
    filled = {}
    for name in OPTION_FIELDS:
        default = settings.defaults.get(name)
        column = cols[name]
        filled[name] = column if default is None else [default if v is None else v for v in column]
    given = [name for name in OPTION_FIELDS if any(v is not None for v in filled[name])]
    if not given:
        return [{} for _ in range(len(cols["claimant_name"]))]
    rows = zip(*(filled[name] for name in given), strict=True)
    if not any(None in filled[name] for name in given):
        return [dict(zip(given, row, strict=True)) for row in rows]
    return [{k: v for k, v in zip(given, row, strict=True) if v is not None} for row in rows]
