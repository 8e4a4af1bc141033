"""`cancel RESULTS.xlsx`: rows the booking run never booked have nothing to cancel (a quiet
outcome, fine for the exit code, counted the same by validate and the dry run); our columns stay
distinguishable when a results workbook is the input. CLI against the sandbox on loopback."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from batch_scheduler.columns import RESULT_COLUMNS
from batch_scheduler.sandbox import RunningSandbox
from tests.support.cli import cli_env, invoke
from tests.support.sheets import book_row, sheet_rows, write_xlsx

# "Ghost" passes our checks (it is in [departments]) but the server knows no department 99
CONFIG = "[departments]\nBenefits = 1\nGhost = 99\n\n[send]\nbackoff_initial = 0.02\n"


def headers(path: Path) -> list[str]:
    return [str(h) for h in next(load_workbook(path)["Results"].iter_rows(values_only=True))]


def book_week(tmp_path: Path, sandbox: RunningSandbox, env: dict[str, str]) -> Path:
    """8 rows: 5 created, 1 invalid (no name), 1 invalid without a reference, 1 rejected."""
    rows = [book_row(i) for i in range(8)]
    rows[2]["Claimant name"] = None
    rows[4].update({"Claimant name": None, "Reference": None})
    rows[6]["Department"] = "Ghost"
    sheet = write_xlsx(tmp_path / "week.xlsx", rows)
    out = tmp_path / "booked.xlsx"
    result = invoke(env, "book", sheet, "--out", out, "--config", tmp_path / "config.toml",
                    "--base-url", sandbox.base_url)  # fmt: skip
    assert result.exit_code == 1, result.output
    outcomes = Counter(r["outcome"] for r in sheet_rows(out))
    assert outcomes == {"created": 5, "invalid": 2, "rejected": 1}
    return out


def options(sandbox: RunningSandbox, tmp_path: Path) -> tuple[Any, ...]:
    return ("--base-url", sandbox.base_url, "--config", tmp_path / "config.toml")


def test_rows_never_booked_have_nothing_to_cancel_in_the_dry_run_and_the_run(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    env = cli_env(tmp_path, CONFIG)
    booked, base = book_week(tmp_path, sandbox, env), options(sandbox, tmp_path)

    checked = invoke(env, "validate", booked, "--kind", "cancel", "--report",
                     tmp_path / "checked.xlsx", "--config", tmp_path / "config.toml")  # fmt: skip
    dry = invoke(env, "cancel", booked, "--out", tmp_path / "dry.xlsx", "--dry-run", *base)
    run = invoke(env, "cancel", booked, "--out", tmp_path / "c1.xlsx", *base)

    assert checked.exit_code == 0, checked.output  # what validate says, cancel does
    assert Counter(r["outcome"] for r in sheet_rows(tmp_path / "checked.xlsx")) == {
        "valid": 5, "nothing_to_cancel": 3,
    }  # fmt: skip

    assert dry.exit_code == 0, dry.output
    assert Counter(r["outcome"] for r in sheet_rows(tmp_path / "dry.xlsx")) == {
        "would_cancel": 5, "nothing_to_cancel": 3,
    }  # fmt: skip
    assert run.exit_code == 0, run.output
    lines = sheet_rows(tmp_path / "c1.xlsx")
    assert Counter(r["outcome"] for r in lines) == {"cancelled": 5, "nothing_to_cancel": 3}
    quiet = [r for r in lines if r["outcome"] == "nothing_to_cancel"]
    assert [r["previous_outcome"] for r in quiet] == ["invalid", "invalid", "rejected"]
    assert all("not booked" in r["error"] for r in quiet)
    assert "Issues" not in run.stdout  # nothing to fix: no issue is listed for those rows
    assert Counter(a["status"] for a in sandbox.appointments()) == {"cancelled": 5}
    assert "No appointment" not in run.output


def test_the_previous_runs_columns_stay_distinguishable_generation_after_generation(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    env = cli_env(tmp_path, CONFIG)
    booked, base = book_week(tmp_path, sandbox, env), options(sandbox, tmp_path)
    assert invoke(env, "cancel", booked, "--out", tmp_path / "c1.xlsx", *base).exit_code == 0

    again = invoke(env, "cancel", tmp_path / "c1.xlsx", "--out", tmp_path / "c2.xlsx", *base)

    assert again.exit_code == 0, again.output
    for name in ("c1.xlsx", "c2.xlsx"):
        written = headers(tmp_path / name)
        assert len(written) == len(set(written)), f"{name} repeats {written}"
        assert tuple(written[-8:]) == RESULT_COLUMNS
    first = headers(tmp_path / "c1.xlsx")
    assert {"previous_source_row", "previous_outcome", "previous_appointment_id"} <= set(first)
    assert "previous_previous_outcome" in headers(tmp_path / "c2.xlsx")
    assert Counter(r["outcome"] for r in sheet_rows(tmp_path / "c2.xlsx")) == {
        "already_cancelled": 5, "nothing_to_cancel": 3,
    }  # fmt: skip


def test_a_row_rejected_then_fixed_and_booked_is_cancelled_from_the_old_workbook(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    env = cli_env(tmp_path, CONFIG)
    old = book_week(tmp_path, sandbox, env)
    fixed = [book_row(i) for i in range(8)]
    fixed[2]["Claimant name"] = None
    fixed[4].update({"Claimant name": None, "Reference": None})
    sheet = write_xlsx(tmp_path / "fixed.xlsx", fixed)  # row 6: Benefits now
    base = options(sandbox, tmp_path)
    rebooked = invoke(env, "book", sheet, "--out", tmp_path / "booked2.xlsx", *base)
    assert Counter(r["outcome"] for r in sheet_rows(tmp_path / "booked2.xlsx"))["created"] == 1

    result = invoke(env, "cancel", old, "--out", tmp_path / "c.xlsx", *base)

    assert rebooked.exit_code == 1 and result.exit_code == 0, result.output
    assert Counter(r["outcome"] for r in sheet_rows(tmp_path / "c.xlsx")) == {
        "cancelled": 6, "nothing_to_cancel": 2,
    }  # fmt: skip
    assert Counter(a["status"] for a in sandbox.appointments()) == {"cancelled": 6}
