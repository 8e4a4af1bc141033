"""The page in a real browser (Playwright driving Debian's chromium) against the sandbox with
faults on: the scenarios of issue 14, axe on every page, screenshots as test artefacts."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from batch_scheduler.sandbox import SandboxConfig
from batch_scheduler.web import RunningWeb
from tests.support.hostile_files import old_xls
from tests.support.sheets import sheet_rows
from tests.web.browser import axe_violations, check_page, job_id, shot, sign_in
from tests.web.helpers import (
    PASSWORD,
    SAMPLE_BOOK,
    SAMPLE_BOOKED,
    SAMPLE_CODES,
    SAMPLE_INVALID,
    SAMPLE_VALID,
    make_context,
)

CREATED_SO_FAR = "parseInt(document.querySelector('[data-count=created]')?.textContent || '0')"
FAULTS = SandboxConfig(seed=11, latency=0.02, latency_jitter=0.02, error_rate=0.1, drop_rate=0.05)


def slow_context(tmp_path: Path, base_url: str, rate: float = 12.0) -> Any:
    """A page whose sends take a few seconds (so a test can act mid-run)."""
    context = make_context(tmp_path / "state", base_url)
    context.settings = dataclasses.replace(
        context.settings, send=dataclasses.replace(context.settings.send, rate=rate)
    )
    context.accounts.add("alice", PASSWORD)
    context.accounts.add("bob", PASSWORD)
    return context


def counts(page: Any) -> dict[str, int]:
    cells = page.locator("[data-count]")
    return {
        cells.nth(i).get_attribute("data-count"): int(
            cells.nth(i).inner_text().split()[0].replace(",", "")
        )
        for i in range(cells.count())
    }


def test_book_the_sample_then_its_fixed_rows(
    tmp_path: Path, sandbox_factory: Any, new_page: Any
) -> None:
    sandbox = sandbox_factory(FAULTS)
    context = slow_context(tmp_path, sandbox.base_url)
    with RunningWeb(context) as web:
        page = new_page()
        page.goto(web.url + "/jobs")
        assert "/sign-in" in page.url
        check_page(page, "01-sign-in")
        sign_in(page, web.url)
        check_page(page, "02-upload")
        page.set_input_files("#file", str(SAMPLE_BOOK))
        page.click("button:has-text('Upload and check')")
        page.wait_for_url("**/check")
        summary = page.locator(".govuk-error-summary").inner_text()
        for code, count in SAMPLE_CODES.items():
            assert f"{count} × {code}" in summary
        assert page.locator("#issues tbody tr").count() == sum(SAMPLE_CODES.values())
        check_page(page, "03-check")
        page.click("#continue")
        assert page.inner_text("#to-send") == str(SAMPLE_VALID)
        assert page.inner_text("#plan [data-outcome=invalid]") == str(SAMPLE_INVALID)
        check_page(page, "04-confirm")
        page.click("#send")
        page.wait_for_url(f"**/jobs/{job_id(page)}")
        page.wait_for_function(CREATED_SO_FAR + " > 0")
        check_page(page, "05-progress")
        before = counts(page)
        page.reload()  # mid-run: the same job, counts never go back
        if page.locator("[data-count]").count():
            assert counts(page)["created"] >= before["created"]
        other = page.context.new_page()  # a second tab
        other.goto(page.url)
        assert other.locator("#progress-panel, #outcomes").count() == 1
        page.wait_for_selector("#outcomes", timeout=30_000)
        assert page.inner_text("[data-outcome=created]") == str(SAMPLE_VALID)
        check_page(page, "06-results")
        with page.expect_download() as download:
            page.click("a[href$='/files/results.xlsx']")
        download.value.save_as(tmp_path / "results.xlsx")
        with page.expect_download() as download:
            page.click("a[href$='/files/fix.xlsx']")
        download.value.save_as(tmp_path / "fix.xlsx")

        stored = {a["reference"]: a for a in sandbox.appointments()}
        lines = sheet_rows(tmp_path / "results.xlsx")
        assert Counter(line["outcome"] for line in lines) == SAMPLE_BOOKED
        for line in lines:
            if line["outcome"] == "created":
                record = stored[line["reference"]]
                assert line["appointment_id"] == record["id"]
                assert line["status"] == record["status"] == "scheduled"
                assert line["meeting_url"] == record["url"]
            else:
                assert line["appointment_id"] is None and line["error"]

        fix = load_workbook(tmp_path / "fix.xlsx")
        sheet = fix["Rows to fix"]
        repaired = 0
        for row in sheet.iter_rows(min_row=2):
            if row[6].value == "ffion.hughes@@example.org":
                row[6].value, repaired = "ffion.hughes@example.org", repaired + 1
            if isinstance(row[5].value, int | float):  # the phones Excel mangled
                row[5].value, repaired = "07400 900123", repaired + 1
        fix.save(tmp_path / "fixed.xlsx")
        assert repaired == 3

        page.goto(f"{web.url}/jobs/{job_id(page)}/check")
        page.set_input_files("#file", str(tmp_path / "fixed.xlsx"))
        page.click("button:has-text('Upload and check again')")
        page.wait_for_url("**/check")
        assert "3 problems fixed, 0 new" in page.inner_text("#comparison")
        check_page(page, "07-check-again")
        page.click("#continue")
        assert page.inner_text("#to-send") == "3"
        page.click("#send")
        page.wait_for_selector("#outcomes", timeout=30_000)
        assert page.inner_text("[data-outcome=created]") == "3"
        page.goto(web.url + "/jobs")
        check_page(page, "08-history")
        page.goto(web.url + "/audit")
        check_page(page, "09-audit")
    references = Counter(a["reference"] for a in sandbox.appointments())
    assert len(references) == SAMPLE_VALID + 3 and set(references.values()) == {1}  # once


def test_two_people_press_book_together(
    tmp_path: Path, sandbox_factory: Any, new_page: Any
) -> None:
    sandbox = sandbox_factory(FAULTS)
    context = slow_context(tmp_path, sandbox.base_url, rate=200)
    with RunningWeb(context) as web:
        alice, bob = new_page(), new_page()
        sign_in(alice, web.url, "alice")
        alice.set_input_files("#file", str(SAMPLE_BOOK))
        alice.click("button:has-text('Upload and check')")
        alice.click("#continue")
        sign_in(bob, web.url, "bob")
        bob.goto(alice.url)
        # both pages show the same "Book … appointments"; press both before either answers
        alice.click("#send", no_wait_after=True)
        bob.click("#send", no_wait_after=True)
        for page in (alice, bob):
            page.wait_for_selector("#outcomes", timeout=30_000)
            assert page.inner_text("[data-outcome=created]") == str(SAMPLE_VALID)
    references = Counter(a["reference"] for a in sandbox.appointments())
    assert len(references) == SAMPLE_VALID and set(references.values()) == {1}


def test_lock_out_csrf_and_hostile_file(tmp_path: Path, new_page: Any) -> None:
    context = make_context(tmp_path / "state", None)
    context.accounts.add("alice", PASSWORD)
    with RunningWeb(context) as web:
        page = new_page()
        for _ in range(5):
            sign_in(page, web.url, password="not the password")
        assert "too many failed attempts" in page.inner_text(".govuk-error-summary")
        check_page(page, "10-locked-out")
        context.accounts.set_password("alice", PASSWORD)  # lifts the lock, as the CLI does
        sign_in(page, web.url)
        page.set_input_files("#file", str(old_xls(tmp_path)))
        page.click("button:has-text('Upload and check')")
        assert "Excel 97-2003" in page.inner_text(".govuk-error-summary")
        assert page.locator("#file-error").is_visible()
        check_page(page, "11-hostile-file")
        page.locator("form[action='/upload'] input[name=csrf_token]").evaluate(
            "e => e.value = 'forged'"
        )
        page.set_input_files("#file", str(SAMPLE_BOOK))
        page.click("button:has-text('Upload and check')")
        assert page.locator("#csrf-refused").is_visible()
        check_page(page, "12-csrf-refused")
        assert context.jobs.recent(1)[0].state.value == "refused"  # only the hostile file


def test_keyboard_only_and_320_px(tmp_path: Path, new_page: Any) -> None:
    context = make_context(tmp_path / "state", None)
    context.accounts.add("alice", PASSWORD)
    with RunningWeb(context) as web:
        page = new_page(width=320)
        page.goto(web.url + "/")
        page.keyboard.press("Tab")  # the skip link comes first
        assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
        page.focus("#name")
        page.keyboard.type("alice")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_selector("#file")
        page.focus("#kind-cancel")
        page.keyboard.press("Space")
        assert page.is_checked("#kind-cancel")
        for path, name in (
            ("/", "13-upload-320px"),
            ("/jobs", "14-history-320px"),
            ("/audit", "15-audit-320px"),
        ):
            page.goto(web.url + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
            assert axe_violations(page) == []
            shot(page, name)
