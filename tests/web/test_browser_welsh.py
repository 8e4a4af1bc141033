"""The page in Welsh in a real browser (Debian's chromium): switched before sign-in, kept
after it, lang="cy" on the document, and axe run on each Welsh page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from batch_scheduler.web import RunningWeb
from tests.web.browser import check_page
from tests.web.helpers import PASSWORD, SAMPLE_BOOK, make_context


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
