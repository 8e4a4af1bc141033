"""The group commit exactly-once depends on, on a real SQLite file and on a real PostgreSQL
database (where a commit is one pipeline: the marks' answers are read after the COMMIT's).

A second, read-only connection to the same ledger is the outside observer: it sees only what
was committed (neither WAL readers nor another PostgreSQL session see an open transaction),
as the next run after a crash would.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from batch_scheduler.ledger import (
    CREATE,
    EntryState,
    GroupCommit,
    IndexedLedger,
    Ledger,
    LedgerUpdate,
    Refusal,
    open_ledger,
)
from batch_scheduler.ledger.group_commit import MARK_TURNS
from batch_scheduler.ledger.postgres import PostgresLedger

BASE = "https://api.example.test"
UNEXPECTED: list[BaseException] = []  # commits that failed where none should


@pytest.fixture(autouse=True)
def no_failed_commit() -> Iterator[None]:
    UNEXPECTED.clear()
    yield
    assert UNEXPECTED == []


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest) -> str | None:
    """None: the SQLite file in tmp_path; else a fresh PostgreSQL database's URL."""
    return request.getfixturevalue("state_url") if request.param == "postgresql" else None


@pytest.fixture
def ledger(tmp_path: Path, url: str | None) -> Iterator[IndexedLedger]:
    with open_ledger(tmp_path, url, base_url=BASE) as opened:
        yield opened


@pytest.fixture
def outside(tmp_path: Path, url: str | None, ledger: IndexedLedger) -> Iterator[IndexedLedger]:
    """The same ledger through another connection: what is durably committed."""
    with open_ledger(tmp_path, url, base_url=BASE, readonly=True) as reader:
        yield reader


def committed(reader: IndexedLedger, *keys: str) -> dict[str, EntryState]:
    return {key: entry.state for key, entry in reader.get_many(CREATE, keys).items()}


async def turns(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


def test_a_mark_returns_only_once_it_is_committed(
    ledger: IndexedLedger, outside: IndexedLedger
) -> None:
    """The request goes out after `mark_sending` returns: by then the mark is on disk."""
    seen_when_sent: list[dict[str, EntryState]] = []

    async def send_one() -> None:
        writes = GroupCommit(ledger, "run-1", on_error=UNEXPECTED.append)
        marking = asyncio.create_task(writes.mark_sending(CREATE, "REF-1"))
        await turns(MARK_TURNS - 1)  # the commit waits for other marks a few turns
        assert not marking.done()
        assert committed(outside, "REF-1") == {}  # not durable yet: nothing may leave
        await marking
        seen_when_sent.append(committed(outside, "REF-1"))  # "the request leaves" here
        writes.release()

    asyncio.run(send_one())

    assert seen_when_sent == [{"REF-1": EntryState.SENDING}]


def test_marks_of_several_loop_turns_share_one_transaction(
    ledger: IndexedLedger, outside: IndexedLedger
) -> None:
    keys = [f"REF-{n}" for n in range(4)]
    views: list[int] = []  # how many marks the outside sees, turn by turn

    async def mark_in_turn(writes: GroupCommit, key: str, turn: int) -> None:
        await turns(turn)
        await writes.mark_sending(CREATE, key)

    async def watch(until: asyncio.Task[list[None]]) -> None:
        while not until.done():
            views.append(len(committed(outside, *keys)))
            await asyncio.sleep(0)
        views.append(len(committed(outside, *keys)))

    async def send_four() -> int:
        writes = GroupCommit(ledger, "run-1", on_error=UNEXPECTED.append)
        marks = asyncio.gather(*(mark_in_turn(writes, key, turn) for turn, key in enumerate(keys)))
        await watch(asyncio.ensure_future(marks))
        writes.release()
        return writes.commits

    commits = asyncio.run(send_four())

    assert commits == 1
    assert set(views) == {0, 4}  # all at once, never some: one transaction
    assert committed(outside, *keys) == dict.fromkeys(keys, EntryState.SENDING)


def test_answers_ride_along_with_the_next_marks_commit(
    ledger: IndexedLedger, outside: IndexedLedger
) -> None:
    async def run() -> int:
        writes = GroupCommit(ledger, "run-1", on_error=UNEXPECTED.append)
        await writes.mark_sending(CREATE, "REF-1")
        writes.record([LedgerUpdate(CREATE, "REF-1", EntryState.DONE, appointment_id="a-1")])
        assert committed(outside, "REF-1") == {"REF-1": EntryState.SENDING}  # not waited for
        await writes.mark_sending(CREATE, "REF-2")
        commits = writes.commits
        writes.release()
        return commits

    assert asyncio.run(run()) == 2
    assert committed(outside, "REF-1", "REF-2") == {
        "REF-1": EntryState.DONE,
        "REF-2": EntryState.SENDING,
    }


@pytest.mark.parametrize("url", [None])  # SQLite: its disk refuses (a trigger says so)
def test_a_failed_commit_fails_every_waiter_and_is_reported(
    tmp_path: Path, ledger: IndexedLedger, outside: IndexedLedger
) -> None:
    """The disk refuses the transaction: no mark is durable, so no request may leave."""
    with sqlite3.connect(tmp_path / Ledger.FILE_NAME) as other:  # SQLite itself refuses
        other.execute(
            "CREATE TRIGGER full BEFORE INSERT ON entries "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    reported: list[BaseException] = []

    async def send_three() -> list[BaseException | None]:
        writes = GroupCommit(ledger, "run-1", on_error=reported.append)
        writes.record([LedgerUpdate(CREATE, "OLD", EntryState.DONE)])
        outcomes = await asyncio.gather(
            *(writes.mark_sending(CREATE, f"REF-{n}") for n in range(3)), return_exceptions=True
        )
        return list(outcomes)

    outcomes = asyncio.run(send_three())

    assert len(outcomes) == 3
    assert all(isinstance(o, sqlite3.IntegrityError) for o in outcomes)
    assert [str(error) for error in reported] == ["database or disk is full"]
    assert reported[0] is outcomes[0]
    assert committed(outside, "OLD", "REF-0", "REF-1", "REF-2") == {}  # all rolled back


def test_a_transaction_undone_by_a_deadlock_with_another_run_is_tried_again(
    tmp_path: Path, state_url: str
) -> None:
    """Another run's transaction holds REF-2 and then wants REF-1, which this commit (keys
    in sorted order) has just locked: PostgreSQL undoes one of the two, here ours (it has
    waited longest, so its deadlock check runs first). The commit is tried again and goes
    through once the other run has committed: the marks are not lost to a crossing."""
    with open_ledger(tmp_path, state_url, base_url=BASE) as ledger:
        ledger.record([LedgerUpdate(CREATE, key, EntryState.NOT_APPLIED) for key in KEYS])
        other = psycopg.connect(state_url)
        other.execute("SELECT 1 FROM entries WHERE key = 'REF-2' FOR UPDATE")
        crossing = threading.Thread(target=_cross, args=(other, state_url))
        crossing.start()

        async def mark_both() -> list[object]:
            writes = GroupCommit(ledger, "run-1", on_error=UNEXPECTED.append)
            marks = [writes.mark_sending(CREATE, key) for key in KEYS]
            refusals = await asyncio.gather(*marks, return_exceptions=True)
            writes.release()
            return list(refusals)

        refusals = asyncio.run(mark_both())
        crossing.join(timeout=30)
        other.close()

        assert refusals == [None, None]
        assert committed(ledger, *KEYS) == dict.fromkeys(KEYS, EntryState.SENDING)
        assert CROSSED == ["REF-1 updated"]  # the other run's transaction went through


KEYS = ("REF-1", "REF-2")
CROSSED: list[str] = []


def _cross(other: psycopg.Connection[Any], state_url: str) -> None:
    """The other run: once our commit waits for REF-2, update REF-1 (a deadlock), commit."""
    CROSSED.clear()
    with psycopg.connect(state_url, autocommit=True) as watcher:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            (waiting,) = watcher.execute(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            ).fetchone() or (0,)
            if waiting:
                break
            time.sleep(0.01)
    other.execute("UPDATE entries SET attempts = attempts WHERE key = 'REF-1'")
    other.commit()
    CROSSED.append("REF-1 updated")


def test_answers_to_one_key_in_one_commit_are_written_in_order(
    ledger: IndexedLedger, outside: IndexedLedger
) -> None:
    """PostgreSQL writes a commit's answers as one statement per run of distinct keys: a key
    answered twice in one commit still ends as its last answer says."""
    answers = [
        LedgerUpdate(CREATE, "REF-1", EntryState.UNKNOWN, error="timed out"),
        LedgerUpdate(CREATE, "REF-2", EntryState.DONE, appointment_id="a-2"),
        LedgerUpdate(CREATE, "REF-1", EntryState.NOT_APPLIED, error="not there"),
        LedgerUpdate(CREATE, "REF-1", EntryState.DONE, appointment_id="a-1"),
    ]

    async def run() -> None:
        writes = GroupCommit(ledger, "run-1", on_error=UNEXPECTED.append)
        writes.record(answers)
        await writes.mark_sending(CREATE, "REF-3")  # the answers ride along with it
        writes.release()

    asyncio.run(run())

    found = outside.get_many(CREATE, ["REF-1", "REF-2", "REF-3"])
    assert {key: entry.state for key, entry in found.items()} == {
        "REF-1": EntryState.DONE,
        "REF-2": EntryState.DONE,
        "REF-3": EntryState.SENDING,
    }
    assert (found["REF-1"].appointment_id, found["REF-1"].error) == ("a-1", None)


def test_a_mark_another_run_holds_is_refused_with_its_holder_in_a_group_commit(
    tmp_path: Path, url: str | None, ledger: IndexedLedger
) -> None:
    """The refusals of a group commit's marks are read once it has committed (PostgreSQL):
    the key another run holds is refused, with who holds it; the others are marked."""
    with open_ledger(tmp_path, url, base_url=BASE) as other:
        assert other.mark_sending(CREATE, ["REF-1"], "run-other") == {}

        async def mark_three() -> list[object]:
            writes = GroupCommit(ledger, "run-1", on_error=UNEXPECTED.append)
            keys = ["REF-0", "REF-1", "REF-2"]
            refusals = await asyncio.gather(*(writes.mark_sending(CREATE, k) for k in keys))
            writes.release()
            return list(refusals)

        refusals = asyncio.run(mark_three())

        assert refusals[0] is None and refusals[2] is None
        refused = refusals[1]
        assert isinstance(refused, Refusal) and refused.held
        assert refused.holder == other.owner_of("run-other")
        assert committed(other, "REF-0", "REF-2") == dict.fromkeys(
            ["REF-0", "REF-2"], EntryState.SENDING
        )


def test_a_group_commit_on_postgresql_waits_for_the_server_once(
    tmp_path: Path, state_url: str
) -> None:
    """30 marks and 30 answers in one group commit: one statement of each kind, and one
    Sync (the client waits for the server once, for the COMMIT and the marks' answers),
    read on the wire with libpq's own trace of the messages sent."""
    trace = tmp_path / "wire.trace"
    with open_ledger(tmp_path, state_url, base_url=BASE) as ledger:
        assert isinstance(ledger, PostgresLedger)
        ledger.record([LedgerUpdate(CREATE, f"OLD-{n}", EntryState.UNKNOWN) for n in range(30)])

        async def one_commit() -> None:
            writes = GroupCommit(ledger, "run-1", on_error=UNEXPECTED.append)
            writes.record([LedgerUpdate(CREATE, f"OLD-{n}", EntryState.DONE) for n in range(30)])
            with trace.open("w") as wire:
                ledger._connection().pgconn.trace(wire.fileno())
                try:
                    await asyncio.gather(
                        *(writes.mark_sending(CREATE, f"REF-{n}") for n in range(30))
                    )
                finally:
                    ledger._connection().pgconn.untrace()
            assert writes.commits == 1
            writes.release()

        asyncio.run(one_commit())

    sent = [line.split("\t") for line in trace.read_text().splitlines()]
    sent = [fields for fields in sent if len(fields) > 2 and fields[1] == "F"]
    assert [f[3].split()[0] for f in sent].count("Sync") == 1
    assert [f[3].split()[0] for f in sent].count("Execute") == 4  # BEGIN, marks, answers, COMMIT
