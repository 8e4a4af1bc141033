"""Shared helpers of the web page's tests: a page over a real sandbox, signed-in clients."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from starlette.testclient import TestClient

from batch_scheduler.config import ApiSettings, Secret, SendSettings, Settings
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


def library_settings(state_dir: Path, base_url: str | None) -> Settings:
    """The samples' config (as their README says to run them), a quick send, the sandbox."""
    api = ApiSettings(base_url=base_url, token=Secret("sandbox-token")) if base_url else None
    send = SendSettings(rate=500, concurrency=8, backoff_initial=0.02, backoff_max=0.1,
                        retry_after_floor=0.05, jitter=False)  # fmt: skip
    return dataclasses.replace(sample_settings(), api=api, send=send, state_dir=state_dir)


def make_context(
    state_dir: Path, base_url: str | None, web: WebSettings | None = None, **fields: Any
) -> WebContext:
    context = WebContext(
        settings=library_settings(state_dir, base_url),
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
    """A TestClient that signs in and remembers the page's CSRF token."""

    def __init__(self, client: TestClient) -> None:
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
