"""The check of the account before the first create (send/existing.py), on the virtual clock
against the API in memory: which pages it reads, what it settles, and what it remembers."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from batch_scheduler.config import SendSettings
from batch_scheduler.ledger import CREATE, Cursor, EntryState, Ledger
from batch_scheduler.models import AppointmentRequest, Outcome, RowResult
from batch_scheduler.send import SendStats, send_creates
from tests.support.requests import WHEN, booking
from tests.support.virtual_api import BASE, FakeApi, Fault, VirtualTime

SETTINGS = SendSettings(rate=1000.0, concurrency=2, max_retries=2, backoff_initial=0.5,
                        jitter=False, list_per_page=2)  # fmt: skip


@dataclass
class Sent:
    results: dict[int, RowResult]
    stats: SendStats


def run(
    api: FakeApi,
    state_dir: Path,
    requests: Sequence[AppointmentRequest],
    settings: SendSettings = SETTINGS,
) -> Sent:
    """Book these rows on the virtual clock, with the ledger in `state_dir`."""
    items = list(enumerate(requests))
    stats = SendStats()

    async def book(ledger: Ledger) -> dict[int, RowResult]:
        async with api.client() as client:
            return await send_creates(
                items, client=client, ledger=ledger, settings=settings, run_id="check",
                rng=random.Random(2), stats=stats, timing=api.time.timing,
            )  # fmt: skip

    with Ledger.open(state_dir, base_url=BASE) as ledger:
        results = asyncio.run(api.time.run(book(ledger)))
    return Sent(results, stats)


def book_refs(*references: str) -> list[AppointmentRequest]:
    return [booking(reference) for reference in references]


def store_booking(api: FakeApi, reference: str, at: datetime = WHEN, **fields: Any) -> str:
    """An appointment another tool (or another machine's run) made: the one booking("R")
    asks for, unless told otherwise."""
    values = {"appointment_at": at.isoformat(), "duration_in_minutes": 30,
              "claimant": {"name": f"Claimant {reference}"},
              "url": f"https://sqod.test/client-web?reference={reference}"} | fields  # fmt: skip
    return api.store(reference, **values)


def calls(api: FakeApi, since: int = 0) -> list[tuple[str, str]]:
    return [(method, what) for _, method, what in api.requests[since:]]


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


def test_a_reference_the_account_holds_is_already_exists_and_never_sent(state_dir: Path) -> None:
    api = FakeApi(VirtualTime())
    held = store_booking(api, "HELD")
    for n in range(2):
        store_booking(api, f"OTHER-{n}")

    sent = run(api, state_dir, book_refs("HELD", "NEW"))

    held_result, new_result = sent.results[0], sent.results[1]
    assert held_result.outcome is Outcome.ALREADY_EXISTS
    assert held_result.appointment is not None
    assert (held_result.appointment.id, held_result.appointment.status) == (held, "scheduled")
    assert held_result.appointment.url == "https://sqod.test/client-web?reference=HELD"
    assert new_result.outcome is Outcome.CREATED
    assert calls(api) == [("GET", "page 1"), ("GET", "page 2"), ("POST", "NEW")]
    assert api.created("HELD") == 1
    check = sent.stats.existing
    assert check is not None
    assert (check.how, check.pages, check.found) == ("full", 2, 1)
    with Ledger.open(state_dir, base_url=BASE) as ledger:  # a re-run needs no check
        entry = ledger.get(CREATE, "HELD")
    assert entry is not None and (entry.state, entry.appointment_id) == (EntryState.DONE, held)


def test_what_the_check_finds_is_recorded_when_nothing_is_left_to_send(state_dir: Path) -> None:
    """Every row found on the account: the run sends nothing, and still records them, so
    the next run on this ledger needs no check (a fresh container's run, scenario d)."""
    api = FakeApi(VirtualTime())
    held = [store_booking(api, f"HELD-{n}") for n in range(2)]

    sent = run(api, state_dir, book_refs("HELD-0", "HELD-1"))
    again = run(api, state_dir, book_refs("HELD-0", "HELD-1"))

    assert [r.outcome for r in sent.results.values()] == [Outcome.ALREADY_EXISTS] * 2
    with Ledger.open(state_dir, base_url=BASE) as ledger:
        entries = ledger.get_many(CREATE, ["HELD-0", "HELD-1"])
    assert [(e.state, e.appointment_id) for e in entries.values()] == [
        (EntryState.DONE, held[0]), (EntryState.DONE, held[1])]  # fmt: skip
    assert again.stats.existing is not None and again.stats.existing.how == "not needed"


@pytest.mark.parametrize("cancelled", [False, True], ids=["another-slot", "cancelled"])
def test_a_reference_held_by_another_booking_is_a_conflict(
    state_dir: Path, cancelled: bool
) -> None:
    api = FakeApi(VirtualTime())
    store_booking(api, "TAKEN", WHEN + timedelta(hours=2),
                  **({"status": "cancelled"} if cancelled else {}))  # fmt: skip

    sent = run(api, state_dir, book_refs("TAKEN"))

    result = sent.results[0]
    assert result.outcome is Outcome.CONFLICT
    assert result.error and ("cancelled" in result.error if cancelled else "not " in result.error)
    assert ("POST", "TAKEN") not in calls(api)


def test_a_later_run_reads_only_what_was_created_since(state_dir: Path) -> None:
    api = FakeApi(VirtualTime())
    for n in range(3):
        store_booking(api, f"OLD-{n}")
    run(api, state_dir, book_refs("WEEK-1-A", "WEEK-1-B"))  # reads pages 1-2, books 2 more
    for n in range(3):
        store_booking(api, f"ELSEWHERE-{n}")  # another machine booked meanwhile: 8 in all
    before = len(api.requests)

    sent = run(api, state_dir, book_refs("ELSEWHERE-1", "WEEK-2"))

    # the cursor was at item 3 (page 2, first item): page 2 again to check it, then 3 and 4
    assert calls(api, before) == [("GET", "page 2"), ("GET", "page 3"), ("GET", "page 4"),
                                  ("POST", "WEEK-2")]  # fmt: skip
    assert sent.results[0].outcome is Outcome.ALREADY_EXISTS
    check = sent.stats.existing
    assert check is not None and (check.how, check.pages, check.found) == ("incremental", 3, 1)


def test_a_list_not_as_it_was_is_read_again_in_full(state_dir: Path) -> None:
    api = FakeApi(VirtualTime())
    ids = [store_booking(api, f"OLD-{n}") for n in range(4)]
    run(api, state_dir, book_refs("FIRST"))  # the cursor: 4 items read, the last OLD-3
    del api.appointments[ids[0]]  # deleted on the platform: OLD-3 is no longer 4th
    store_booking(api, "NEWER")
    before = len(api.requests)

    sent = run(api, state_dir, book_refs("OLD-0", "SECOND"))

    pages = [what for method, what in calls(api, before) if method == "GET"]
    assert pages == ["page 2", "page 1", "page 2", "page 3"]
    assert sent.results[0].outcome is Outcome.CREATED  # OLD-0 is gone: booked again
    check = sent.stats.existing
    assert check is not None and check.how == "full"


def test_a_list_whose_total_shrank_is_read_again_in_full(state_dir: Path) -> None:
    """Items after the last one read were deleted since (an earlier read saw 6): positions
    may have moved, so the remembered place is not trusted."""
    api = FakeApi(VirtualTime())
    ids = [store_booking(api, f"OLD-{n}") for n in range(4)]
    with Ledger.open(state_dir, base_url=BASE) as ledger:
        ledger.save_cursor(Cursor(items_read=4, last_id=ids[3], total=6, per_page=2))
    sent = run(api, state_dir, book_refs("NEW"))

    pages = [what for method, what in calls(api) if method == "GET"]
    assert pages == ["page 2", "page 1", "page 2"]
    check = sent.stats.existing
    assert check is not None and check.how == "full"


def test_auto_reads_nothing_when_the_ledger_knows_every_reference(state_dir: Path) -> None:
    api = FakeApi(VirtualTime())
    run(api, state_dir, book_refs("A", "B"))
    before = len(api.requests)

    sent = run(api, state_dir, book_refs("A", "B"))

    assert calls(api, before) == []
    assert {r.outcome for r in sent.results.values()} == {Outcome.ALREADY_EXISTS}
    check = sent.stats.existing
    assert check is not None and (check.how, check.pages) == ("not needed", 0)


def test_always_reads_the_whole_list_and_checks_known_rows_again(state_dir: Path) -> None:
    api = FakeApi(VirtualTime())
    run(api, state_dir, book_refs("A", "B"))
    (a_id,) = [key for key, item in api.appointments.items() if item["reference"] == "A"]
    api.appointments[a_id]["status"] = "cancelled"  # cancelled on the platform since
    before = len(api.requests)

    sent = run(api, state_dir, book_refs("A", "B"), replace(SETTINGS, check_existing="always"))

    assert calls(api, before) == [("GET", "page 1")]
    assert sent.results[0].outcome is Outcome.CONFLICT
    assert sent.results[1].outcome is Outcome.ALREADY_EXISTS
    check = sent.stats.existing
    assert check is not None and (check.how, check.found) == ("full", 0)


def test_never_skips_the_check_and_books_a_second_appointment(state_dir: Path) -> None:
    """Documented as unsafe against an API that accepts a repeated reference: this is why."""
    api = FakeApi(VirtualTime())
    store_booking(api, "HELD")

    sent = run(api, state_dir, book_refs("HELD"), replace(SETTINGS, check_existing="never"))

    assert sent.results[0].outcome is Outcome.CREATED
    assert api.created("HELD") == 2
    check = sent.stats.existing
    assert check is not None and check.how == "off"


def test_a_reference_seen_on_an_earlier_read_is_fetched_again(state_dir: Path) -> None:
    """The index may be out of date (cancelled since): such a hit is shown again."""
    api = FakeApi(VirtualTime())
    elsewhere = store_booking(api, "ELSEWHERE")
    for n in range(3):
        store_booking(api, f"OLD-{n}")
    run(api, state_dir, book_refs("FIRST"))  # ELSEWHERE is now in the index, before the cursor
    api.appointments[elsewhere]["status"] = "cancelled"
    before = len(api.requests)

    sent = run(api, state_dir, book_refs("ELSEWHERE"))

    # the cursor: 4 items read (page 2, the 2nd); FIRST came after
    assert calls(api, before) == [("GET", "page 2"), ("GET", "page 3"), ("GET", elsewhere)]
    assert sent.results[0].outcome is Outcome.CONFLICT  # cancelled: the index said scheduled


def test_many_references_seen_before_are_cheaper_to_read_in_full(state_dir: Path) -> None:
    api = FakeApi(VirtualTime())
    for n in range(6):
        store_booking(api, f"OLD-{n}")
    run(api, state_dir, book_refs("FIRST"))  # 7 items now: 4 pages of 2
    before = len(api.requests)

    sent = run(api, state_dir, book_refs(*(f"OLD-{n}" for n in range(6))))

    pages = [what for method, what in calls(api, before) if method == "GET"]
    # since the cursor (pages 3-4), then 6 to fetch again > 4 pages: all of it instead
    assert pages == ["page 3", "page 4", "page 1", "page 2", "page 3", "page 4"]
    assert {r.outcome for r in sent.results.values()} == {Outcome.ALREADY_EXISTS}


def test_a_list_that_cannot_be_read_sends_only_the_rows_the_ledger_knows(
    state_dir: Path,
) -> None:
    api = FakeApi(VirtualTime())
    api.script("KNOWN", Fault.status(503))  # refused on the first run: safe to send again
    first = run(api, state_dir, book_refs("KNOWN"), replace(SETTINGS, max_retries=0))
    assert first.results[0].outcome is Outcome.FAILED
    api.page_answers = [503, 503, 503]

    sent = run(api, state_dir, book_refs("KNOWN", "UNSEEN"))

    assert sent.results[0].outcome is Outcome.CREATED
    assert sent.results[1].outcome is Outcome.NOT_ATTEMPTED
    assert sent.results[1].error == (
        "Not sent: could not check first whether the account already holds this reference "
        "(page 1 of the list: 503 (service unavailable)). Run again later."
    )
    assert api.created("UNSEEN") == 0
