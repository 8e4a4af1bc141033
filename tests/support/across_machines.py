"""Runs on several machines at once (issue 13), as the tests drive them: sheets whose few
invalid rows are never sent, `batch-scheduler book` as a process of its own with its own
state directory (and the shared ledger, if any), and the checks every scenario ends with:
exactly one appointment per valid reference, and results workbooks that agree with the
sandbox row by row."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from batch_scheduler.sandbox import RunningSandbox, SandboxConfig
from tests.support.cli import run_env
from tests.support.sandbox import SandboxFactory
from tests.support.sheets import book_row, sheet_rows, write_xlsx

INVALID = frozenset({17, 333, 901, 1333})  # rows whose email is wrong: never sent
LEASE = 3  # seconds: short, so a dead run's claims run out within the test
CONFIG = (
    "[departments]\nBenefits = 1\n\n"
    "[send]\nbackoff_initial = 0.02\nbackoff_max = 0.2\nretry_after_floor = 0.02\n"
    f"claim_lease = {LEASE}\n"
)
GOOD = ("created", "already_exists")


def faulty(factory: SandboxFactory) -> RunningSandbox:
    return factory(SandboxConfig(seed=13, duplicate_references="allow", drop_rate=0.1))


def sheet(path: Path, indexes: Sequence[int]) -> Path:
    rows = [book_row(i) for i in indexes]
    for row, i in zip(rows, indexes, strict=True):
        if i in INVALID:
            row["Email"] = "not an email"
    return write_xlsx(path, rows)


def env_for(folder: Path, state_url: str | None = None) -> dict[str, str]:
    """A machine's environment: its own state directory, and the shared ledger if any."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(CONFIG)
    env = run_env(folder / "state")
    return env | {"BATCH_SCHEDULER_STATE_URL": state_url} if state_url else env


def argv(folder: Path, book: Path, sandbox: RunningSandbox) -> list[str]:
    return ["book", str(book), "--out", str(folder / "results.xlsx"), "--config",
            str(folder / "config.toml"), "--base-url", sandbox.base_url, "--rate", "5000",
            "--concurrency", "8", "--quiet"]  # fmt: skip


def start(folder: Path, book: Path, sandbox: RunningSandbox, env: dict[str, str]) -> Any:
    """`batch-scheduler book` as a process of its own (another machine, as far as the
    ledger can tell: its own pid)."""
    return subprocess.Popen(
        [sys.executable, "-m", "batch_scheduler", *argv(folder, book, sandbox)],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def finish(process: Any, timeout: float = 120) -> int:
    _, stderr = process.communicate(timeout=timeout)
    assert process.returncode in (0, 1), stderr.decode()
    return int(process.returncode)


def assert_exactly_once(sandbox: RunningSandbox, indexes: Sequence[int]) -> None:
    """One appointment per valid reference of `indexes`, and nothing else."""
    valid = [f"REF-{i:05d}" for i in indexes if i not in INVALID]
    assert Counter(a["reference"] for a in sandbox.appointments()) == Counter(valid)


def assert_agrees(sandbox: RunningSandbox, results: Path, indexes: Sequence[int]) -> Counter[str]:
    """The results workbook says, row by row, what the sandbox holds; its outcomes."""
    server = {a["reference"]: a for a in sandbox.appointments()}
    lines = sheet_rows(results, read_only=True)
    assert len(lines) == len(indexes)
    for i, line in zip(indexes, lines, strict=True):
        reference = f"REF-{i:05d}"
        if i in INVALID:
            assert (line["outcome"], line["appointment_id"]) == ("invalid", None)
            continue
        assert line["outcome"] in GOOD, (reference, line["outcome"], line["error"])
        assert line["appointment_id"] == server[reference]["id"], reference
        assert line["status"] == server[reference]["status"] == "scheduled"
    return Counter(line["outcome"] for line in lines)


def posts(sandbox: RunningSandbox) -> int:
    return sum(1 for r in sandbox.requests() if r["method"] == "POST")
