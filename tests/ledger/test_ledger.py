"""The ledger keeps exactly-once promises across runs, crashes and kill -9."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from batch_scheduler.errors import LedgerConflictError, LedgerError, StateLockedError
from batch_scheduler.ledger import EntryState, Ledger, LedgerUpdate

BASE = "https://api.example.test"
REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand, so stored times are exact."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def ledger(state_dir: Path) -> Iterator[Ledger]:
    with Ledger.open(state_dir, base_url=BASE, clock=FakeClock()) as opened:
        yield opened


def _child(code: str, *args: str) -> subprocess.Popen[str]:
    """Run `code` in another Python process that imports this package."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


OPEN_IN_CHILD = """
    import sys
    from pathlib import Path
    from batch_scheduler.errors import LedgerError, StateLockedError
    from batch_scheduler.ledger.store import Ledger
    try:
        Ledger.open(Path(sys.argv[1]), base_url=sys.argv[2]).close()
    except StateLockedError as exc:
        print(type(exc).__name__, exc.message, file=sys.stderr)
        sys.exit(exc.exit_code)
    print("opened")
"""

HOLD_IN_CHILD = """
    import sys, time
    from pathlib import Path
    from batch_scheduler.ledger import EntryState, Ledger, LedgerUpdate
    ledger = Ledger.open(Path(sys.argv[1]), base_url=sys.argv[2])
    ledger.mark_sending("create", ["REF-1", "REF-2", "REF-3"], "run-child")
    ledger.record([LedgerUpdate("create", "REF-3", EntryState.DONE, appointment_id="id-3")])
    print("ready", flush=True)
    time.sleep(120)
"""


# ---------------------------------------------------------------------- round trips


@pytest.mark.parametrize("state", [s for s in EntryState if s is not EntryState.SENDING], ids=str)
def test_every_answer_state_round_trips(ledger: Ledger, state: EntryState) -> None:
    ledger.mark_sending("create", ["REF-1"], "run-1")
    response = {"id": "a1", "reference": "REF-1", "claimant": {"name": "Zoë", "data": []}}
    ledger.record(
        [
            LedgerUpdate(
                "create",
                "REF-1",
                state,
                appointment_id="a1",
                status="scheduled",
                response=response,
                error="some error",
            )
        ]
    )

    entry = ledger.get("create", "REF-1")

    assert entry is not None
    assert (entry.base_url, entry.operation, entry.key) == (BASE, "create", "REF-1")
    assert entry.state is state
    assert entry.attempts == 1
    assert entry.reference == "REF-1"
    assert (entry.appointment_id, entry.status, entry.error) == ("a1", "scheduled", "some error")
    assert entry.response == response
    assert entry.run_id == "run-1"
    assert entry.updated_at == T0


def test_sending_round_trips_and_is_unresolved(ledger: Ledger) -> None:
    ledger.mark_sending("cancel", ["id-9"], "run-1", references={"id-9": "REF-9"})

    entry = ledger.get("cancel", "id-9")

    assert entry is not None
    assert entry.state is EntryState.SENDING
    assert entry.reference == "REF-9"
    assert [e.key for e in ledger.unresolved("cancel")] == ["id-9"]
    assert ledger.unresolved("create") == []


def test_response_json_round_trips_exactly(ledger: Ledger) -> None:
    response = {
        "id": "0b6f",
        "reference": 123,
        "duration_in_minutes": 30,
        "is_interpreter_needed": False,
        "interpreter_language": None,
        "department": {"id": 4, "name": "Ünïcode ✓"},
        "claimant": {"data": [{"id": 1, "value": "x"}], "phone_number": "+447700900123"},
        "meeting": {"room_url": "https://x.test/room?roomKey=abc"},
        "ratio": 0.25,
    }
    ledger.mark_sending("create", ["R"], "run-1")
    ledger.record([LedgerUpdate("create", "R", EntryState.DONE, response=response)])

    entry = ledger.get("create", "R")

    assert entry is not None
    assert entry.response == response


def test_a_response_read_back_can_be_recorded_again(ledger: Ledger) -> None:
    response = {"id": "a1", "status": "cancelled", "claimant": {"name": "Zoë"}}
    ledger.mark_sending("create", ["R"], "run-1")
    ledger.record([LedgerUpdate("create", "R", EntryState.DONE, response=response)])
    read = ledger.get("create", "R")
    assert read is not None and read.response is not None

    ledger.record([LedgerUpdate("cancel", "a1", EntryState.DONE, response=read.response)])
    again = ledger.get("cancel", "a1")

    assert again is not None
    assert again.response == response
    assert dict(read.response) == response


def test_entries_do_not_show_personal_data_in_repr(ledger: Ledger) -> None:
    ledger.mark_sending("create", ["R"], "run-1")
    response = {"claimant": {"name": "Zoë Example", "email": "zoe@example.test"}}
    ledger.record([LedgerUpdate("create", "R", EntryState.DONE, response=response)])

    entry = ledger.get("create", "R")

    assert entry is not None
    assert "Zoë" not in repr(entry)
    assert "zoe@" not in repr(entry.response)


def test_record_keeps_known_fields_and_replaces_error(ledger: Ledger) -> None:
    ledger.mark_sending("create", ["R"], "run-1")
    ledger.record(
        [LedgerUpdate("create", "R", EntryState.UNKNOWN, appointment_id="a1", error="timeout")]
    )
    ledger.record([LedgerUpdate("create", "R", EntryState.DONE, status="scheduled")])

    entry = ledger.get("create", "R")

    assert entry is not None
    assert (entry.state, entry.appointment_id, entry.status) == (EntryState.DONE, "a1", "scheduled")
    assert entry.error is None


def test_record_adds_an_entry_found_without_sending(ledger: Ledger) -> None:
    ledger.record([LedgerUpdate("cancel", "id-1", EntryState.DONE, status="cancelled")])

    entry = ledger.get("cancel", "id-1")

    assert entry is not None
    assert (entry.state, entry.attempts, entry.status) == (EntryState.DONE, 0, "cancelled")


def test_updated_at_is_stored_as_utc(state_dir: Path) -> None:
    clock = FakeClock(datetime(2030, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=1))))
    with Ledger.open(state_dir, base_url=BASE, clock=clock) as ledger:
        ledger.mark_sending("create", ["R"], "run-1")
        entry = ledger.get("create", "R")

    assert entry is not None
    assert entry.updated_at == datetime(2030, 6, 1, 11, 0, tzinfo=UTC)
    assert entry.updated_at.utcoffset() == timedelta(0)


def test_a_naive_clock_is_refused(state_dir: Path) -> None:
    with Ledger.open(state_dir, base_url=BASE, clock=lambda: datetime(2030, 1, 1)) as ledger:
        with pytest.raises(ValueError, match="timezone-aware"):
            ledger.mark_sending("create", ["R"], "run-1")
        assert ledger.get("create", "R") is None


# ---------------------------------------------------------------------- attempts and runs


def test_attempts_count_across_runs(state_dir: Path) -> None:
    with Ledger.open(state_dir, base_url=BASE) as first:
        first.mark_sending("create", ["R"], "run-1")
        first.record([LedgerUpdate("create", "R", EntryState.NOT_APPLIED, error="429")])
        first.mark_sending("create", ["R"], "run-1")
        first.record([LedgerUpdate("create", "R", EntryState.REJECTED, error="422")])

    with Ledger.open(state_dir, base_url=BASE) as second:
        second.mark_sending("create", ["R"], "run-2")
        second.record([LedgerUpdate("create", "R", EntryState.DONE, appointment_id="a1")])
        entry = second.get("create", "R")

    assert entry is not None
    assert (entry.attempts, entry.state, entry.run_id) == (3, EntryState.DONE, "run-2")


@pytest.mark.parametrize("state", [EntryState.DONE, EntryState.UNKNOWN], ids=str)
def test_a_key_that_must_not_be_resent_is_refused_and_nothing_is_written(
    ledger: Ledger, state: EntryState
) -> None:
    ledger.mark_sending("create", ["BLOCKED"], "run-1")
    ledger.record([LedgerUpdate("create", "BLOCKED", state)])

    with pytest.raises(LedgerConflictError, match="must not be sent"):
        ledger.mark_sending("create", ["FRESH", "BLOCKED"], "run-2")

    assert ledger.get("create", "FRESH") is None
    blocked = ledger.get("create", "BLOCKED")
    assert blocked is not None
    assert (blocked.attempts, blocked.state) == (1, state)


def test_a_left_over_sending_entry_is_resent_only_after_reconciliation(state_dir: Path) -> None:
    with Ledger.open(state_dir, base_url=BASE) as crashed:
        crashed.mark_sending("create", ["R"], "run-1")

    with Ledger.open(state_dir, base_url=BASE) as resumed:
        with pytest.raises(LedgerConflictError):
            resumed.mark_sending("create", ["R"], "run-2")
        resumed.record([LedgerUpdate("create", "R", EntryState.NOT_APPLIED, error="not found")])
        resumed.mark_sending("create", ["R"], "run-2")
        entry = resumed.get("create", "R")

    assert entry is not None
    assert (entry.state, entry.attempts, entry.error) == (EntryState.SENDING, 2, None)


def test_the_same_key_twice_in_one_batch_is_refused(ledger: Ledger) -> None:
    with pytest.raises(LedgerConflictError, match="twice"):
        ledger.mark_sending("create", ["R", "R"], "run-1")

    assert ledger.get("create", "R") is None


def test_record_refuses_sending_and_unknown_operations(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="mark_sending"):
        ledger.record([LedgerUpdate("create", "R", EntryState.SENDING)])
    with pytest.raises(ValueError, match="operation"):
        ledger.record([LedgerUpdate("book", "R", EntryState.DONE)])
    with pytest.raises(ValueError, match="operation"):
        ledger.get("Create", "R")


def test_unresolved_lists_sending_and_unknown_only(ledger: Ledger) -> None:
    keys = ["S", "U", "D", "J", "N"]
    ledger.mark_sending("create", keys, "run-1")
    ledger.record(
        [
            LedgerUpdate("create", "U", EntryState.UNKNOWN, error="timeout"),
            LedgerUpdate("create", "D", EntryState.DONE),
            LedgerUpdate("create", "J", EntryState.REJECTED),
            LedgerUpdate("create", "N", EntryState.NOT_APPLIED),
        ]
    )

    states = {e.key: e.state for e in ledger.unresolved("create")}

    assert states == {"S": EntryState.SENDING, "U": EntryState.UNKNOWN}


def test_find_created_returns_only_a_done_create(ledger: Ledger) -> None:
    ledger.mark_sending("create", ["DONE-REF", "REJ-REF"], "run-1")
    ledger.record(
        [
            LedgerUpdate("create", "DONE-REF", EntryState.DONE, appointment_id="a1"),
            LedgerUpdate("create", "REJ-REF", EntryState.REJECTED, error="422"),
        ]
    )

    found = ledger.find_created("DONE-REF")

    assert found is not None
    assert found.appointment_id == "a1"
    assert ledger.find_created("REJ-REF") is None
    assert ledger.find_created("NO-SUCH-REF") is None


# ---------------------------------------------------------------------- base URLs


def test_base_urls_are_kept_apart(state_dir: Path) -> None:
    with Ledger.open(state_dir, base_url="https://sandbox.example.test") as sandbox:
        sandbox.mark_sending("create", ["R", "S"], "run-1")
        sandbox.record([LedgerUpdate("create", "R", EntryState.DONE, appointment_id="a1")])

    with Ledger.open(state_dir, base_url="https://prod.example.test") as prod:
        assert prod.get("create", "R") is None
        assert prod.get_many("create", ["R", "S"]) == {}
        assert prod.find_created("R") is None
        assert prod.unresolved("create") == []
        prod.mark_sending("create", ["R"], "run-2")  # not blocked by the sandbox's DONE
        entry = prod.get("create", "R")

    assert entry is not None
    assert entry.attempts == 1


def test_a_trailing_slash_names_the_same_base_url(state_dir: Path) -> None:
    with Ledger.open(state_dir, base_url=BASE + "/") as first:
        first.mark_sending("create", ["R"], "run-1")
        assert first.base_url == BASE

    with Ledger.open(state_dir, base_url=BASE) as second:
        entry = second.get("create", "R")

    assert entry is not None
    assert entry.base_url == BASE


# ---------------------------------------------------------------------- bulk


def test_get_many_with_ten_thousand_keys(ledger: Ledger) -> None:
    stored = [f"REF-{i:05d}" for i in range(10_000)]
    for start in range(0, len(stored), 1_000):
        ledger.mark_sending("create", stored[start : start + 1_000], "run-1")
    ledger.record(
        [LedgerUpdate("create", k, EntryState.DONE, appointment_id=f"id-{k}") for k in stored[::2]]
    )
    asked = [*stored, "REF-99999", "MISSING", stored[0]]  # absent keys and a repeat

    found = ledger.get_many("create", iter(asked))

    assert set(found) == set(stored)
    assert found["REF-00000"].state is EntryState.DONE
    assert found["REF-00000"].appointment_id == "id-REF-00000"
    assert found["REF-09999"].state is EntryState.SENDING
    assert ledger.get_many("cancel", stored) == {}


# ---------------------------------------------------------------------- files


@pytest.mark.parametrize("umask", [0o000, 0o277], ids=oct)
def test_files_are_private_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    state_dir = tmp_path / "state"
    old = os.umask(umask)
    try:
        with Ledger.open(state_dir, base_url=BASE) as ledger:
            ledger.mark_sending("create", ["R"], "run-1")
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in state_dir.iterdir()}
            dir_mode = stat.S_IMODE(state_dir.stat().st_mode)
    finally:
        os.umask(old)

    assert dir_mode == 0o700
    assert {"ledger.sqlite3", "ledger.sqlite3-wal", "ledger.sqlite3-shm", "lock"} <= set(modes)
    assert set(modes.values()) == {0o600}


def test_the_journal_is_wal(state_dir: Path) -> None:
    Ledger.open(state_dir, base_url=BASE).close()

    conn = sqlite3.connect(state_dir / Ledger.FILE_NAME)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_a_newer_schema_version_is_refused_clearly(state_dir: Path) -> None:
    Ledger.open(state_dir, base_url=BASE).close()
    conn = sqlite3.connect(state_dir / Ledger.FILE_NAME)
    with conn:
        conn.execute("UPDATE schema_version SET version = 99")
    conn.close()

    with pytest.raises(LedgerError, match=r"newer batch-scheduler \(schema version 99") as info:
        Ledger.open(state_dir, base_url=BASE)
    with pytest.raises(LedgerError, match="schema version 99"):
        Ledger.open_readonly(state_dir, base_url=BASE)

    assert info.value.exit_code == 3
    # the failed open released the state directory
    conn = sqlite3.connect(state_dir / Ledger.FILE_NAME)
    with conn:
        conn.execute("UPDATE schema_version SET version = 1")
    conn.close()
    Ledger.open(state_dir, base_url=BASE).close()


def test_a_state_dir_that_cannot_be_made_is_refused_clearly(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")

    with pytest.raises(LedgerError, match="cannot be created") as info:
        Ledger.open(blocker / "state", base_url=BASE)

    assert info.value.exit_code == 3


def test_a_file_that_is_not_a_database_is_refused_clearly(state_dir: Path) -> None:
    state_dir.mkdir()
    (state_dir / Ledger.FILE_NAME).write_bytes(b"this is a spreadsheet, not a ledger" * 200)

    with pytest.raises(LedgerError, match="cannot be used"):
        Ledger.open(state_dir, base_url=BASE)


# ---------------------------------------------------------------------- read-only (dry run)


def test_open_readonly_on_a_missing_ledger_is_empty_and_creates_nothing(tmp_path: Path) -> None:
    state_dir = tmp_path / "never-used"

    with Ledger.open_readonly(state_dir, base_url=BASE) as ledger:
        assert ledger.get("create", "R") is None
        assert ledger.get_many("create", ["R", "S"]) == {}
        assert ledger.unresolved("create") == []
        assert ledger.find_created("R") is None
        with pytest.raises(RuntimeError, match="read-only"):
            ledger.mark_sending("create", ["R"], "run-1")

    assert not state_dir.exists()


def test_open_readonly_reads_while_a_run_holds_the_lock(state_dir: Path) -> None:
    with Ledger.open(state_dir, base_url=BASE) as writer:
        writer.mark_sending("create", ["R", "S"], "run-1")
        writer.record([LedgerUpdate("create", "R", EntryState.DONE, appointment_id="a1")])

        with Ledger.open_readonly(state_dir, base_url=BASE + "/") as reader:
            found = reader.find_created("R")
            unresolved = [e.key for e in reader.unresolved("create")]
            with pytest.raises(RuntimeError, match="read-only"):
                reader.record([LedgerUpdate("create", "S", EntryState.DONE)])

        entry = writer.get("create", "S")

    assert found is not None
    assert found.appointment_id == "a1"
    assert unresolved == ["S"]
    assert entry is not None
    assert entry.state is EntryState.SENDING


# ---------------------------------------------------------------------- locking, crashes


def test_a_second_process_is_refused_while_the_first_holds_the_lock(state_dir: Path) -> None:
    ledger = Ledger.open(state_dir, base_url=BASE)
    try:
        child = _child(OPEN_IN_CHILD, str(state_dir), BASE)
        out, err = child.communicate(timeout=30)
    finally:
        ledger.close()

    assert child.returncode == StateLockedError.exit_code == 3
    assert out == ""
    assert err.strip() == (
        f"StateLockedError Another batch-scheduler run (pid {os.getpid()}) is using the state "
        f"directory {state_dir}; wait for it to finish, or use --state-dir"
    )

    child = _child(OPEN_IN_CHILD, str(state_dir), BASE)
    out, err = child.communicate(timeout=30)

    assert (child.returncode, out.strip(), err) == (0, "opened", "")


def test_a_second_ledger_in_the_same_process_is_refused(ledger: Ledger, state_dir: Path) -> None:
    with pytest.raises(StateLockedError, match=f"pid {os.getpid()}"):
        Ledger.open(state_dir, base_url="https://other.example.test")


def test_kill_9_releases_the_lock_and_keeps_what_was_written(state_dir: Path) -> None:
    child = _child(HOLD_IN_CHILD, str(state_dir), BASE)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        with pytest.raises(StateLockedError, match=f"pid {child.pid}"):
            Ledger.open(state_dir, base_url=BASE)
        os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()

    assert child.returncode == -signal.SIGKILL
    with Ledger.open(state_dir, base_url=BASE) as resumed:
        unresolved = resumed.unresolved("create")
        done = resumed.find_created("REF-3")

    assert {e.key: (e.state, e.attempts, e.run_id) for e in unresolved} == {
        "REF-1": (EntryState.SENDING, 1, "run-child"),
        "REF-2": (EntryState.SENDING, 1, "run-child"),
    }
    assert done is not None
    assert done.appointment_id == "id-3"
