"""Running the CLI in tests: its environment, and `batch-scheduler ...` in-process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from batch_scheduler.cli import cli
from tests.support.sheets import NOW


def run_env(state_dir: Path, *, token: str | None = "sandbox-token") -> dict[str, str]:
    """The environment a CLI run needs: the sandbox's static token (None: give credentials
    yourself), a private state directory, and "now" pinned to NOW."""
    env = {"BATCH_SCHEDULER_STATE_DIR": str(state_dir), "BATCH_SCHEDULER_NOW": NOW.isoformat()}
    if token is not None:
        env["BATCH_SCHEDULER_TOKEN"] = token
    return env


def cli_env(folder: Path, config: str) -> dict[str, str]:
    """Write `config` to folder/config.toml; the environment a CLI test runs with (static
    token, a private state directory, "now" pinned to NOW)."""
    (folder / "config.toml").write_text(config)
    return run_env(folder / "state")


# The machine's language never leaks into a test (a Welsh developer's LANG=cy_GB.UTF-8): a
# test that wants a language says so in `env` (None removes a variable for the run).
NO_LANGUAGE: dict[str, str | None] = {
    name: None for name in ("BATCH_SCHEDULER_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
}


def invoke(env: dict[str, str], *args: Any, catch_exceptions: bool = False) -> Result:
    """`batch-scheduler ARGS...` in-process; exceptions propagate unless asked to catch them."""
    argv = [str(a) for a in args]
    return CliRunner().invoke(
        cli, argv, env={**NO_LANGUAGE, **env}, catch_exceptions=catch_exceptions
    )


def cli_book(
    env: dict[str, str],
    folder: Path,
    sheet: Path,
    base_url: str,
    *extra: Any,
    catch_exceptions: bool = False,
) -> Result:
    """`book SHEET` with folder/config.toml, writing folder/results.xlsx."""
    return invoke(env, "book", sheet, "--out", folder / "results.xlsx", "--config",
                  folder / "config.toml", "--base-url", base_url, *extra,
                  catch_exceptions=catch_exceptions)  # fmt: skip
