"""The page in Welsh in a real browser (Debian's chromium): switched before sign-in, kept
after it, lang="cy" on the document, and axe run on each Welsh page."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from batch_scheduler.sandbox import SandboxConfig
from batch_scheduler.web import RunningWeb
from tests.support.hostile_files import old_xls
from tests.support.welsh import english_left
from tests.web.browser import check_page
from tests.web.helpers import (
    PASSWORD,
    SAMPLE_BOOK,
    SAMPLE_CODES,
    SAMPLE_INVALID,
    SAMPLE_VALID,
    make_context,
)
from tests.web.test_browser import CREATED_SO_FAR


def test_switch_to_cymraeg_and_check_a_sheet_in_welsh(tmp_path: Path, new_page: Any) -> None:
    context = make_context(tmp_path / "state", None)
    context.accounts.add("alice", PASSWORD)
    with RunningWeb(context) as web:
        page = new_page()
        page.goto(web.url + "/")
        assert page.evaluate("document.documentElement.lang") == "en"
        page.click("#language-switch button[value=cy]")
        page.wait_for_selector("h1:text-is('Mewngofnodi')")
        assert page.evaluate("document.documentElement.lang") == "cy"
        check_page(page, "20-cy-sign-in")
        page.fill("#name", "alice")
        page.fill("#password", PASSWORD)
        page.click("main button:has-text('Mewngofnodi')")
        assert page.inner_text("h1") == "Uwchlwytho taflen"
        assert page.evaluate("document.documentElement.lang") == "cy"
        assert page.inner_text(".bs-languages [aria-current]") == "Cymraeg"
        check_page(page, "21-cy-upload")
        page.set_input_files("#file", str(SAMPLE_BOOK))
        page.click("button:has-text('Uwchlwytho a gwirio')")
        page.wait_for_url("**/check")
        assert page.inner_text("h1") == "Gwirio: book.xlsx"
        assert "o resi na ellir eu hanfon" in page.inner_text(".govuk-error-summary")
        check_page(page, "22-cy-check")
        page.click("#language-switch button[value=en]")  # back, on the same page
        page.wait_for_url("**/check")
        assert page.inner_text("h1") == "Check: book.xlsx"
        assert page.evaluate("document.documentElement.lang") == "en"


def test_the_whole_flow_in_welsh_with_the_library_s_words_in_welsh(
    tmp_path: Path, sandbox_factory: Any, new_page: Any
) -> None:
    """Sign in, upload, check, confirm, progress, results, history, an allocation and a file
    refused: every page Welsh (lang="cy", axe clean), and what the library says on them (issue
    messages, reasons, plan counts, a refusal, our sheets' names) Welsh too."""
    sandbox = sandbox_factory(SandboxConfig())  # no latency: the rate below paces the send
    # what a Welsh message may quote in English: the sample's headers, codes, the time zone
    headers = [str(c.value) for c in load_workbook(SAMPLE_BOOK).worksheets[0][1]]
    quotable = [*headers, *SAMPLE_CODES, "Europe/London"]
    context = make_context(tmp_path / "state", sandbox.base_url)
    context.settings = dataclasses.replace(
        context.settings, send=dataclasses.replace(context.settings.send, rate=10.0)
    )
    context.accounts.add("alice", PASSWORD)
    with RunningWeb(context) as web:
        page = new_page()
        page.goto(web.url + "/")
        page.click("#language-switch button[value=cy]")
        page.wait_for_selector("h1:text-is('Mewngofnodi')")
        page.fill("#name", "alice")
        page.fill("#password", PASSWORD)
        page.click("main button:has-text('Mewngofnodi')")
        hint = page.inner_text("#file-hint")
        assert "taflen Hawlwyr a thaflen Slotiau" in hint  # our sheets, by their Welsh names
        check_page(page, "30-cy-upload")

        page.set_input_files("#file", str(SAMPLE_BOOK))
        page.click("button:has-text('Uwchlwytho a gwirio')")
        page.wait_for_url("**/check")
        rows = page.locator("#issues tbody tr")
        assert rows.count() == sum(SAMPLE_CODES.values())
        for i in range(rows.count()):
            cells = rows.nth(i).locator("td")
            message = cells.nth(3).inner_text()
            quoted = [cells.nth(1).inner_text(), cells.nth(2).inner_text()]
            assert message.startswith(("Gwall", "Rhybudd")), message
            assert english_left(message, [*quoted, *quotable]) == set(), message
        check_page(page, "31-cy-check")

        page.click("#continue")
        assert page.inner_text("h1") == "Cadarnhau: book.xlsx"
        assert page.inner_text("#to-send") == str(SAMPLE_VALID)
        assert page.inner_text("#plan [data-outcome=invalid]") == str(SAMPLE_INVALID)
        check_page(page, "32-cy-confirm")

        page.click("#send")
        page.wait_for_function(CREATED_SO_FAR + " > 0")
        if page.locator("#progress-panel").count():  # still sending: the progress page
            assert page.inner_text("#progress-status").startswith("Rhesi wedi'u gwneud: ")
            check_page(page, "33-cy-progress")
        page.wait_for_selector("#outcomes", timeout=30_000)
        outcomes = page.inner_text("#outcomes")
        assert "wedi'i drefnu" in outcomes and "annilys" in outcomes  # the workbook's words
        assert page.inner_text("[data-outcome=created]") == str(SAMPLE_VALID)
        reasons = page.locator("#failed-rows tbody tr td:nth-child(4)").all_inner_texts()
        assert len(reasons) == SAMPLE_INVALID
        for reason in reasons:
            assert reason.startswith("Rhes ") and english_left(reason, quotable) == set()
        check_page(page, "34-cy-results")
        with page.expect_download() as download:
            page.click("a[href$='/files/results.xlsx']")
        download.value.save_as(tmp_path / "canlyniadau.xlsx")
        assert load_workbook(tmp_path / "canlyniadau.xlsx").sheetnames[0] == "Canlyniadau"

        page.goto(web.url + "/jobs")
        assert page.inner_text("h1") == "Hanes"
        check_page(page, "35-cy-history")

        page.goto(web.url + "/")
        page.check("#kind-allocate")
        page.set_input_files("#file", str(SAMPLE_BOOK.with_name("allocate_sample.xlsx")))
        page.click("button:has-text('Uwchlwytho a gwirio')")
        page.wait_for_url("**/check")
        counts = page.inner_text("#counts")
        assert "Wedi cael lle" in counts and "Heb le: " in counts  # the plan's counts
        assert "placed" not in counts and "usable" not in counts
        check_page(page, "36-cy-allocate-check")

        page.goto(web.url + "/")
        page.set_input_files("#file", str(old_xls(tmp_path)))
        page.click("button:has-text('Uwchlwytho a gwirio')")
        refused = page.inner_text(".govuk-error-summary")
        assert "Excel 97-2003" in refused and "nid ydym yn darllen" in refused  # the library's
        check_page(page, "37-cy-refused")
