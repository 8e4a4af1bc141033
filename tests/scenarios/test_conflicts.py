"""A reference already on the account counts as done only when it is this row's booking:
live, same time, duration and claimant. Otherwise the row is a `conflict`, never sent again.
Real sandbox over loopback; each path that finds an existing appointment is covered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from batch_scheduler.ledger import CANCEL, CREATE, EntryState, LedgerUpdate
from batch_scheduler.models import CancelRequest, ClaimantIn, Outcome
from batch_scheduler.sandbox import RunningSandbox
from batch_scheduler.send import triage_creates
from tests.support.cli import cli_env, invoke
from tests.support.requests import WHEN, booking
from tests.support.sandbox import seed
from tests.support.sending import FAST, Runner, posts, references_on_server
from tests.support.sheets import sheet_rows, write_xlsx

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def runner_for(
    tmp_path: Path, sandbox_factory: Callable[..., RunningSandbox]
) -> Callable[..., Runner]:
    def make(**knobs: Any) -> Runner:
        return Runner(sandbox_factory(seed=1, **knobs), tmp_path / "state")

    return make


# ---------------------------------------------------------------- through the CLI


def test_a_reference_held_by_a_cancelled_appointment_is_a_conflict_not_done(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    cancelled_id = seed(sandbox, "SQ-1009", datetime(2026, 12, 7, 10, 30, tzinfo=UTC),
                        cancelled=True)  # fmt: skip
    rows = [
        {"Reference": "SQ-1009", "Claimant name": "Ann Lee",
         "Appointment": datetime(2027, 1, 20, 9, 0)},
        {"Reference": "SQ-1010", "Claimant name": "Bob Ray",
         "Appointment": datetime(2027, 1, 20, 9, 30)},
    ]  # fmt: skip
    sheet = write_xlsx(tmp_path / "in.xlsx", rows)
    env = cli_env(tmp_path, "")
    out = tmp_path / "results.xlsx"

    result = invoke(
        env, "book", sheet, "--out", out, "--base-url", sandbox.base_url, catch_exceptions=True
    )

    assert result.exit_code == 1, result.output
    lines = sheet_rows(out)
    assert [line["outcome"] for line in lines] == ["conflict", "created"]
    conflict = lines[0]
    assert "cancelled" in conflict["error"] and "07/12/2026 10:30" in conflict["error"]
    assert cancelled_id in conflict["error"] and "new reference" in conflict["error"]
    # the other appointment's id, status and link are not this row's
    assert conflict["appointment_id"] is None and conflict["meeting_url"] is None
    assert conflict["status"] is None
    assert references_on_server(sandbox) == {"SQ-1009": 1, "SQ-1010": 1}
    issues = load_workbook(out)["Issues"]
    assert ("reference-cancelled", "A") in [
        (r[4], r[1]) for r in issues.iter_rows(values_only=True)
    ]
    assert "reference-cancelled" in result.stdout

    again = invoke(
        env, "book", sheet, "--out", out, "--base-url", sandbox.base_url, catch_exceptions=True
    )

    assert again.exit_code == 1
    assert [line["outcome"] for line in sheet_rows(out)] == ["conflict", "already_exists"]
    assert references_on_server(sandbox) == {"SQ-1009": 1, "SQ-1010": 1}
    # SQ-1010 once; SQ-1009 never: the account was asked first (issue 13); the re-run sent none
    assert posts(sandbox) == 1


# ---------------------------------------------------------------- each place a reference is found


@pytest.mark.parametrize("duplicates", ["reject", "allow"])
def test_after_an_unknown_outcome_a_cancelled_match_is_a_conflict_and_never_resent(
    runner_for: Callable[..., Runner], duplicates: str
) -> None:
    # the create is answered 500 and not stored: the sweep finds only the cancelled one
    runner = runner_for(duplicate_references=duplicates, burst_start=1, burst_length=1,
                        burst_status=500)  # fmt: skip
    seed(runner.sandbox, "SQ-1", WHEN - timedelta(days=3), cancelled=True)

    # without the check before the first create, which would find it before sending (that
    # path is the first test's): here the sweep after the unknown outcome must find it
    result = runner.creates([(0, booking("SQ-1"))], replace(FAST, check_existing="never"))[0]

    assert result.outcome is Outcome.CONFLICT
    assert result.error and "cancelled" in result.error
    assert posts(runner.sandbox) == 1 and runner.stats.sweeps == 1
    assert references_on_server(runner.sandbox) == {"SQ-1": 1}
    with runner.ledger() as ledger:  # checked again (never sent blindly) on the next run
        entry = ledger.get(CREATE, "SQ-1")
    assert entry is not None and entry.state is EntryState.UNKNOWN


def test_a_live_appointment_for_another_slot_left_by_a_crash_is_a_conflict(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for()
    seed(runner.sandbox, "SQ-2", WHEN + timedelta(hours=2), name="Claimant SQ-2")
    runner.marked_by_a_dead_run(CREATE, ["SQ-2"])  # a crashed run marked it, then died

    result = runner.creates([(0, booking("SQ-2"))])[0]

    assert result.outcome is Outcome.CONFLICT
    at = f"{(WHEN + timedelta(hours=2)).astimezone(UTC):%d/%m/%Y %H:%M}"
    assert result.error and f"at {at}, not " in result.error
    assert posts(runner.sandbox) == 0


def test_another_claimants_appointment_under_the_reference_is_a_conflict(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for()  # the server refuses the repeated reference: 422, then a sweep
    seed(runner.sandbox, "SQ-3", WHEN, name="Somebody Else")

    result = runner.creates([(0, booking("SQ-3"))])[0]

    assert result.outcome is Outcome.CONFLICT
    assert result.error and "for another claimant" in result.error
    assert "Somebody" not in result.error  # the other person's name is not repeated
    assert references_on_server(runner.sandbox) == {"SQ-3": 1}


def test_the_same_booking_found_by_a_sweep_is_already_exists_whatever_the_spacing(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for()
    existing = seed(runner.sandbox, "SQ-4", WHEN, name="  claimant   SQ-4 ")

    result = runner.creates([(0, booking("SQ-4"))])[0]

    assert result.outcome is Outcome.ALREADY_EXISTS
    assert result.appointment is not None and result.appointment.id == existing


def test_next_weeks_file_reusing_a_reference_for_another_slot_is_a_conflict(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for()
    assert runner.creates([(0, booking("SQ-5"))])[0].outcome is Outcome.CREATED
    next_week = replace(booking("SQ-5"), appointment_at=WHEN + timedelta(days=7))
    with runner.ledger() as ledger:  # the dry run says the same, from the ledger alone
        triaged = triage_creates([(0, next_week)], ledger, zone=LONDON)
    assert triaged.done[0].outcome is Outcome.CONFLICT

    result = runner.creates([(0, next_week)])[0]

    assert result.outcome is Outcome.CONFLICT
    then, now = WHEN, WHEN + timedelta(days=7)  # (the runner's zone is UTC)
    assert result.error and f"at {then:%d/%m/%Y %H:%M}, not {now:%d/%m/%Y %H:%M}" in result.error
    assert posts(runner.sandbox) == 1 and runner.stats.requests == 0


def test_a_booking_we_cancelled_since_is_a_conflict_on_rebooking(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for()
    booked = runner.creates([(0, booking("SQ-6"))])[0]
    assert booked.appointment is not None
    cancelled = runner.cancels([(0, CancelRequest(booked.appointment.id, "SQ-6"))])[0]
    assert cancelled.outcome is Outcome.CANCELLED

    result = runner.creates([(0, booking("SQ-6"))])[0]

    assert result.outcome is Outcome.CONFLICT
    assert result.error and "cancelled appointment" in result.error
    assert posts(runner.sandbox) == 1


def test_a_stored_answer_without_details_still_counts_as_done(
    runner_for: Callable[..., Runner],
) -> None:
    runner = runner_for()
    with runner.ledger() as ledger:  # an old entry: the id only, no stored answer
        ledger.record([LedgerUpdate(CREATE, "SQ-7", EntryState.DONE, appointment_id="a-7")])
        ledger.record([LedgerUpdate(CANCEL, "other-id", EntryState.DONE)])
        triaged = triage_creates([(0, booking("SQ-7"))], ledger)
    assert triaged.done[0].outcome is Outcome.ALREADY_EXISTS


def test_a_name_the_server_does_not_send_back_is_not_held_against_a_match() -> None:
    from batch_scheduler.models import Appointment
    from batch_scheduler.send.matching import compare

    request = replace(booking("SQ-8"), claimant=ClaimantIn(name="Ann"))
    found = Appointment("id-8", "SQ-8", WHEN, 30, "scheduled", None)  # no claimant name

    assert compare(request, found).is_booking
    assert not compare(request, replace(found, status="cancelled")).is_booking
