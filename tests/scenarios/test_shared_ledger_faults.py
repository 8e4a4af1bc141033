"""A shared ledger (PostgreSQL) that is wrong, unreachable, or goes away mid-run: exit 3 with
the host named (never the password) and nothing sent; exit 4 with partial results when the
database dies mid-run, no request having left without its committed claim; and a re-run,
once it is back, that finishes without a duplicate."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from batch_scheduler.sandbox import RunningSandbox, SandboxConfig
from tests.support.cli import invoke, run_env
from tests.support.postgres import WRONG_PARTS, Cluster, made_wrong, wait_for_server
from tests.support.sandbox import SandboxFactory
from tests.support.sheets import book_sheet, sheet_rows
from tests.support.system import require_program

CONFIG = (
    "[departments]\nBenefits = 1\n\n"
    "[send]\nbackoff_initial = 0.02\nbackoff_max = 0.2\nretry_after_floor = 0.02\n"
    "claim_lease = 3\n"
)


def book(tmp_path: Path, sandbox: RunningSandbox, env: dict[str, str], rows: int = 20) -> object:
    (tmp_path / "config.toml").write_text(CONFIG)
    sheet = book_sheet(tmp_path / "in.xlsx", rows)
    return invoke(env, "book", sheet, "--out", tmp_path / "results.xlsx", "--config",
                  tmp_path / "config.toml", "--base-url", sandbox.base_url)  # fmt: skip


def with_url(tmp_path: Path, url: str) -> dict[str, str]:
    return run_env(tmp_path / "state") | {"BATCH_SCHEDULER_STATE_URL": url}


# ---------------------------------------------------------------- wrong or unreachable


@pytest.mark.parametrize("wrong", WRONG_PARTS)
def test_a_wrong_or_unreachable_state_url_is_exit_3_naming_the_host_and_nothing_is_sent(
    tmp_path: Path, sandbox: RunningSandbox, state_url: str, wrong: str
) -> None:
    url = made_wrong(state_url, wrong)

    result = book(tmp_path, sandbox, with_url(tmp_path, url))

    assert result.exit_code == 3, result.output  # type: ignore[attr-defined]
    output: str = result.output  # type: ignore[attr-defined]
    split = urlsplit(url)
    assert f"The ledger database {split.hostname}:{split.port}{split.path} cannot be used" in (
        output
    )
    assert "Nothing was sent" in output
    for secret in {split.password, urlsplit(state_url).password}:
        assert secret and secret not in output
    assert sandbox.requests() == []


def test_a_wrong_state_url_is_said_in_welsh_in_a_welsh_run(
    tmp_path: Path, sandbox: RunningSandbox, state_url: str
) -> None:
    url = made_wrong(state_url, WRONG_PARTS[0])
    env = with_url(tmp_path, url) | {"BATCH_SCHEDULER_LANG": "cy"}

    result = book(tmp_path, sandbox, env)

    assert result.exit_code == 3, result.output  # type: ignore[attr-defined]
    output: str = result.output  # type: ignore[attr-defined]
    split = urlsplit(url)
    where = f"{split.hostname}:{split.port}{split.path}"
    assert f"Nid oes modd defnyddio cronfa ddata'r cyfriflyfr {where}" in output
    assert "Ni chafodd dim ei anfon" in output and "Nothing was sent" not in output
    assert split.password and split.password not in output
    assert sandbox.requests() == []


def test_a_state_url_that_is_not_postgresql_is_refused(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    env = with_url(tmp_path, "mysql://user:pw@db.example.test/ledger")

    result = book(tmp_path, sandbox, env)

    assert result.exit_code == 3  # type: ignore[attr-defined]
    assert "state_url must be a PostgreSQL URL" in result.output  # type: ignore[attr-defined]
    assert sandbox.requests() == []


def test_a_config_file_holding_the_password_must_be_private(
    tmp_path: Path, sandbox: RunningSandbox, state_url: str
) -> None:
    # state_url is a top-level key: in TOML it comes before the tables
    (tmp_path / "config.toml").write_text(f'state_url = "{state_url}"\n\n' + CONFIG)
    os.chmod(tmp_path / "config.toml", 0o644)
    sheet = book_sheet(tmp_path / "in.xlsx", 2)
    argv = ["book", sheet, "--out", tmp_path / "results.xlsx", "--config",
            tmp_path / "config.toml", "--base-url", sandbox.base_url]  # fmt: skip

    refused = invoke(run_env(tmp_path / "state"), *argv)
    os.chmod(tmp_path / "config.toml", 0o600)
    booked = invoke(run_env(tmp_path / "state"), *argv)

    assert refused.exit_code == 3
    assert "holds a secret (state_url)" in refused.output and "chmod 600" in refused.output
    assert booked.exit_code == 0, booked.output
    with psycopg.connect(state_url) as conn:  # the shared ledger was used, not the directory
        assert conn.execute("SELECT COUNT(*) FROM entries").fetchone() == (2,)
    assert not (tmp_path / "state" / "ledger.sqlite3").exists()


def test_a_run_on_a_shared_ledger_logs_its_host_and_never_its_password(
    tmp_path: Path, sandbox: RunningSandbox, state_url: str
) -> None:
    (tmp_path / "config.toml").write_text(CONFIG)
    sheet = book_sheet(tmp_path / "in.xlsx", 3)
    argv = [sys.executable, "-m", "batch_scheduler", "book", str(sheet), "--out",
            str(tmp_path / "results.xlsx"), "--config", str(tmp_path / "config.toml"),
            "--base-url", sandbox.base_url, "--verbose", "--log-format", "json"]  # fmt: skip
    env = {**os.environ, **with_url(tmp_path, state_url)}

    done = subprocess.run(argv, env=env, capture_output=True, timeout=120, check=False)

    said = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, said
    password = urlsplit(state_url).password
    assert password and password not in said and state_url not in said
    parts = urlsplit(state_url)
    assert f"ledger: the PostgreSQL database {parts.hostname}:{parts.port}{parts.path}" in said
    assert len(sandbox.appointments()) == 3


# ---------------------------------------------------------------- gone mid-run


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    """A server of this test's own: it is stopped mid-run."""
    require_program("initdb")
    cluster = Cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def test_the_database_going_away_mid_run_stops_it_cleanly_and_a_rerun_finishes_once(
    tmp_path: Path, sandbox_factory: SandboxFactory, own_cluster: Cluster
) -> None:
    rows = 600
    sandbox = sandbox_factory(SandboxConfig(seed=21, duplicate_references="allow",
                                            drop_rate=0.1, latency=0.01))  # fmt: skip
    url = own_cluster.fresh_database()
    (tmp_path / "config.toml").write_text(CONFIG)
    sheet = book_sheet(tmp_path / "in.xlsx", rows)
    out = tmp_path / "results.xlsx"
    argv = [sys.executable, "-m", "batch_scheduler", "book", str(sheet), "--out", str(out),
            "--config", str(tmp_path / "config.toml"), "--base-url", sandbox.base_url,
            "--rate", "5000", "--concurrency", "8"]  # fmt: skip
    env = {**os.environ, **with_url(tmp_path, url)}

    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(sandbox.appointments()) < 150:
        assert time.monotonic() < deadline and process.poll() is None, "it never got going"
        time.sleep(0.01)
    own_cluster.stop_immediately()
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == 4, stderr.decode()
    said = stderr.decode()
    host = f"{urlsplit(url).hostname}:{urlsplit(url).port}"
    assert "The ledger database stopped answering" in said and host in said
    assert urlsplit(url).password not in said + stdout.decode()
    partial = Counter(line["outcome"] for line in sheet_rows(out, read_only=True))
    assert partial["not_attempted"] > 0 and partial["created"] > 0

    own_cluster.restart()
    wait_for_server(url)
    stored = Counter(a["reference"] for a in sandbox.appointments())
    with psycopg.connect(url) as conn:  # every request that left had its claim committed
        claimed = {key for (key,) in conn.execute("SELECT key FROM entries")}
    assert set(stored) <= claimed

    again = subprocess.run(argv, env=env, capture_output=True, timeout=120, check=False)

    assert again.returncode == 0, again.stderr.decode()
    assert Counter(a["reference"] for a in sandbox.appointments()) == Counter(
        f"REF-{i:05d}" for i in range(rows)
    )
    lines = sheet_rows(out, read_only=True)
    server = {a["reference"]: a["id"] for a in sandbox.appointments()}
    assert all(line["appointment_id"] == server[line["reference"]] for line in lines)
    assert {line["outcome"] for line in lines} <= {"created", "already_exists"}
