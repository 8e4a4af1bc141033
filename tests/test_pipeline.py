"""pipeline.run, the one place that knows the order of a run: read -> validate -> triage ->
send -> report -> write. Every test drives the real stages; those that send talk to the
sandbox over loopback with a real ledger, and "now" is pinned."""

from __future__ import annotations

import gc
import os
import signal
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from batch_scheduler.config import ApiSettings, IntakeSettings, Secret, Settings
from batch_scheduler.errors import AuthError, InputError, OutputError, StrictModeError
from batch_scheduler.models import Outcome, RowResult, Severity
from batch_scheduler.pipeline import RunRequest, run
from batch_scheduler.report import RunReport
from batch_scheduler.sandbox import RunningSandbox
from batch_scheduler.send import SendStats
from tests.support.sandbox import SandboxFactory
from tests.support.sending import FAST
from tests.support.sheets import BOOK_HEADERS, NOW, book_row, book_sheet, sheet_rows, write_xlsx

BAD_ROWS = (1, 4)  # rows made invalid by `mixed_sheet` (0-based positions)


def settings_for(
    folder: Path, base_url: str | None = None, *, token: str = "sandbox-token", **send: Any
) -> Settings:
    """Settings as the CLI would load them: the sandbox's token, fast retries, a private
    state directory; no API settings (base_url None) for a run that never sends."""
    api = ApiSettings(base_url=base_url, token=Secret(token), timeout=2.0) if base_url else None
    return Settings(
        api=api,
        send=replace(FAST, **send),
        intake=IntakeSettings(departments={"Benefits": 1}),
        state_dir=folder / "state",
    )


def mixed_sheet(path: Path, count: int = 6) -> Path:
    """`count` rows, those at BAD_ROWS invalid (an email that is not one, an interpreter
    needed without a language)."""
    rows = [book_row(i) for i in range(count)]
    rows[BAD_ROWS[0]]["Email"] = "not-an-email"
    rows[BAD_ROWS[1]]["Interpreter needed?"] = "yes"
    return write_xlsx(path, rows)


def outcomes(report: RunReport) -> list[str]:
    return [line.outcome.value for line in report.lines]


class Recorder:
    """pipeline.Progress that records what it is told, and can act at the n-th row."""

    def __init__(self, at: int | None = None, action: Any = None) -> None:
        self.events: list[tuple[str, Any]] = []
        self.frozen: list[int] = []  # gc.get_freeze_count() at each call
        self._at, self._action = at, action

    def start(self, total: int, description: str) -> None:
        self.events.append(("start", (total, description)))
        self.frozen.append(gc.get_freeze_count())

    def advance(self, result: RowResult) -> None:
        self.events.append(("advance", result.outcome))
        self.frozen.append(gc.get_freeze_count())
        if self._action is not None and len(self.events) - 1 == self._at:
            self._action()

    def finish(self) -> None:
        self.events.append(("finish", None))


# ---------------------------------------------------------------- validate only


def test_validate_checks_every_row_and_writes_the_report_without_the_network(
    tmp_path: Path,
) -> None:
    sheet = mixed_sheet(tmp_path / "in.xlsx")
    request = RunRequest("validate", sheet, tmp_path / "report.xlsx")

    report = run(request, settings_for(tmp_path), now=NOW)

    expected = ["invalid" if pos in BAD_ROWS else "valid" for pos in range(6)]
    assert outcomes(report) == expected
    assert report.outcomes == {"valid": 4, "invalid": 2}
    assert report.exit_code == 1 and report.source_rows == (2, 3, 4, 5, 6, 7)
    errors = [issue for issue in report.issues if issue.severity is Severity.ERROR]
    assert [(issue.row, issue.code) for issue in errors] == [
        (3, "invalid-email"),  # Excel rows of BAD_ROWS
        (6, "language-required"),
    ]
    assert report.summary["command"] == "validate" and "requests_sent" not in report.summary
    written = sheet_rows(tmp_path / "report.xlsx")
    assert [line["outcome"] for line in written] == expected
    assert not (tmp_path / "state").exists()  # no ledger for a run that sends nothing


def test_an_invalid_row_explains_itself_in_its_line(tmp_path: Path) -> None:
    sheet = mixed_sheet(tmp_path / "in.xlsx")

    report = run(RunRequest("validate", sheet), settings_for(tmp_path), now=NOW)

    line = report.lines[BAD_ROWS[0]]
    assert line.reference == f"REF-{BAD_ROWS[0]:05d}"
    assert line.error and "email" in line.error.lower()
    assert report.out_path is None and report.saved == ()  # nothing asked, nothing written


def test_a_sheet_with_a_header_and_no_rows_stops_the_run(tmp_path: Path) -> None:
    sheet = write_xlsx(tmp_path / "empty.xlsx", [], BOOK_HEADERS)

    with pytest.raises(InputError, match="has a header row but no rows: nothing to do"):
        run(RunRequest("validate", sheet), settings_for(tmp_path), now=NOW)


def test_an_unknown_command_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown command 'send'"):
        run(RunRequest("send", tmp_path / "in.xlsx"), settings_for(tmp_path))


# ---------------------------------------------------------------- outputs first


def test_the_outputs_are_checked_before_the_input_is_read(tmp_path: Path) -> None:
    """A missing input and an output we cannot write: the output is named, first."""
    request = RunRequest("validate", tmp_path / "missing.xlsx", tmp_path / "report.txt")

    with pytest.raises(OutputError, match=r"report\.txt"):
        run(request, settings_for(tmp_path), now=NOW)


def test_outputs_are_checked_before_anything_is_sent(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sheet = book_sheet(tmp_path / "in.xlsx", 3)
    request = RunRequest("book", sheet, tmp_path / "no such folder" / "results.xlsx")

    with pytest.raises(OutputError):
        run(request, settings_for(tmp_path, sandbox.base_url), now=NOW)

    assert sandbox.requests() == []  # not even the access check


# ---------------------------------------------------------------- book


def test_book_sends_the_valid_rows_once_and_reports_every_row_in_order(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sheet = mixed_sheet(tmp_path / "in.xlsx")
    progress, stats = Recorder(), SendStats()
    request = RunRequest("book", sheet, tmp_path / "results.xlsx", summary_json=tmp_path / "s.json")

    report = run(request, settings_for(tmp_path, sandbox.base_url), now=NOW, progress=progress,
                 stats=stats)  # fmt: skip

    stored = {a["reference"]: a for a in sandbox.appointments()}
    assert sorted(stored) == [f"REF-{i:05d}" for i in range(6) if i not in BAD_ROWS]
    assert outcomes(report) == ["invalid" if i in BAD_ROWS else "created" for i in range(6)]
    for line in report.lines:
        if line.outcome is Outcome.CREATED:
            assert line.appointment_id == stored[line.reference or ""]["id"]
    assert report.exit_code == 1  # two rows are invalid
    assert report.summary["requests_sent"] == stats.requests > 0
    assert [saved.path for saved in report.saved] == [
        tmp_path / "results.xlsx",
        tmp_path / "s.json",
    ]
    assert [line["outcome"] for line in sheet_rows(tmp_path / "results.xlsx")] == outcomes(report)
    # progress: told the total, each valid row once, then the end
    assert progress.events[0] == ("start", (4, "booking"))
    assert Counter(kind for kind, _ in progress.events) == {"start": 1, "advance": 4, "finish": 1}


def test_the_heap_is_frozen_while_sending_and_thawed_after(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """The process-wide gc switches are the run's to flip, and to put back (runtime.py)."""
    sheet = book_sheet(tmp_path / "in.xlsx", 3)
    progress = Recorder()
    was_enabled = gc.isenabled()

    run(RunRequest("book", sheet, None), settings_for(tmp_path, sandbox.base_url), now=NOW,
        progress=progress)  # fmt: skip

    assert progress.frozen and all(count > 0 for count in progress.frozen)
    assert gc.get_freeze_count() == 0 and gc.isenabled() == was_enabled


def test_bad_credentials_stop_the_run_before_anything_is_sent(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sheet = book_sheet(tmp_path / "in.xlsx", 3)
    settings = settings_for(tmp_path, sandbox.base_url, token="not-the-token")

    with pytest.raises(AuthError, match="refused our credentials"):
        run(RunRequest("book", sheet, tmp_path / "results.xlsx"), settings, now=NOW)

    assert not any(r["method"] == "POST" for r in sandbox.requests())
    assert not (tmp_path / "results.xlsx").exists()
    assert gc.get_freeze_count() == 0  # thawed on the way out too


# ---------------------------------------------------------------- strict, dry run


def test_strict_refuses_to_send_anything_when_a_row_is_invalid(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sheet = mixed_sheet(tmp_path / "in.xlsx")
    request = RunRequest("book", sheet, tmp_path / "results.xlsx", strict=True)

    report = run(request, settings_for(tmp_path, sandbox.base_url), now=NOW)

    assert sandbox.requests() == []
    assert report.refused == "2 of 6 rows are invalid and --strict was given: nothing was sent."
    assert report.exit_code == StrictModeError.exit_code == 2
    held = [line for line in report.lines if line.outcome is Outcome.NOT_ATTEMPTED]
    assert len(held) == 4
    assert {line.error for line in held} == {
        "Not sent: --strict was given and some rows are invalid."
    }
    written = sheet_rows(tmp_path / "results.xlsx")  # its report is still written
    assert [line["outcome"] for line in written] == outcomes(report)


def test_strict_sends_as_usual_when_every_row_is_valid(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sheet = book_sheet(tmp_path / "in.xlsx", 3)
    request = RunRequest("book", sheet, None, strict=True)

    report = run(request, settings_for(tmp_path, sandbox.base_url), now=NOW)

    assert report.refused is None and report.exit_code == 0
    assert len(sandbox.appointments()) == 3


def test_a_dry_run_sends_nothing_and_says_what_a_run_would_do(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sheet = mixed_sheet(tmp_path / "in.xlsx")
    settings = settings_for(tmp_path, sandbox.base_url)

    first = run(RunRequest("book", sheet, None, dry_run=True), settings, now=NOW)
    assert sandbox.requests() == []
    assert first.outcomes == {"would_create": 4, "invalid": 2}
    assert first.summary["dry_run"] is True

    run(RunRequest("book", sheet, None), settings, now=NOW)  # books the 4 valid rows
    sent = len(sandbox.requests())
    again = run(RunRequest("book", sheet, None, dry_run=True), settings, now=NOW)

    assert len(sandbox.requests()) == sent  # the ledger knows: no network
    assert again.outcomes == {"already_exists": 4, "invalid": 2}


def test_a_dry_run_without_api_settings_needs_no_ledger(tmp_path: Path) -> None:
    sheet = book_sheet(tmp_path / "in.xlsx", 3)

    report = run(RunRequest("book", sheet, None, dry_run=True), settings_for(tmp_path), now=NOW)

    assert outcomes(report) == ["would_create"] * 3 and report.exit_code == 0
    assert not (tmp_path / "state").exists()


# ---------------------------------------------------------------- cancel


def test_cancel_from_a_results_workbook_skips_the_rows_never_booked(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sheet = mixed_sheet(tmp_path / "in.xlsx")
    settings = settings_for(tmp_path, sandbox.base_url)
    run(RunRequest("book", sheet, tmp_path / "results.xlsx"), settings, now=NOW)

    report = run(RunRequest("cancel", tmp_path / "results.xlsx", tmp_path / "cancelled.xlsx",
                            reason="Rebooked"), settings, now=NOW)  # fmt: skip

    expected = ["nothing_to_cancel" if i in BAD_ROWS else "cancelled" for i in range(6)]
    assert outcomes(report) == expected and report.exit_code == 0
    assert report.issues == ()  # a row never booked is settled, not an error
    assert {a["status"] for a in sandbox.appointments()} == {"cancelled"}


# ---------------------------------------------------------------- stopped early


def test_an_interrupt_drains_the_send_and_reports_a_partial_run(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = sandbox_factory(latency=0.05)
    sheet = book_sheet(tmp_path / "in.xlsx", 40)
    progress = Recorder(at=3, action=lambda: os.kill(os.getpid(), signal.SIGINT))
    settings = settings_for(tmp_path, sandbox.base_url, concurrency=2, rate=50.0)

    report = run(RunRequest("book", sheet, tmp_path / "results.xlsx"), settings, now=NOW,
                 progress=progress, handle_signals=True)  # fmt: skip

    assert report.interrupted and not report.unreachable and report.exit_code == 130
    assert report.summary["interrupted"] is True
    assert report.summary["stopped_because"] == "interrupted"
    done = Counter(outcomes(report))
    assert 3 <= done["created"] < 40 and done["created"] + done["not_attempted"] == 40
    assert done["created"] == len(sandbox.appointments())  # every row booked says so
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handed back


def test_a_server_lost_mid_run_is_reported_unreachable(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = sandbox_factory()
    sheet = book_sheet(tmp_path / "in.xlsx", 30)
    progress = Recorder(at=5, action=sandbox.stop_listening)
    settings = settings_for(tmp_path, sandbox.base_url, concurrency=2, rate=50.0,
                            unreachable_after=1.0, row_deadline=30.0)  # fmt: skip

    report = run(RunRequest("book", sheet, tmp_path / "results.xlsx"), settings, now=NOW,
                 progress=progress)  # fmt: skip

    assert report.unreachable and report.exit_code == 4
    assert report.summary["stopped_because"] == "api-unreachable"
    assert 5 <= report.outcomes.get("created", 0) < 30
    assert sum(report.outcomes.values()) == 30
    written = sheet_rows(tmp_path / "results.xlsx")  # partial results are written
    assert [line["outcome"] for line in written] == outcomes(report)
