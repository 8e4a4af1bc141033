"""Shared helpers of the web page's tests: a page over a real sandbox, signed-in clients."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from html import unescape
from pathlib import Path
from typing import Any

import httpx
from openpyxl import load_workbook
from starlette.testclient import TestClient

from batch_scheduler.config import ApiSettings, Secret, SendSettings, Settings, check_state_url
from batch_scheduler.web import WebContext, create_app
from batch_scheduler.web.jobs import Job
from batch_scheduler.web.settings import WebSettings
from tests.support.samples_table import (
    MADE_NOW,
    SAMPLES,
    documented_codes,
    documented_invalid_rows,
    sample_settings,
)

SAMPLE_BOOK = SAMPLES / "book.xlsx"
# what the page must find in it: the mistakes sample_data/README.md documents, no more
SAMPLE_CODES = documented_codes(SAMPLE_BOOK.name)
SAMPLE_INVALID = len(documented_invalid_rows(SAMPLE_BOOK.name))
SAMPLE_VALID = load_workbook(SAMPLE_BOOK).worksheets[0].max_row - 1 - SAMPLE_INVALID  # 1: header
SAMPLE_BOOKED = {"created": SAMPLE_VALID, "invalid": SAMPLE_INVALID}  # what booking it does
SAMPLE_NOW = MADE_NOW  # the page checks the samples on the day they were made
PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def library_settings(
    state_dir: Path, base_url: str | None, state_url: str | None = None
) -> Settings:
    """The samples' config (as their README says to run them), a quick send, the sandbox;
    the ledger in `state_dir`, or the shared one `state_url` names."""
    api = ApiSettings(base_url=base_url, token=Secret("sandbox-token")) if base_url else None
    send = SendSettings(rate=500, concurrency=8, backoff_initial=0.02, backoff_max=0.1,
                        retry_after_floor=0.05, jitter=False)  # fmt: skip
    shared = check_state_url(state_url) if state_url else None
    return dataclasses.replace(sample_settings(), api=api, send=send, state_dir=state_dir,
                               state_url=shared)  # fmt: skip


def make_context(
    state_dir: Path,
    base_url: str | None,
    web: WebSettings | None = None,
    *,
    state_url: str | None = None,
    **fields: Any,
) -> WebContext:
    context = WebContext(
        settings=library_settings(state_dir, base_url, state_url),
        web=web or WebSettings(),
        booking_off=None if base_url else "No base URL.",
        secure_cookies=False,
        **fields,
    )
    context.now = lambda: SAMPLE_NOW
    return context


def csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


class Browser:
    """A client (a TestClient, or httpx's on a real server) that signs in and remembers the
    page's CSRF token."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.token = ""

    def sign_in(self, name: str = "alice", password: str = PASSWORD) -> Any:
        page = self.client.get("/sign-in")
        response = self.client.post(
            "/sign-in",
            data={"csrf_token": csrf(page.text), "name": name, "password": password, "next": "/"},
        )
        if response.status_code == 200 and 'name="csrf_token"' in response.text:
            self.token = csrf(response.text)
        return response

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    def upload(
        self, path: Path, kind: str = "book", url: str = "/upload", name: str | None = None
    ) -> Any:
        files = {"file": (name or path.name, path.read_bytes())}
        return self.post(url, {"kind": kind}, files=files)


def job_id_of(response: Any) -> int:
    found = re.search(r"/jobs/(\d+)", str(response.url))
    assert found, f"not a job page: {response.url}"
    return int(found.group(1))


def wait_until_done(context: WebContext, job_id: int, timeout: float = 30) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = context.jobs.get(job_id)
        assert job is not None
        if not job.sending:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still sending after {timeout} s")


@contextmanager
def signed_in(context: WebContext, name: str = "alice") -> Iterator[Browser]:
    """A running app (worker included) and a client signed in as `name`."""
    if not context.accounts.exists(name):
        context.accounts.add(name, PASSWORD)
    with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
        browser = Browser(client)
        browser.sign_in(name)
        yield browser


def shown_counts(html: str) -> dict[str, int]:
    """The count a page shows for each outcome (its data-outcome cells), in page order."""
    found = re.findall(r'data-outcome="(\w+)">([\d,]+)<', html)
    return {outcome: int(count.replace(",", "")) for outcome, count in found}


def text_of(html: str) -> str:
    """The words a person reads on a page (tags dropped, entities such as &#39; decoded)."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


# ---------------------------------------------------------------- a real `serve` process


def cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`batch-scheduler ARGS...` as a process of its own."""
    return subprocess.run([sys.executable, "-m", "batch_scheduler", *args], env=env,
                          input=stdin, capture_output=True, text=True, timeout=60)  # fmt: skip


@contextmanager
def serving(
    env: dict[str, str], config: Path, port: int, log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`batch-scheduler serve` on `port`, once it answers; its stderr (the log lines of the
    server and of its jobs' children) written to `log`, if given."""
    with ExitStack() as files:
        stderr = files.enter_context(log.open("ab")) if log else subprocess.DEVNULL
        process = subprocess.Popen(
            [sys.executable, "-m", "batch_scheduler", "serve", "--port", str(port), "--config",
             str(config)], env=env, stdout=stderr, stderr=stderr,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(10)
