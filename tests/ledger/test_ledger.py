"""The ledger keeps exactly-once promises across runs, crashes and kill -9, and several runs
may share it: the contract both backends keep (SQLite and a real PostgreSQL server), then
what only the SQLite file does (files, permissions, migration from schema version 1)."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from batch_scheduler.errors import LedgerConflictError, LedgerError
from batch_scheduler.ledger import EntryState, IndexedLedger, Ledger, LedgerUpdate, open_ledger

BASE = "https://api.example.test"
REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand, so stored times are exact."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


Opener = Callable[..., IndexedLedger]


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture(params=["sqlite", "postgresql"])
def opener(request: pytest.FixtureRequest, state_dir: Path) -> Opener:
    """Opens the ledger of this test (base URL, clock, lease, read-only as asked), on SQLite
    or on a fresh PostgreSQL database: every contract test runs on both."""
    url = request.getfixturevalue("state_url") if request.param == "postgresql" else None

    def open_(base_url: str = BASE, *, clock: Any = None, readonly: bool = False,
              lease: float = 60.0) -> IndexedLedger:  # fmt: skip
        return open_ledger(state_dir, url, base_url=base_url, readonly=readonly, lease=lease,
                           clock=clock or FakeClock(datetime.now(UTC)))  # fmt: skip

    return open_


@pytest.fixture
def ledger(opener: Opener) -> Iterator[IndexedLedger]:
    with opener(clock=FakeClock()) as opened:
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
def test_every_answer_state_round_trips(ledger: IndexedLedger, state: EntryState) -> None:
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
        ],
        "run-1",  # the run holding the key: NOT_APPLIED is written only by it
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


def test_sending_round_trips_and_is_unresolved(ledger: IndexedLedger) -> None:
    ledger.mark_sending("cancel", ["id-9"], "run-1", references={"id-9": "REF-9"})

    entry = ledger.get("cancel", "id-9")

    assert entry is not None
    assert entry.state is EntryState.SENDING
    assert entry.reference == "REF-9"
    assert [e.key for e in ledger.unresolved("cancel")] == ["id-9"]
    assert ledger.unresolved("create") == []


def test_response_json_round_trips_exactly(ledger: IndexedLedger) -> None:
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


def test_a_response_read_back_can_be_recorded_again(ledger: IndexedLedger) -> None:
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


def test_entries_do_not_show_personal_data_in_repr(ledger: IndexedLedger) -> None:
    ledger.mark_sending("create", ["R"], "run-1")
    response = {"claimant": {"name": "Zoë Example", "email": "zoe@example.test"}}
    ledger.record([LedgerUpdate("create", "R", EntryState.DONE, response=response)])

    entry = ledger.get("create", "R")

    assert entry is not None
    assert "Zoë" not in repr(entry)
    assert "zoe@" not in repr(entry.response)


def test_record_keeps_known_fields_and_replaces_error(ledger: IndexedLedger) -> None:
    ledger.mark_sending("create", ["R"], "run-1")
    ledger.record(
        [LedgerUpdate("create", "R", EntryState.UNKNOWN, appointment_id="a1", error="timeout")]
    )
    ledger.record([LedgerUpdate("create", "R", EntryState.DONE, status="scheduled")])

    entry = ledger.get("create", "R")

    assert entry is not None
    assert (entry.state, entry.appointment_id, entry.status) == (EntryState.DONE, "a1", "scheduled")
    assert entry.error is None


def test_record_adds_an_entry_found_without_sending(ledger: IndexedLedger) -> None:
    ledger.record([LedgerUpdate("cancel", "id-1", EntryState.DONE, status="cancelled")])

    entry = ledger.get("cancel", "id-1")

    assert entry is not None
    assert (entry.state, entry.attempts, entry.status) == (EntryState.DONE, 0, "cancelled")


def test_updated_at_is_stored_as_utc(opener: Opener) -> None:
    clock = FakeClock(datetime(2030, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=1))))
    with opener(clock=clock) as ledger:
        ledger.mark_sending("create", ["R"], "run-1")
        entry = ledger.get("create", "R")

    assert entry is not None
    assert entry.updated_at == datetime(2030, 6, 1, 11, 0, tzinfo=UTC)
    assert entry.updated_at.utcoffset() == timedelta(0)


def test_a_naive_clock_is_refused(opener: Opener) -> None:
    with opener(clock=lambda: datetime(2030, 1, 1)) as ledger:
        with pytest.raises(ValueError, match="timezone-aware"):
            ledger.mark_sending("create", ["R"], "run-1")
        assert ledger.get("create", "R") is None


# ---------------------------------------------------------------------- attempts and runs


def test_attempts_count_across_runs(opener: Opener) -> None:
    with opener() as first:
        first.mark_sending("create", ["R"], "run-1")
        first.record([LedgerUpdate("create", "R", EntryState.NOT_APPLIED, error="429")], "run-1")
        first.mark_sending("create", ["R"], "run-1")
        first.record([LedgerUpdate("create", "R", EntryState.REJECTED, error="422")])

    with opener() as second:
        second.mark_sending("create", ["R"], "run-2")
        second.record([LedgerUpdate("create", "R", EntryState.DONE, appointment_id="a1")])
        entry = second.get("create", "R")

    assert entry is not None
    assert (entry.attempts, entry.state, entry.run_id) == (3, EntryState.DONE, "run-2")


@pytest.mark.parametrize("state", [EntryState.DONE, EntryState.UNKNOWN], ids=str)
def test_a_key_that_must_not_be_resent_is_refused_and_left_alone(
    ledger: IndexedLedger, state: EntryState
) -> None:
    """(Before per-key claims the whole batch was refused; now the others go ahead.)"""
    ledger.mark_sending("create", ["BLOCKED"], "run-1")
    ledger.record([LedgerUpdate("create", "BLOCKED", state)])
    ledger.release("run-1")

    refused = ledger.mark_sending("create", ["FRESH", "BLOCKED"], "run-2")

    assert list(refused) == ["BLOCKED"]
    assert refused["BLOCKED"].holder is None  # nobody holds it: its state forbids a send
    assert refused["BLOCKED"].entry is not None
    assert refused["BLOCKED"].entry.state is state
    fresh, blocked = ledger.get("create", "FRESH"), ledger.get("create", "BLOCKED")
    assert fresh is not None and fresh.state is EntryState.SENDING
    assert blocked is not None
    assert (blocked.attempts, blocked.state) == (1, state)


def test_a_left_over_sending_entry_is_resent_only_after_reconciliation(opener: Opener) -> None:
    with opener() as crashed:
        crashed.mark_sending("create", ["R"], "run-1")
        crashed.release("run-1")  # or its lease ran out

    with opener() as resumed:
        assert set(resumed.mark_sending("create", ["R"], "run-2")) == {"R"}
        assert resumed.claim("create", ["R"], "run-2") == {}
        resumed.record(
            [LedgerUpdate("create", "R", EntryState.NOT_APPLIED, error="not found")], "run-2"
        )
        assert resumed.mark_sending("create", ["R"], "run-2") == {}
        entry = resumed.get("create", "R")

    assert entry is not None
    assert (entry.state, entry.attempts, entry.error) == (EntryState.SENDING, 2, None)


def test_the_same_key_twice_in_one_batch_is_refused(ledger: IndexedLedger) -> None:
    with pytest.raises(LedgerConflictError, match="twice"):
        ledger.mark_sending("create", ["R", "R"], "run-1")

    assert ledger.get("create", "R") is None


def test_record_refuses_sending_and_unknown_operations(ledger: IndexedLedger) -> None:
    with pytest.raises(ValueError, match="mark_sending"):
        ledger.record([LedgerUpdate("create", "R", EntryState.SENDING)])
    with pytest.raises(ValueError, match="operation"):
        ledger.record([LedgerUpdate("book", "R", EntryState.DONE)])
    with pytest.raises(ValueError, match="operation"):
        ledger.get("Create", "R")


def test_unresolved_lists_sending_and_unknown_only(ledger: IndexedLedger) -> None:
    keys = ["S", "U", "D", "J", "N"]
    ledger.mark_sending("create", keys, "run-1")
    ledger.record(
        [
            LedgerUpdate("create", "U", EntryState.UNKNOWN, error="timeout"),
            LedgerUpdate("create", "D", EntryState.DONE),
            LedgerUpdate("create", "J", EntryState.REJECTED),
            LedgerUpdate("create", "N", EntryState.NOT_APPLIED),
        ],
        "run-1",
    )

    states = {e.key: e.state for e in ledger.unresolved("create")}

    assert states == {"S": EntryState.SENDING, "U": EntryState.UNKNOWN}


def test_find_created_returns_only_a_done_create(ledger: IndexedLedger) -> None:
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


def test_base_urls_are_kept_apart(opener: Opener) -> None:
    with opener("https://sandbox.example.test") as sandbox:
        sandbox.mark_sending("create", ["R", "S"], "run-1")
        sandbox.record([LedgerUpdate("create", "R", EntryState.DONE, appointment_id="a1")])

    with opener("https://prod.example.test") as prod:
        assert prod.get("create", "R") is None
        assert prod.get_many("create", ["R", "S"]) == {}
        assert prod.find_created("R") is None
        assert prod.unresolved("create") == []
        assert prod.mark_sending("create", ["R"], "run-2") == {}  # not the sandbox's DONE
        entry = prod.get("create", "R")

    assert entry is not None
    assert entry.attempts == 1


def test_a_trailing_slash_names_the_same_base_url(opener: Opener) -> None:
    with opener(BASE + "/") as first:
        first.mark_sending("create", ["R"], "run-1")
        assert first.base_url == BASE

    with opener(BASE) as second:
        entry = second.get("create", "R")

    assert entry is not None
    assert entry.base_url == BASE


# ---------------------------------------------------------------------- bulk


def test_get_many_with_ten_thousand_keys(ledger: IndexedLedger) -> None:
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
    assert {"ledger.sqlite3", "ledger.sqlite3-wal", "ledger.sqlite3-shm"} <= set(modes)
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


def test_open_readonly_reads_while_a_run_writes(opener: Opener) -> None:
    with opener() as writer:
        writer.mark_sending("create", ["R", "S"], "run-1")
        writer.record([LedgerUpdate("create", "R", EntryState.DONE, appointment_id="a1")])

        with opener(BASE + "/", readonly=True) as reader:
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


# ---------------------------------------------------------------------- several runs, crashes


def test_kill_9_lets_the_claims_go_and_keeps_what_was_written(state_dir: Path) -> None:
    """SQLite: a run of this machine whose process is gone holds nothing (claims.py)."""
    child = _child(HOLD_IN_CHILD, str(state_dir), BASE)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        with Ledger.open(state_dir, base_url=BASE) as beside:  # no lock: it may open
            held = beside.claim("create", ["REF-1"], "run-beside")
            assert [r.holder_in_words() for r in held.values()] == [
                f"process {child.pid} on {socket.gethostname()}"
            ]
            assert beside.reap_dead_owners() == 0  # it lives
        os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()

    assert child.returncode == -signal.SIGKILL
    with Ledger.open(state_dir, base_url=BASE) as resumed:
        assert resumed.reap_dead_owners() == 1
        unresolved = resumed.unresolved("create")
        done = resumed.find_created("REF-3")
        assert resumed.claim("create", ["REF-1", "REF-2"], "run-2") == {}

    assert {e.key: (e.state, e.attempts, e.run_id) for e in unresolved} == {
        "REF-1": (EntryState.SENDING, 1, "run-child"),
        "REF-2": (EntryState.SENDING, 1, "run-child"),
    }
    assert done is not None
    assert done.appointment_id == "id-3"


# ---------------------------------------------------------------------- claims (both backends)


def test_a_key_held_by_a_live_run_is_refused_with_its_holder(opener: Opener) -> None:
    clock = FakeClock()
    with opener(clock=clock, lease=30) as first, opener(clock=clock, lease=30) as second:
        assert first.mark_sending("create", ["R", "S"], "run-1") == {}
        first.record([LedgerUpdate("create", "S", EntryState.NOT_APPLIED)], "run-1")

        refused = second.mark_sending("create", ["R", "S", "T"], "run-2")
        claimed = second.claim("create", ["R"], "run-2")
        second.record([LedgerUpdate("create", "S", EntryState.NOT_APPLIED, error="x")], "run-2")

        assert set(refused) == {"R", "S"}
        assert {r.holder for r in refused.values()} == {first.owner_of("run-1")}
        assert set(claimed) == {"R"}
        s_entry = first.get("create", "S")
        assert s_entry is not None and s_entry.error is None  # run-2's NOT_APPLIED not taken
        t_entry = first.get("create", "T")
        assert t_entry is not None and t_entry.state is EntryState.SENDING


def test_a_lease_runs_out_unless_renewed_and_then_another_run_takes_over(opener: Opener) -> None:
    clock = FakeClock()
    with opener(clock=clock, lease=30) as dead, opener(clock=clock, lease=30) as other:
        dead.mark_sending("create", ["R"], "run-dead")
        clock.now += timedelta(seconds=20)
        dead.renew("run-dead")  # now held until T0 + 50 s
        clock.now += timedelta(seconds=29)
        assert set(other.claim("create", ["R"], "run-2")) == {"R"}
        clock.now += timedelta(seconds=2)  # T0 + 51 s: run-dead's lease has run out

        assert other.claim("create", ["R"], "run-2") == {}  # to check it with the server
        assert set(dead.mark_sending("create", ["R"], "run-dead")) == {"R"}
        other.record([LedgerUpdate("create", "R", EntryState.NOT_APPLIED)], "run-2")
        assert other.mark_sending("create", ["R"], "run-2") == {}


def test_release_gives_up_every_claim_of_the_run(ledger: IndexedLedger, opener: Opener) -> None:
    ledger.mark_sending("create", ["R", "S"], "run-1")
    ledger.record([LedgerUpdate("create", "S", EntryState.UNKNOWN)], "run-1")
    ledger.release("run-1")

    with opener() as other:
        assert other.claim("create", ["R", "S"], "run-2") == {}


def test_done_and_rejected_release_the_key_and_done_is_never_moved_back(
    ledger: IndexedLedger, opener: Opener
) -> None:
    ledger.mark_sending("create", ["D", "J"], "run-1")
    ledger.record([LedgerUpdate("create", "D", EntryState.DONE, appointment_id="a1"),
                   LedgerUpdate("create", "J", EntryState.REJECTED)], "run-1")  # fmt: skip
    ledger.record([LedgerUpdate("create", "D", EntryState.NOT_APPLIED),
                   LedgerUpdate("create", "D", EntryState.UNKNOWN)], "run-1")  # fmt: skip

    with opener() as other:
        refused = other.mark_sending("create", ["D", "J"], "run-2")
    done = ledger.get("create", "D")

    assert list(refused) == ["D"] and refused["D"].holder is None  # D: done, J: free
    assert done is not None
    assert (done.state, done.appointment_id) == (EntryState.DONE, "a1")


def test_two_processes_marking_the_same_keys_at_once_never_both_get_one(
    opener: Opener, state_dir: Path, request: pytest.FixtureRequest
) -> None:
    """The claim is in the statement that writes the mark: no check-then-write gap."""
    keys = [f"R-{n:03d}" for n in range(300)]
    url = "" if "sqlite" in request.node.callspec.id else request.getfixturevalue("state_url")
    opener().close()  # the schema exists before the children start
    children = [_child(RACE_IN_CHILD, str(state_dir), url, f"run-{n}") for n in range(2)]
    won = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        won.append(set(out.split()))

    assert won[0] | won[1] == set(keys)
    assert won[0] & won[1] == set()
    with opener() as ledger:
        entries = ledger.get_many("create", keys)
    assert {e.attempts for e in entries.values()} == {1}


RACE_IN_CHILD = """
    import sys
    from pathlib import Path
    from batch_scheduler.ledger import open_ledger
    ledger = open_ledger(Path(sys.argv[1]), sys.argv[2] or None, base_url="https://api.example.test")
    won = []
    for start in range(0, 300, 10):
        keys = [f"R-{n:03d}" for n in range(start, start + 10)]
        refused = ledger.mark_sending("create", keys, sys.argv[3])
        won += [k for k in keys if k not in refused]
    print(" ".join(won))
"""


# ---------------------------------------------------------------------- the account index


def test_the_account_index_finds_references_and_keeps_the_cursor(opener: Opener) -> None:
    from batch_scheduler.ledger import Cursor
    from batch_scheduler.models import Appointment

    at = datetime(2031, 3, 4, 9, 30, tzinfo=UTC)
    items = [
        Appointment(id=f"id-{n}", reference=f"R-{n % 3}", appointment_at=at,
                    duration_in_minutes=30, status="scheduled", url=f"https://x.test/{n}",
                    claimant_name="Siân Jones", created_at=at + timedelta(seconds=n))
        for n in range(5)
    ]  # fmt: skip
    with opener() as ledger:
        assert ledger.account_cursor() is None
        ledger.add_to_index(items)
        ledger.add_to_index([replace(items[0], status="cancelled")])  # seen again, changed
        ledger.save_cursor(Cursor(items_read=5, last_id="id-4", total=5, per_page=100))

    with opener() as again:
        found = again.indexed(["R-0", "R-2", "R-9"])
        cursor = again.account_cursor()
        with opener("https://other.example.test") as other:
            assert other.indexed(["R-0"]) == {} and other.account_cursor() is None
        again.forget_account()
        forgotten = (again.indexed(["R-0"]), again.account_cursor())

    assert {ref: [a.id for a in hits] for ref, hits in found.items()} == {
        "R-0": ["id-0", "id-3"],
        "R-2": ["id-2"],
    }
    first = found["R-0"][0]
    assert (first.status, first.created_at) == ("cancelled", at)
    assert first.claimant_name is None  # no personal data: a hit is fetched again to match
    assert cursor == Cursor(items_read=5, last_id="id-4", total=5, per_page=100)
    assert forgotten == ({}, None)


# ---------------------------------------------------------------------- schema versions


V1_SCHEMA = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE entries (
    id INTEGER PRIMARY KEY, base_url TEXT NOT NULL, operation TEXT NOT NULL,
    key TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    reference TEXT, appointment_id TEXT, status TEXT, response TEXT, error TEXT,
    run_id TEXT, updated_at TEXT NOT NULL, UNIQUE (base_url, operation, key)
);
CREATE INDEX entries_by_state ON entries (base_url, operation, state);
INSERT INTO schema_version VALUES (1);
INSERT INTO entries (base_url, operation, key, state, attempts, reference, appointment_id,
                     run_id, updated_at)
VALUES ('https://api.example.test', 'create', 'OLD-1', 'done', 1, 'OLD-1', 'a-1', 'run-0',
        '2029-12-31T23:00:00+00:00'),
       ('https://api.example.test', 'create', 'OLD-2', 'sending', 1, 'OLD-2', NULL, 'run-0',
        '2029-12-31T23:00:00+00:00');
"""


def test_a_ledger_of_schema_version_1_keeps_working(state_dir: Path) -> None:
    """Yesterday's ledger.sqlite3 (no claims, no account index) is brought up to date."""
    state_dir.mkdir()
    conn = sqlite3.connect(state_dir / Ledger.FILE_NAME)
    conn.executescript(V1_SCHEMA)
    conn.close()

    with Ledger.open_readonly(state_dir, base_url=BASE) as dry_run:  # read as it is
        assert [e.key for e in dry_run.unresolved("create")] == ["OLD-2"]
    with Ledger.open(state_dir, base_url=BASE) as ledger:
        done, sending = ledger.get("create", "OLD-1"), ledger.get("create", "OLD-2")
        assert ledger.claim("create", ["OLD-2"], "run-1") == {}
        assert set(ledger.mark_sending("create", ["OLD-1", "NEW"], "run-1")) == {"OLD-1"}
        assert ledger.account_cursor() is None

    assert done is not None and (done.state, done.appointment_id) == (EntryState.DONE, "a-1")
    assert done.updated_at == datetime(2029, 12, 31, 23, 0, tzinfo=UTC)
    assert sending is not None and sending.state is EntryState.SENDING
    conn = sqlite3.connect(state_dir / Ledger.FILE_NAME)
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(2,)]
    conn.close()


def test_a_newer_schema_in_postgresql_is_refused_clearly(state_url: str) -> None:
    import psycopg

    from batch_scheduler.ledger.postgres import forget_pools

    open_ledger(Path("unused"), state_url, base_url=BASE).close()
    with psycopg.connect(state_url, autocommit=True) as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    forget_pools()  # a new process would check the schema again

    with pytest.raises(LedgerError, match=r"newer batch-scheduler \(schema version 99") as info:
        open_ledger(Path("unused"), state_url, base_url=BASE)

    assert info.value.exit_code == 3


def test_a_dry_run_on_an_empty_database_creates_nothing(state_url: str) -> None:
    import psycopg

    with open_ledger(Path("unused"), state_url, base_url=BASE, readonly=True) as ledger:
        assert ledger.get_many("create", ["R"]) == {}

    with psycopg.connect(state_url) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,)
