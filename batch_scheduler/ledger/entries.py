"""What the ledger holds per key, in Python: entries, updates, states, and stored answers.

The SQL that reads and writes them is store.py's; what a row of the table means, and how a
stored answer is decoded only when someone reads it, is here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

CREATE = "create"
CANCEL = "cancel"
OPERATIONS = frozenset({CREATE, CANCEL})


class EntryState(StrEnum):
    SENDING = "sending"  # intent recorded; the request may be on the wire
    DONE = "done"  # the server confirmed it (created / cancelled / found by reconciliation)
    REJECTED = "rejected"  # a final 4xx; nothing stored; a re-run may send again
    UNKNOWN = "unknown"  # sent, no usable answer: reconcile before any resend
    NOT_APPLIED = "not_applied"  # known not applied (429/503/refused); safe to send again


_STATES = {state.value: state for state in EntryState}  # 10x faster than EntryState(text)


@dataclass(frozen=True)
class LedgerEntry:
    """One key's last known state.

    `response` is a read-only Mapping decoded on first use (a StoredResponse); call
    dict(entry.response) where a real dict is needed, e.g. for json.dumps.
    """

    base_url: str
    operation: str
    key: str
    state: EntryState
    attempts: int  # requests sent for this key, over all runs
    reference: str | None
    appointment_id: str | None
    status: str | None  # the resource's status, e.g. "scheduled", "cancelled"
    # the last resource JSON (the "data" object); personal data, so kept out of repr
    response: Mapping[str, Any] | None = field(repr=False)
    error: str | None
    run_id: str | None
    updated_at: datetime  # aware UTC


_FIELDS = tuple(f.name for f in fields(LedgerEntry))
COLUMNS = ", ".join(_FIELDS)  # the table's columns carry the entry's field names


@dataclass(frozen=True)
class LedgerUpdate:
    """One answer to record."""

    operation: str
    key: str
    state: EntryState
    appointment_id: str | None = None
    status: str | None = None
    response: Mapping[str, Any] | None = None
    error: str | None = None
    reference: str | None = None


class StoredResponse(Mapping[str, Any]):
    """A stored response JSON object, decoded on first use.

    Planning a 100k-row run needs every entry's state but rarely its response, and decoding
    is most of the cost of `get_many`; this keeps that cost where the data is used.
    """

    __slots__ = ("_text", "_value")

    def __init__(self, text: str) -> None:
        self._text = text
        self._value: dict[str, Any] | None = None

    @property
    def text(self) -> str:
        """The JSON text as stored."""
        return self._text

    def _data(self) -> dict[str, Any]:
        if self._value is None:
            self._value = json.loads(self._text)
        return self._value

    def __getitem__(self, name: str) -> Any:
        return self._data()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())

    def __repr__(self) -> str:  # never the contents: they hold personal data
        return f"StoredResponse(<{len(self._text)} characters>)"


def json_text(response: Mapping[str, Any] | None) -> str | None:
    """A response as the ledger stores it: compact JSON text (None stays None)."""
    if response is None:
        return None
    if isinstance(response, StoredResponse):  # re-recorded as read: keep it as stored
        return response.text
    return json.dumps(dict(response), ensure_ascii=False, separators=(",", ":"))


def as_time(value: str | datetime) -> datetime:
    """A stored time as an aware datetime: SQLite keeps ISO text, PostgreSQL a timestamptz."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def entry_from_row(row: tuple[Any, ...]) -> LedgerEntry:
    """Build an entry from a row in `COLUMNS` order.

    It skips the frozen dataclass __init__ (a guarded setattr per field), which was half
    the cost of `get_many` for 100k keys; the values come from our own table.
    """
    values = list(row)
    values[3] = _STATES[row[3]]
    values[8] = None if row[8] is None else StoredResponse(row[8])
    values[11] = as_time(row[11])
    entry = object.__new__(LedgerEntry)
    entry.__dict__.update(zip(_FIELDS, values, strict=True))
    return entry


def check_operation(operation: str) -> None:
    if operation not in OPERATIONS:
        raise ValueError(f"Unknown ledger operation {operation!r}; expected one of {OPERATIONS}.")
