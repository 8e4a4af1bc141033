"""The ledger's tables, for SQLite and PostgreSQL, and the steps from one version to the next.

A ledger records its schema version in `schema_version`. Opening a ledger for writing brings
an older schema up to date (`steps`, one transaction); a newer one is refused, so a ledger is
never misread. A new ledger is made by the same steps from nothing, so a migrated ledger and
a new one are the same.

    1  entries: one row per (base URL, operation, key): state, attempts, the last answer
    2  entries gain `owner` and `lease_until` (per-key claims: claims.py); the account index
       (`account_items`: the id, reference, status and creation time of every appointment
       seen in the account's list) and `account_cursor` (how far that list has been read)

The two dialects differ only in the types below; the statements are the same.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = 2


@dataclass(frozen=True)
class Dialect:
    name: str
    key_column: str  # an auto-numbered primary key
    time: str  # a stored time (ISO text in SQLite, timestamptz in PostgreSQL)


SQLITE = Dialect("sqlite", "id INTEGER PRIMARY KEY", "TEXT")
POSTGRES = Dialect("postgresql", "id BIGSERIAL PRIMARY KEY", "TIMESTAMPTZ")

_STEPS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE schema_version (version INTEGER NOT NULL)",
        """CREATE TABLE entries (
            {key_column},
            base_url TEXT NOT NULL,
            operation TEXT NOT NULL,
            key TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            reference TEXT,
            appointment_id TEXT,
            status TEXT,
            response TEXT,
            error TEXT,
            run_id TEXT,
            updated_at {time} NOT NULL,
            UNIQUE (base_url, operation, key)
        )""",
        "CREATE INDEX entries_by_state ON entries (base_url, operation, state)",
    ),
    2: (
        "ALTER TABLE entries ADD COLUMN owner TEXT",
        "ALTER TABLE entries ADD COLUMN lease_until {time}",
        "CREATE INDEX entries_by_owner ON entries (owner) WHERE owner IS NOT NULL",
        """CREATE TABLE account_items (
            base_url TEXT NOT NULL,
            id TEXT NOT NULL,
            reference TEXT,
            status TEXT,
            created_at TEXT,
            PRIMARY KEY (base_url, id)
        )""",
        "CREATE INDEX account_items_by_reference ON account_items (base_url, reference)",
        """CREATE TABLE account_cursor (
            base_url TEXT PRIMARY KEY,
            items_read INTEGER NOT NULL,
            last_id TEXT,
            total INTEGER NOT NULL,
            per_page INTEGER NOT NULL,
            updated_at {time} NOT NULL
        )""",
    ),
}


def steps(dialect: Dialect, after: int) -> list[str]:
    """The statements that bring a schema at version `after` (0: none) up to date."""
    return [
        statement.format(key_column=dialect.key_column, time=dialect.time)
        for version in range(after + 1, SCHEMA_VERSION + 1)
        for statement in _STEPS[version]
    ]


def version_statement(found: int | None) -> str:
    """How to record that the schema is now SCHEMA_VERSION."""
    if found is None:
        return f"INSERT INTO schema_version (version) VALUES ({SCHEMA_VERSION})"
    return f"UPDATE schema_version SET version = {SCHEMA_VERSION}"


def too_new(version: int) -> bool:
    return version > SCHEMA_VERSION
