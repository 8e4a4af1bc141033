"""End to end through the CLI against the sandbox over loopback: book, cancel, re-runs, faults."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from batch_scheduler.cli import cli
from batch_scheduler.ledger import Ledger
from batch_scheduler.sandbox import SandboxConfig
from tests.support.cli import cli_book, invoke
from tests.support.sheets import book_row, book_sheet, sheet_rows, write_xlsx

CONFIG = "[departments]\nBenefits = 1\nHousing = 2\n\n[send]\nbackoff_initial = 0.02\nbackoff_max = 0.2\nretry_after_floor = 0.05\n"  # noqa: E501


def by_reference(appointments: list[dict[str, Any]]) -> Counter[str]:
    return Counter(str(a["reference"]) for a in appointments)


def test_book_writes_results_that_match_the_server(sandbox: Any, tmp_path: Path, env: Any) -> None:
    rows = [book_row(i) for i in range(12)]
    rows[3]["Email"] = "not-an-email"
    rows[5]["Interpreter needed?"] = "yes"  # no language given
    sheet = write_xlsx(tmp_path / "in.xlsx", rows)

    result = cli_book(env, tmp_path, sheet, sandbox.base_url)

    assert result.exit_code == 1, result.output
    stored = {a["reference"]: a for a in sandbox.appointments()}
    assert set(stored) == {f"REF-{i:05d}" for i in range(12) if i not in (3, 5)}
    lines = sheet_rows(tmp_path / "results.xlsx")
    assert [line["source_row"] for line in lines] == list(range(2, 14))
    for i, line in enumerate(lines):
        assert line["Reference"] == f"REF-{i:05d}"  # input echoed as given
        if i in (3, 5):
            assert line["outcome"] == "invalid"
            assert line["appointment_id"] is None
            assert line["error"]
            continue
        appointment = stored[line["Reference"]]
        assert line["outcome"] == "created"
        assert line["appointment_id"] == appointment["id"]
        assert line["status"] == appointment["status"] == "scheduled"
        assert line["meeting_url"] == appointment["url"]
        assert "host_url" not in line
    notes = load_workbook(tmp_path / "results.xlsx")["Results"]["I2"]  # as in the input
    assert notes.value == "=note 0" and notes.data_type == "s"  # never a formula


def test_rerun_books_nothing_twice(sandbox: Any, tmp_path: Path, env: Any) -> None:
    sheet = book_sheet(tmp_path / "in.xlsx", 10)
    assert cli_book(env, tmp_path, sheet, sandbox.base_url).exit_code == 0
    creates_before = sandbox.stats()["responses"].get("201", 0)

    again = cli_book(env, tmp_path, sheet, sandbox.base_url)

    assert again.exit_code == 0, again.output
    assert sandbox.stats()["responses"].get("201", 0) == creates_before
    assert by_reference(sandbox.appointments()) == Counter(f"REF-{i:05d}" for i in range(10))
    outcomes = {line["outcome"] for line in sheet_rows(tmp_path / "results.xlsx")}
    assert outcomes == {"already_exists"}


def test_next_weeks_file_with_overlap_books_only_new_rows(
    sandbox: Any, tmp_path: Path, env: Any
) -> None:
    cli_book(env, tmp_path, book_sheet(tmp_path / "week1.xlsx", 8), sandbox.base_url)
    week2 = book_sheet(tmp_path / "week2.xlsx", 8, start=4)

    result = cli_book(env, tmp_path, week2, sandbox.base_url)

    assert result.exit_code == 0
    assert by_reference(sandbox.appointments()) == Counter(f"REF-{i:05d}" for i in range(12))
    outcomes = [line["outcome"] for line in sheet_rows(tmp_path / "results.xlsx")]
    assert outcomes == ["already_exists"] * 4 + ["created"] * 4


@pytest.mark.parametrize("duplicates", ["reject", "allow"])
def test_faults_never_duplicate_or_lose_a_row(
    sandbox_factory: Any, tmp_path: Path, env: Any, duplicates: str
) -> None:
    server = sandbox_factory(
        SandboxConfig(seed=11, error_rate=0.25, drop_rate=0.2, duplicate_references=duplicates)
    )
    sheet = book_sheet(tmp_path / "in.xlsx", 60)

    result = cli_book(env, tmp_path, sheet, server.base_url, "--concurrency", 8, "--rate", 500)

    assert result.exit_code == 0, result.output
    assert by_reference(server.appointments()) == Counter(f"REF-{i:05d}" for i in range(60))
    lines = sheet_rows(tmp_path / "results.xlsx")
    ids = {a["reference"]: a["id"] for a in server.appointments()}
    assert all(line["outcome"] == "created" for line in lines)
    assert all(line["appointment_id"] == ids[line["Reference"]] for line in lines)
    assert sum(line["attempts"] for line in lines) > 60  # faults really happened


def test_429_storm_is_absorbed(sandbox_factory: Any, tmp_path: Path, env: Any) -> None:
    server = sandbox_factory(SandboxConfig(rate_limit=10))
    sheet = book_sheet(tmp_path / "in.xlsx", 30)

    result = cli_book(env, tmp_path, sheet, server.base_url, "--rate", 100, "--concurrency", 8)

    assert result.exit_code == 0, result.output
    assert server.stats()["responses"].get("429", 0) > 0
    assert by_reference(server.appointments()) == Counter(f"REF-{i:05d}" for i in range(30))


def test_dry_run_sends_nothing(sandbox: Any, tmp_path: Path, env: Any) -> None:
    sheet = book_sheet(tmp_path / "in.xlsx", 5)

    result = cli_book(env, tmp_path, sheet, sandbox.base_url, "--dry-run")

    assert result.exit_code == 0, result.output
    assert sandbox.appointments() == []
    assert {line["outcome"] for line in sheet_rows(tmp_path / "results.xlsx")} == {"would_create"}


def test_strict_sends_nothing_when_a_row_is_invalid(sandbox: Any, tmp_path: Path, env: Any) -> None:
    rows = [book_row(i) for i in range(4)]
    rows[2]["Claimant name"] = None
    sheet = write_xlsx(tmp_path / "in.xlsx", rows)

    result = cli_book(env, tmp_path, sheet, sandbox.base_url, "--strict")

    assert result.exit_code == 2
    assert "strict" in result.output.lower()
    assert sandbox.appointments() == []


def test_cancel_from_results_workbook_then_again(sandbox: Any, tmp_path: Path, env: Any) -> None:
    cli_book(env, tmp_path, book_sheet(tmp_path / "in.xlsx", 6), sandbox.base_url)
    booked = tmp_path / "booked.xlsx"
    (tmp_path / "results.xlsx").rename(booked)
    config = tmp_path / "config.toml"

    first = invoke(env, "cancel", booked, "--out", tmp_path / "c1.xlsx", "--config", config,
                   "--reason", "Claimant asked", "--base-url", sandbox.base_url)  # fmt: skip
    second = invoke(env, "cancel", booked, "--out", tmp_path / "c2.xlsx", "--config", config,
                    "--base-url", sandbox.base_url)  # fmt: skip

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert {a["status"] for a in sandbox.appointments()} == {"cancelled"}
    assert {a["cancellation_reason"] for a in sandbox.appointments()} == {"Claimant asked"}
    assert {r["outcome"] for r in sheet_rows(tmp_path / "c1.xlsx")} == {"cancelled"}
    assert {r["outcome"] for r in sheet_rows(tmp_path / "c2.xlsx")} == {"already_cancelled"}


def test_cancel_by_reference_on_a_new_state_dir(sandbox: Any, tmp_path: Path, env: Any) -> None:
    cli_book(env, tmp_path, book_sheet(tmp_path / "in.xlsx", 3), sandbox.base_url)
    sheet = write_xlsx(
        tmp_path / "cancel.xlsx",
        [{"Reference": "REF-00001"}, {"Reference": "NO-SUCH-REF"}],
        headers=("Reference", "Reason"),
    )
    env = {**env, "BATCH_SCHEDULER_STATE_DIR": str(tmp_path / "other-state")}

    result = invoke(
        env, "cancel", sheet, "--out", tmp_path / "c.xlsx", "--base-url", sandbox.base_url
    )

    assert result.exit_code == 1
    lines = sheet_rows(tmp_path / "c.xlsx")
    assert [line["outcome"] for line in lines] == ["cancelled", "rejected"]
    status = {a["reference"]: a["status"] for a in sandbox.appointments()}
    assert status == {"REF-00000": "scheduled", "REF-00001": "cancelled", "REF-00002": "scheduled"}


# the exit codes and what they say, in both languages (tests/cli/test_language.py: all codes)
LANGUAGES = pytest.mark.parametrize("language", ["en", "cy"])
CLAIMANT_NAME = {"en": "claimant name", "cy": "enw'r hawlydd"}


def test_a_second_run_on_the_same_state_dir_books_beside_the_first(
    sandbox: Any, tmp_path: Path, env: Any
) -> None:
    """No lock on the whole state directory any more: a run beside another books what the
    other does not hold, and says which run holds the rest (issue 13)."""
    (tmp_path / "config.toml").write_text(CONFIG + "row_deadline = 1\n")
    sheet = book_sheet(tmp_path / "in.xlsx", 2)
    with Ledger.open(Path(env["BATCH_SCHEDULER_STATE_DIR"]), base_url=sandbox.base_url) as other:
        other.mark_sending("create", ["REF-00001"], "the-other-run")  # it is sending this one
        result = cli_book(env, tmp_path, sheet, sandbox.base_url)

    assert result.exit_code == 1
    lines = sheet_rows(tmp_path / "results.xlsx")
    assert [line["outcome"] for line in lines] == ["created", "not_attempted"]
    assert f"another run (process {os.getpid()} on " in lines[1]["error"]
    assert "is booking reference REF-00001" in lines[1]["error"]
    assert [a["reference"] for a in sandbox.appointments()] == ["REF-00000"]


@LANGUAGES
def test_bad_token_is_exit_3_and_sends_nothing(
    sandbox: Any, tmp_path: Path, env: Any, language: str
) -> None:
    env = {**env, "BATCH_SCHEDULER_TOKEN": "wrong-token-value", "BATCH_SCHEDULER_LANG": language}
    result = cli_book(env, tmp_path, book_sheet(tmp_path / "in.xlsx", 2), sandbox.base_url)
    assert result.exit_code == 3
    assert "wrong-token-value" not in result.output
    assert sandbox.appointments() == []


@LANGUAGES
def test_missing_required_column_is_exit_2(tmp_path: Path, env: Any, language: str) -> None:
    sheet = write_xlsx(tmp_path / "in.xlsx", [{"Reference": "R1"}], headers=("Reference",))
    result = invoke({**env, "BATCH_SCHEDULER_LANG": language}, "validate", sheet)
    assert result.exit_code == 2
    assert CLAIMANT_NAME[language] in result.output.lower()


def test_validate_report_and_json(tmp_path: Path, env: Any) -> None:
    rows = [book_row(i) for i in range(3)]
    rows[1]["Phone"] = 7400900123  # Excel dropped the leading zero
    sheet = write_xlsx(tmp_path / "in.xlsx", rows)

    result = invoke(env, "validate", sheet, "--report", tmp_path / "report.xlsx", "--json",
                    "--config", tmp_path / "config.toml")  # fmt: skip

    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["outcomes"] == {"valid": 2, "invalid": 1}
    mangled = [i for i in payload["issues"] if i["code"] == "phone-mangled"]
    assert [(i["row"], i["column"]) for i in mangled] == [(3, "D")]
    assert [r["outcome"] for r in sheet_rows(tmp_path / "report.xlsx")] == [
        "valid",
        "invalid",
        "valid",
    ]


def test_summary_json_has_no_secrets(sandbox: Any, tmp_path: Path, env: Any) -> None:
    summary = tmp_path / "summary.json"
    sheet = book_sheet(tmp_path / "in.xlsx", 3)
    result = cli_book(env, tmp_path, sheet, sandbox.base_url, "--summary-json", summary,
                      "--verbose", "--log-format", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    text = summary.read_text()
    assert "sandbox-token" not in text and "sandbox-token" not in result.output
    data = json.loads(text)
    assert data["rows_read"] == 3


def test_every_command_has_help() -> None:
    for name, command in cli.commands.items():
        assert command.help, f"{name} has no help text"
        assert invoke({}, name, "--help", catch_exceptions=True).exit_code == 0


def test_a_second_state_directory_finds_the_booking_on_the_account_and_says_how(
    sandbox_factory: Any, tmp_path: Path, env: Any
) -> None:
    """Issue 13: two laptops, two state directories, an API that accepts a repeated
    reference. The second run asks the account first (its Summary says how); the config's
    send.check_existing = "never" books them twice, and --check-existing overrides it."""
    sandbox = sandbox_factory(duplicate_references="allow")
    sheet = book_sheet(tmp_path / "in.xlsx", 4)
    summary = tmp_path / "summary.json"
    first = cli_book(env, tmp_path, sheet, sandbox.base_url, "--state-dir", tmp_path / "A",
                     "--summary-json", summary)  # fmt: skip
    fresh = json.loads(summary.read_text())
    second = cli_book(env, tmp_path, sheet, sandbox.base_url, "--state-dir", tmp_path / "B",
                      "--summary-json", summary)  # fmt: skip
    found = json.loads(summary.read_text())
    lines = sheet_rows(tmp_path / "results.xlsx")

    assert (first.exit_code, second.exit_code) == (0, 0), second.output
    assert fresh["existing_check"] == "full" and fresh["existing_check_rows_found"] == 0
    assert (found["existing_check"], found["existing_check_pages"],
            found["existing_check_rows_found"]) == ("full", 1, 4)  # fmt: skip
    assert found["existing_check_seconds"] >= 0
    assert {line["outcome"] for line in lines} == {"already_exists"}
    assert by_reference(sandbox.appointments()) == Counter(f"REF-{i:05d}" for i in range(4))

    (tmp_path / "config.toml").write_text(CONFIG + 'check_existing = "never"\n')
    checked = cli_book(env, tmp_path, sheet, sandbox.base_url, "--state-dir", tmp_path / "C",
                       "--check-existing", "auto")  # fmt: skip
    unsafe = cli_book(env, tmp_path, sheet, sandbox.base_url, "--state-dir", tmp_path / "D")

    assert (checked.exit_code, unsafe.exit_code) == (0, 0), unsafe.output
    assert set(by_reference(sandbox.appointments()).values()) == {2}  # "never": twice
