"""The web page on a shared PostgreSQL ledger (issue 13: "the web page and a CLI run side by
side"): a web job and a CLI run booking overlapping sheets at the same time create each
reference once; a state_url's password never reaches the log, a page or a job's files; a
wrong or unreachable state_url stops the job, naming the host, with nothing sent.

Against the sandbox on loopback, silently accepting a repeated reference (so only the ledger
stands between a reference and its second appointment), and a real PostgreSQL server.
"""

from __future__ import annotations

import os
import secrets
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import psycopg
import pytest

from batch_scheduler.ledger import EntryState, LedgerUpdate, open_ledger
from batch_scheduler.sandbox import RunningSandbox, SandboxConfig
from batch_scheduler.web.context import WebContext
from batch_scheduler.web.jobs import JobState
from tests.support.across_machines import (
    CONFIG,
    INVALID,
    assert_agrees,
    assert_exactly_once,
    env_for,
    faulty,
    finish,
    sheet,
    start,
)
from tests.support.cli import run_env
from tests.support.postgres import WRONG_PARTS, Cluster, free_port, made_wrong
from tests.support.sandbox import SandboxFactory
from tests.support.sheets import NOW
from tests.web.helpers import (
    PASSWORD,
    Browser,
    cli,
    job_id_of,
    make_context,
    serving,
    shown_counts,
    signed_in,
    text_of,
    wait_until_done,
)

WEB_ROWS = range(0, 400)  # 17 and 333 are invalid
CLI_ROWS = range(200, 600)  # 333 is invalid; 200-399 are both runs'
HELD = "REF-00250"  # a shared reference a third run holds until both runs wait on it
GOOD = {"created", "already_exists", "invalid"}
OUTPUTS = ("results.xlsx", "summary.json", "fix.xlsx", "report.xlsx")  # a job's downloads


def web_context(state_dir: Path, sandbox: RunningSandbox, state_url: str) -> WebContext:
    """The page's context as `serve` makes it with BATCH_SCHEDULER_STATE_URL set; "now" is
    the day the test sheets are made for."""
    context = make_context(state_dir, sandbox.base_url, state_url=state_url)
    context.now = lambda: NOW
    return context


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


# ---------------------------------------------------------------- side by side


def test_a_web_job_and_a_cli_run_book_overlapping_sheets_at_once_exactly_once(
    sandbox_factory: SandboxFactory, tmp_path: Path, state_url: str
) -> None:
    """Both runs are provably under way together: a third run holds one shared reference,
    so neither can finish; once everything else is booked, both are still running. Then it
    lets go, both finish, and each reference is booked once."""
    sandbox = faulty(sandbox_factory)
    context = web_context(tmp_path / "web-state", sandbox, state_url)
    cli_folder = tmp_path / "cli"
    valid = {f"REF-{i:05d}" for i in (*WEB_ROWS, *CLI_ROWS) if i not in INVALID}
    third_run = open_ledger(tmp_path / "unused", state_url, base_url=sandbox.base_url, lease=600)
    with third_run as third, signed_in(context) as browser:
        assert third.mark_sending("create", [HELD], "a-third-run") == {}
        job_id = job_id_of(browser.upload(sheet(tmp_path / "web.xlsx", WEB_ROWS)))
        run = start(cli_folder, sheet(tmp_path / "cli.xlsx", CLI_ROWS), sandbox,
                    env_for(cli_folder, state_url))  # fmt: skip
        browser.post(f"/jobs/{job_id}/send")

        wait_until(lambda: booked(sandbox) == valid - {HELD}, "all but the held one booked")
        assert run.poll() is None, "the CLI run ended while a reference it needs was held"
        assert context.jobs.get(job_id).sending  # type: ignore[union-attr]
        third.record([LedgerUpdate("create", HELD, EntryState.NOT_APPLIED)], "a-third-run")
        third.release("a-third-run")  # it stopped without booking HELD

        assert finish(run) == 1  # 1: its invalid row
        job = wait_until_done(context, job_id, timeout=120)
        page = browser.get(f"/jobs/{job_id}").text

    assert job.state is JobState.FINISHED, job.message
    assert_exactly_once(sandbox, range(WEB_ROWS.start, CLI_ROWS.stop))
    on_web = assert_agrees(sandbox, context.files.path(job_id, "results.xlsx"), WEB_ROWS)
    on_cli = assert_agrees(sandbox, cli_folder / "results.xlsx", CLI_ROWS)
    assert dict(on_web) == dict(job.outcomes) == shown_counts(page)
    assert set(on_web) <= GOOD and set(on_cli) <= GOOD
    assert (on_web["invalid"], on_cli["invalid"]) == (2, 1)
    # each reference created by one of them; a create whose answer was dropped while the
    # other run found it on the account reads already_exists in both (either is true)
    dropped = sandbox.stats()["dropped"]
    assert len(valid) - dropped <= on_web["created"] + on_cli["created"] <= len(valid)
    assert dropped > 0


def booked(sandbox: RunningSandbox) -> set[str]:
    return {str(a["reference"]) for a in sandbox.appointments()}


# ---------------------------------------------------------------- the password


@pytest.fixture
def secret_url(postgres_cluster: Cluster) -> str:
    """A database of its own user, whose password a URL must carry percent-encoded."""
    return postgres_cluster.fresh_database_of_new_user(f"pw:{secrets.token_hex(8)}@/%?#&")


def test_a_state_url_password_never_reaches_the_log_the_pages_or_the_job_files(
    sandbox_factory: SandboxFactory, tmp_path: Path, secret_url: str
) -> None:
    """`serve` with BATCH_SCHEDULER_STATE_URL set, as ops would run it; the job goes through
    the whole flow (check, confirm's dry run, book with faults, results, history, audit)."""
    sandbox = sandbox_factory(SandboxConfig(seed=15, duplicate_references="allow",
                                            drop_rate=0.1, error_rate=0.1))  # fmt: skip
    password = urlsplit(secret_url).password or ""
    forms = {password, quote(password, safe=""), secret_url}  # as written and as decoded
    assert "%" in quote(password, safe="") and len(forms) == 3
    env = os.environ | run_env(tmp_path / "state") | {
        "BATCH_SCHEDULER_BASE_URL": sandbox.base_url,
        "BATCH_SCHEDULER_STATE_URL": secret_url,
    }  # fmt: skip
    (tmp_path / "config.toml").write_text(CONFIG)
    added = cli(env, "users", "add", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    port, log = free_port(), tmp_path / "serve.log"
    rows = range(60)

    with serving(env, tmp_path / "config.toml", port, log=log), page_client(port) as browser:
        browser.sign_in()
        pages = [browser.upload(sheet(tmp_path / "in.xlsx", rows))]
        job_id = job_id_of(pages[0])
        pages.append(browser.get(f"/jobs/{job_id}/confirm"))
        pages.append(browser.post(f"/jobs/{job_id}/send"))
        wait_until(lambda: finished(browser, job_id), "the job finished", timeout=120)
        job_page = browser.get(f"/jobs/{job_id}")
        for url in (f"/jobs/{job_id}/progress", "/jobs", "/audit", "/"):
            pages.append(browser.get(url))
        pages.append(job_page)
        downloads = [browser.get(f"/jobs/{job_id}/files/{name}") for name in OUTPUTS]

    assert {p.status_code for p in pages + downloads} == {200}
    assert shown_counts(job_page.text) == {"created": len(rows) - 1, "invalid": 1}  # 17
    logged = log.read_text()
    split = urlsplit(secret_url)
    where = f"{split.hostname}:{split.port}{split.path}"
    assert f"ledger: the PostgreSQL database {where}" in logged  # the job's own lines are here
    with psycopg.connect(secret_url) as conn:  # the job booked on the shared ledger
        assert conn.execute("SELECT COUNT(*) FROM entries").fetchone() == (len(rows) - 1,)
    for form in forms:
        assert form not in logged
        assert all(form not in p.text for p in pages)
        assert all(form.encode() not in d.content for d in downloads)
        for path, data in files_under(tmp_path / "state"):  # the job's files, the page's db
            assert form.encode() not in data, path


@contextmanager
def page_client(port: int) -> Iterator[Browser]:
    """A browser (without JavaScript) on the page `serve` serves on `port`."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", follow_redirects=True) as client:
        yield Browser(client)


def finished(browser: Browser, job_id: int) -> bool:
    state = browser.get(f"/jobs/{job_id}/progress").headers["x-job-state"]
    assert state not in (JobState.STOPPED, JobState.REFUSED), state
    return bool(state == JobState.FINISHED)


def files_under(folder: Path) -> Iterator[tuple[str, bytes]]:
    """Every file's bytes, a workbook's (a zip) part by part, uncompressed."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as workbook:
                for part in workbook.namelist():
                    yield f"{path}:{part}", workbook.read(part)
        else:
            yield str(path), path.read_bytes()


# ---------------------------------------------------------------- wrong or unreachable


@pytest.mark.parametrize("wrong", WRONG_PARTS)
def test_a_wrong_or_unreachable_state_url_stops_the_job_naming_the_host_nothing_sent(
    sandbox: RunningSandbox, tmp_path: Path, state_url: str, wrong: str
) -> None:
    url = made_wrong(state_url, wrong)
    split = urlsplit(url)
    named = f"The ledger database {split.hostname}:{split.port}{split.path} cannot be used"
    context = web_context(tmp_path / "state", sandbox, url)

    with signed_in(context) as browser:
        job_id = job_id_of(browser.upload(sheet(tmp_path / "in.xlsx", range(5))))
        confirm = browser.get(f"/jobs/{job_id}/confirm")
        browser.post(f"/jobs/{job_id}/send")
        job = wait_until_done(context, job_id)
        page = browser.get(f"/jobs/{job_id}")

    assert confirm.status_code == 409 and named in text_of(confirm.text)
    assert job.state is JobState.STOPPED
    assert job.message and named in job.message and "Nothing was sent" in job.message
    assert named in text_of(page.text)
    for secret in {split.password, urlsplit(state_url).password}:
        assert secret and secret not in job.message + confirm.text + page.text
    assert sandbox.requests() == []
