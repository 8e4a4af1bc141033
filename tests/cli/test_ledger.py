"""`batch-scheduler ledger status` and `ledger prune`, on the SQLite file and on a shared
PostgreSQL ledger (a real server): what they say, what they forget, what they keep."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from batch_scheduler.ledger import EntryState, LedgerUpdate, open_ledger
from tests.support.cli import invoke

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
BASE = "https://api.example.test"


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[dict[str, str], str | None]:
    """The environment that names the ledger, and its state_url (None: SQLite)."""
    env = {"BATCH_SCHEDULER_STATE_DIR": str(tmp_path / "state"),
           "BATCH_SCHEDULER_NOW": NOW.isoformat()}  # fmt: skip
    if request.param == "sqlite":
        return env, None
    url = request.getfixturevalue("state_url")
    return env | {"BATCH_SCHEDULER_STATE_URL": url}, url


def fill(env: dict[str, str], url: str | None) -> None:
    """A ledger with entries written 100 days ago and today."""
    state_dir = Path(env["BATCH_SCHEDULER_STATE_DIR"])
    old, today = NOW - timedelta(days=100), NOW - timedelta(hours=1)
    with open_ledger(state_dir, url, base_url=BASE, clock=lambda: old) as ledger:
        ledger.mark_sending("create", ["OLD-DONE", "OLD-REJECTED", "OLD-SENDING"], "old-run")
        ledger.record([LedgerUpdate("create", "OLD-DONE", EntryState.DONE, appointment_id="a"),
                       LedgerUpdate("create", "OLD-REJECTED", EntryState.REJECTED)],
                      "old-run")  # fmt: skip
        ledger.release("old-run")
    with open_ledger(state_dir, url, base_url=BASE, clock=lambda: today) as ledger:
        ledger.mark_sending("create", ["NEW-DONE"], "new-run")
        ledger.record([LedgerUpdate("create", "NEW-DONE", EntryState.DONE)], "new-run")


def test_status_says_where_what_and_how_old(where: tuple[dict[str, str], str | None]) -> None:
    env, url = where
    fill(env, url)

    result = invoke(env, "ledger", "status")
    as_json = json.loads(invoke(env, "ledger", "status", "--json").output)

    assert result.exit_code == 0, result.output
    backend = "PostgreSQL" if url else "SQLite"
    assert result.output.startswith(f"Ledger: {backend}, ")
    assert "Entries: 4\n" in result.output
    assert "Oldest written 2026-11-21 12:00 UTC, newest 2027-03-01 11:00 UTC" in result.output
    assert f"  {BASE}  create  done" in result.output
    assert (as_json["backend"], as_json["entries"], as_json["schema_version"]) == (backend, 4, 2)
    states = {row["state"]: row["count"] for row in as_json["counts"]}
    assert states == {"done": 2, "rejected": 1, "sending": 1}
    if url:
        password = urlsplit(url).password
        assert password and password not in result.output
        parts = urlsplit(url)
        assert as_json["location"] == f"{parts.hostname}:{parts.port}{parts.path}"


def test_prune_forgets_old_entries_but_keeps_those_still_to_check(
    where: tuple[dict[str, str], str | None],
) -> None:
    env, url = where
    fill(env, url)

    dry = invoke(env, "ledger", "prune", "--older-than", "90d", "--dry-run")
    result = invoke(env, "ledger", "prune", "--older-than", "90d")
    after = json.loads(invoke(env, "ledger", "status", "--json").output)

    assert dry.exit_code == 0 and dry.output.startswith(
        "Dry run: 2 entries last written before 2026-12-01 12:00 UTC would be forgotten"
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Forgot 2 entries last written before 2026-12-01 12:00 UTC")
    assert "Kept 1 older entries whose outcome is still to be checked" in result.output
    assert {row["state"]: row["count"] for row in after["counts"]} == {"done": 1, "sending": 1}


def test_status_and_prune_of_a_ledger_not_made_yet_create_nothing(tmp_path: Path) -> None:
    env = {"BATCH_SCHEDULER_STATE_DIR": str(tmp_path / "never")}

    status = invoke(env, "ledger", "status")
    prune = invoke(env, "ledger", "prune", "--older-than", "12w")

    assert status.exit_code == prune.exit_code == 0
    assert status.output.startswith("No ledger yet at ")
    assert prune.output.startswith("No ledger yet at ")
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize("age", ["90", "0d", "3 months", "-5d"])
def test_an_age_that_is_not_one_is_refused(tmp_path: Path, age: str) -> None:
    env = {"BATCH_SCHEDULER_STATE_DIR": str(tmp_path / "state")}

    result = invoke(env, "ledger", "prune", "--older-than", age)

    assert result.exit_code == 2
    assert "such as 90d, 12w or 36h" in result.output
