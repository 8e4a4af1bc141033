"""Playwright over Debian's chromium (never `playwright install`): one browser per test
session, axe-core checks, screenshots saved under test-artefacts/web/ (gitignored)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.system import require_program
from tests.web.helpers import PASSWORD

AXE = Path(__file__).with_name("axe") / "axe.min.js"
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "web"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    executable = require_program("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium: Any) -> Iterator[Any]:
    """new_page(width=1024): a page in a fresh context (its own cookies). axe is injected as
    an inline script, which the page's CSP forbids, so the test contexts bypass CSP."""
    contexts: list[Any] = []

    def make(width: int = 1024) -> Any:
        context = chromium.new_context(
            viewport={"width": width, "height": 900}, accept_downloads=True, bypass_csp=True
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def shot(page: Any, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious or critical WCAG 2.2 AA violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def check_page(page: Any, name: str) -> None:
    """axe finds nothing serious, the page fits 320 px without sideways scrolling... and a
    screenshot for the artefacts."""
    assert axe_violations(page) == [], name
    shot(page, name)


def sign_in(page: Any, base_url: str, name: str = "alice", password: str = PASSWORD) -> None:
    page.goto(base_url + "/")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("button:has-text('Sign in')")


def job_id(page: Any) -> int:
    found = re.search(r"/jobs/(\d+)", page.url)
    assert found, page.url
    return int(found.group(1))
