"""The statements that write an entry, with the guards that make claims safe (sql.py runs
them on either backend; `?` for parameters), and the helpers that build `IN (?, ...)` lists.

Each guard is in the statement itself, so no check-then-write gap exists between two runs:

    MARK_SENDING  takes a key (REJECTED, NOT_APPLIED, or new) for this run and marks it
                  SENDING, unless another run holds it (a live lease); the keys taken
                  come back (RETURNING)
    CLAIM         takes a key left SENDING or UNKNOWN (to check it with the server), on
                  the same condition; DONE keys are never claimed
    RECORD        writes an answer: DONE is never moved back, NOT_APPLIED (the one state
                  that lets a key be sent again) only by the run holding the key or when
                  nobody does, and DONE or REJECTED release the claim
"""

from collections.abc import Iterator, Sequence
from typing import Any

CHUNK = 500  # keys per IN (...) query: far below either database's parameter limit

MARK_SENDING = """
INSERT INTO entries (base_url, operation, key, state, attempts, reference, run_id, owner,
                     lease_until, updated_at)
VALUES (?, ?, ?, 'sending', 1, ?, ?, ?, ?, ?)
ON CONFLICT (base_url, operation, key) DO UPDATE SET
    state = 'sending',
    attempts = entries.attempts + 1,
    reference = COALESCE(excluded.reference, entries.reference),
    error = NULL,
    run_id = excluded.run_id,
    owner = excluded.owner,
    lease_until = excluded.lease_until,
    updated_at = excluded.updated_at
WHERE entries.state IN ('rejected', 'not_applied')
  AND (entries.owner IS NULL OR entries.owner = excluded.owner
       OR entries.lease_until < excluded.updated_at)
RETURNING key
"""

CLAIM = """
UPDATE entries SET owner = ?, lease_until = ?
WHERE base_url = ? AND operation = ? AND key = ? AND state <> 'done'
  AND (owner IS NULL OR owner = ? OR lease_until < ?)
RETURNING key
"""

RECORD = """
INSERT INTO entries (base_url, operation, key, state, attempts, reference, appointment_id,
                     status, response, error, updated_at)
VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)
ON CONFLICT (base_url, operation, key) DO UPDATE SET
    state = excluded.state,
    reference = COALESCE(excluded.reference, entries.reference),
    appointment_id = COALESCE(excluded.appointment_id, entries.appointment_id),
    status = COALESCE(excluded.status, entries.status),
    response = COALESCE(excluded.response, entries.response),
    error = excluded.error,
    owner = CASE WHEN excluded.state IN ('done', 'rejected') THEN NULL ELSE entries.owner END,
    lease_until = CASE WHEN excluded.state IN ('done', 'rejected') THEN NULL
                       ELSE entries.lease_until END,
    updated_at = excluded.updated_at
WHERE (entries.state <> 'done' OR excluded.state = 'done')
  AND (excluded.state <> 'not_applied' OR entries.owner IS NULL OR entries.owner = ?
       OR entries.lease_until < excluded.updated_at)
"""


def as_arrays(statement: str, types: Sequence[str]) -> str:
    """The statement for many rows at once on PostgreSQL: its one `VALUES (...)` row read
    from arrays by `unnest`, an array (of `types`, in order) for each `?` in that row; the
    `?`s after it stay single values.

    One statement for a group commit's marks (or answers) instead of one per row: far fewer
    messages for the server to wake up for. Its rows must not repeat a key (an upsert
    touches a row once), and the values after VALUES must be the same for every row."""
    head, rest = statement.split("VALUES (", 1)
    row, tail = rest.split(")", 1)
    parts = [part.strip() for part in row.split(",")]
    names = iter(f"v{i}" for i in range(len(types)))
    picked = ", ".join(next(names) if part == "?" else part for part in parts)
    arrays = ", ".join(f"?::{kind}[]" for kind in types)
    columns = ", ".join(f"v{i}" for i in range(len(types)))
    return f"{head}SELECT {picked} FROM unnest({arrays}) AS given ({columns})\n{tail}"


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def marks(count: int) -> str:
    return ",".join("?" * count)
