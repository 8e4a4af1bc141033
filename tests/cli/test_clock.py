"""BATCH_SCHEDULER_NOW pins "now" for every command (config.pinned_now is the one reader):
a value that is not a time is a usage error, exit 2, in the CLI's commands and `serve` alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import cli_env, invoke, run_env
from tests.support.sheets import book_sheet

BAD = "next tuesday"
SAID = f"Error: BATCH_SCHEDULER_NOW must be an ISO date-time, not '{BAD}'."


@pytest.mark.parametrize("command", ["validate", "serve", "demo"])
def test_a_now_that_is_not_a_time_is_a_usage_error(command: str, tmp_path: Path) -> None:
    env = run_env(tmp_path / "state") | {"BATCH_SCHEDULER_NOW": BAD}
    args = {
        "validate": [book_sheet(tmp_path / "in.xlsx", 2)],
        "serve": ["--port", "1"],  # stops before it would listen
        "demo": ["--write-samples", tmp_path / "samples"],
    }[command]

    result = invoke(env, command, *args, catch_exceptions=True)

    assert result.exit_code == 2, result.output
    assert SAID in result.output and "Usage:" in result.output
    assert not (tmp_path / "samples").exists()


def test_the_pinned_now_dates_the_checks(tmp_path: Path) -> None:
    """The sheet's appointments are 3 days after NOW: in the future at NOW, passed a month
    later (naive times, taken as UTC)."""
    sheet = book_sheet(tmp_path / "in.xlsx", 2)
    env = cli_env(tmp_path, "[departments]\nBenefits = 1\n")
    config = ["--config", tmp_path / "config.toml"]

    pinned = invoke(
        env | {"BATCH_SCHEDULER_NOW": "2026-11-25T09:00:00"}, "validate", sheet, *config
    )
    late = invoke(env | {"BATCH_SCHEDULER_NOW": "2026-12-25T09:00:00"}, "validate", sheet, *config)

    assert pinned.exit_code == 0, pinned.output
    assert late.exit_code == 1 and "has already passed" in late.output
