"""What each command says, and where: the default is for people, -q for errors only,
--verbose and --log-format json for logs; JSON outputs carry errors too. CLI against the
sandbox on loopback; stdout and stderr checked apart."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from batch_scheduler.demo.samples import write_allocate_sample
from batch_scheduler.sandbox import RunningSandbox
from tests.support.cli import cli_book, invoke
from tests.support.sheets import NOW, book_row, book_sheet, write_xlsx

CONFIG = '[departments]\nBenefits = 1\nHousing = 2\n"Employment support" = 3\n'
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d")


def sheet_with_invalid_rows(tmp_path: Path, count: int, invalid: int) -> Path:
    rows = [book_row(i) for i in range(count)]
    for row in rows[:invalid]:
        row["Email"] = "not-an-email"
    return write_xlsx(tmp_path / "in.xlsx", rows)


# ---------------------------------------------------------------- modes (issue 11, item 17)


def test_the_default_is_for_people(sandbox: RunningSandbox, tmp_path: Path, env: Any) -> None:
    result = cli_book(env, tmp_path, sheet_with_invalid_rows(tmp_path, 4, 1), sandbox.base_url)

    assert result.exit_code == 1
    assert "created" in result.stdout and "Issues:" in result.stdout
    assert "Next: fix the rows marked invalid" in result.stdout
    assert result.stdout.rstrip().endswith(f"Wrote {tmp_path / 'results.xlsx'}")
    assert result.stderr == ""  # no log lines: no INFO, no timestamps, no logger names


def test_quiet_prints_only_errors_and_where_the_results_are(
    sandbox: RunningSandbox, tmp_path: Path, env: Any
) -> None:
    sheet = sheet_with_invalid_rows(tmp_path, 4, 2)

    result = cli_book(env, tmp_path, sheet, sandbox.base_url, "-q")
    strict = cli_book(env, tmp_path, sheet, sandbox.base_url, "-q", "--strict")

    assert result.exit_code == 1
    assert result.stdout == f"Wrote {tmp_path / 'results.xlsx'}\n"
    assert result.stderr == ""
    assert strict.exit_code == 2
    assert strict.stdout == f"Wrote {tmp_path / 'results.xlsx'}\n"
    assert strict.stderr.startswith("Error: 2 of 4 rows are invalid and --strict was given")


def test_verbose_is_for_logs_without_personal_data(
    sandbox: RunningSandbox, tmp_path: Path, env: Any
) -> None:
    result = cli_book(env, tmp_path, book_sheet(tmp_path / "in.xlsx", 3), sandbox.base_url, "-v")

    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert lines and all(TIMESTAMP.match(line) for line in lines)
    assert any(" DEBUG batch_scheduler.send.engine: " in line for line in lines)
    assert "Claimant 1" not in result.stderr and "person1@example.org" not in result.stderr
    assert "created" in result.stdout  # the report is still on stdout


def test_json_logs_make_every_stderr_line_json_errors_included(
    sandbox: RunningSandbox, tmp_path: Path, env: Any
) -> None:
    good = cli_book(env, tmp_path, book_sheet(tmp_path / "in.xlsx", 3), sandbox.base_url,
                "--log-format", "json")  # fmt: skip
    bad = invoke(env, "book", tmp_path / "missing.xlsx", "--out", tmp_path / "r.xlsx",
                 "--log-format", "json", "--base-url", sandbox.base_url)  # fmt: skip

    records = [json.loads(line) for line in good.stderr.splitlines()]
    assert records and {r["level"] for r in records} <= {"info", "warning", "error"}
    assert all({"time", "logger", "message"} <= set(r) for r in records)
    assert bad.exit_code == 2
    (error,) = [json.loads(line) for line in bad.stderr.splitlines()]
    assert error["level"] == "error" and error["code"] == "input-unusable"


# ---------------------------------------------------------------- JSON outputs (item 8a)


def test_validate_json_says_why_a_file_cannot_be_used(tmp_path: Path, env: Any) -> None:
    sheet = write_xlsx(tmp_path / "in.xlsx", [{"Reference": "R1"}], headers=("Reference",))

    result = invoke(env, "validate", sheet, "--json")

    assert result.exit_code == 2
    payload = json.loads(result.stdout)
    assert payload["exit_code"] == 2 and payload["command"] == "validate"
    assert payload["error"]["code"] == "input-unusable"
    assert payload["error"]["file"] == str(sheet)
    assert "required column" in payload["error"]["message"]


def test_validate_json_on_a_configuration_error_is_json_too(tmp_path: Path, env: Any) -> None:
    sheet = book_sheet(tmp_path / "in.xlsx", 2)
    result = invoke(env, "validate", sheet, "--json", "--timezone", "Mars/Olympus_Mons")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"]["code"] == "config"


def test_validate_json_when_fine_has_the_same_keys(tmp_path: Path, env: Any) -> None:
    sheet = book_sheet(tmp_path / "in.xlsx", 2)
    result = invoke(env, "validate", sheet, "--json", "--config", tmp_path / "config.toml")
    payload = json.loads(result.stdout)
    assert result.exit_code == 0 and payload["error"] is None and payload["exit_code"] == 0


def test_summary_json_of_a_run_that_stopped_holds_the_error_not_last_weeks_summary(
    sandbox: RunningSandbox, tmp_path: Path, env: Any
) -> None:
    summary = tmp_path / "summary.json"
    summary.write_text('{"rows_read": 40, "counts": {}}')  # last week's
    env = {**env, "BATCH_SCHEDULER_TOKEN": "wrong-token"}

    result = cli_book(env, tmp_path, book_sheet(tmp_path / "in.xlsx", 2), sandbox.base_url,
                  "--summary-json", summary)  # fmt: skip

    assert result.exit_code == 3
    written = json.loads(summary.read_text())
    assert written["error"]["code"] == "auth" and written["exit_code"] == 3


# ---------------------------------------------------------------- messages (item 16)


def test_refused_credentials_are_explained_once(
    sandbox: RunningSandbox, tmp_path: Path, env: Any
) -> None:
    env = {**env, "BATCH_SCHEDULER_TOKEN": "wrong-token"}
    result = cli_book(env, tmp_path, book_sheet(tmp_path / "in.xlsx", 2), sandbox.base_url)
    assert result.exit_code == 3
    assert ".." not in result.stderr
    assert result.stderr.lower().count("check") == 1
    assert "HTTP 401" in result.stderr and "Nothing was sent" in result.stderr


def test_strict_writes_the_report_and_says_where(
    sandbox: RunningSandbox, tmp_path: Path, env: Any
) -> None:
    result = cli_book(env, tmp_path, sheet_with_invalid_rows(tmp_path, 5, 2), sandbox.base_url,
                  "--strict")  # fmt: skip

    assert result.exit_code == 2
    out = tmp_path / "results.xlsx"
    assert f"Issues sheet of {out}" in result.stderr and "Nothing" in result.stderr.title()
    assert result.stdout.count("[error] Row") == 2  # the rows to fix are listed
    outcomes = [
        r[0]
        for r in load_workbook(out)["Results"].iter_rows(min_col=11, max_col=11, values_only=True)
    ]
    assert outcomes == ["outcome", "invalid", "invalid", "not_attempted", "not_attempted",
                        "not_attempted"]  # fmt: skip
    assert sandbox.appointments() == []


def test_the_issue_list_says_where_the_rest_are(tmp_path: Path, env: Any) -> None:
    many = sheet_with_invalid_rows(tmp_path, 25, 23)
    config = ("--config", tmp_path / "config.toml")

    with_report = invoke(env, "validate", many, "--report", tmp_path / "check.xlsx", *config)
    without = invoke(env, "validate", many, *config)
    one = invoke(env, "validate", sheet_with_invalid_rows(tmp_path, 3, 1), *config)

    assert (f"First 20 of 24 issues (all 24 are in the Issues sheet of {tmp_path / 'check.xlsx'})"
            in with_report.stdout)  # fmt: skip
    assert "First 20 of 24 issues (run with --report REPORT.xlsx" in without.stdout
    assert "Issues:\n" in one.stdout and "First 1" not in one.stdout


def test_allocate_says_when_every_slot_is_in_the_past(tmp_path: Path, env: Any) -> None:
    stale = write_allocate_sample(tmp_path / "week.xlsx", (NOW - timedelta(days=21)).date())

    result = invoke(env, "allocate", stale, "--out", tmp_path / "plan.xlsx", "--config",
                    tmp_path / "config.toml")  # fmt: skip

    assert result.exit_code == 1
    assert "no-usable-slot" in result.stdout and "no-department-slot" not in result.stdout
    unplaced = list(load_workbook(tmp_path / "plan.xlsx")["Unplaced"].iter_rows(values_only=True))
    reasons = {row[4] for row in unplaced[1:] if row[3] == "no-usable-slot"}
    assert len(reasons) == 1 and "are in the past" in reasons.pop()
