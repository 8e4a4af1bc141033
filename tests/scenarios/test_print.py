"""Every workbook we write, printed: LibreOffice renders it to PDF and the PDF is measured.

What an ops person printing a sheet would see wrong, as far as a test can see it: too many
pages, columns split across pages (each page must carry the first and the last printed
header: one page wide, header row repeated), text printed over other text (a wrapped cell in
a row too short for it, a cell cut by its neighbour) and text too small to read.
"""

from __future__ import annotations

import subprocess
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

from batch_scheduler.columns import fields_for
from batch_scheduler.demo import write_samples
from batch_scheduler.demo.samples import make_book_rows
from batch_scheduler.output.allocation import (
    BOOK_COLUMNS,
    SLOT_COLUMNS,
    UNPLACED_COLUMNS,
    headed,
)
from batch_scheduler.output.allocation import (
    ISSUE_COLUMNS as PLAN_ISSUE_COLUMNS,
)
from batch_scheduler.output.results import ISSUE_COLUMNS
from batch_scheduler.output.templates import ALTERNATIVES, instruction_titles
from batch_scheduler.sandbox import start_sandbox
from tests.support.cli import cli_env, invoke
from tests.support.sheets import NOW
from tests.support.system import require_program

CONFIG = '[departments]\nBenefits = 1\nHousing = 2\n"Employment support" = 3\n'
WORKBOOKS = ("results", "report", "plan", "template-book", "template-cancel", "template-allocate")


def ends(headers: Sequence[str]) -> tuple[str, str]:
    return headers[0], headers[-1]


def template_headers(kind: str) -> tuple[str, str]:
    return ends([f.header for f in fields_for(kind) if f.name not in ALTERNATIVES])


# sheet -> (first printed header, last printed header): both on every page = one page wide
INSTRUCTIONS = ends(instruction_titles())
HEADERS = {
    "results": {"Results": ("Ref", "attempts"), "Issues": ends(ISSUE_COLUMNS)},
    "report": {"Results": ("Ref", "attempts"), "Issues": ends(ISSUE_COLUMNS)},
    "plan": {
        "Book": ends([f.header for f in BOOK_COLUMNS]),
        "Unplaced": ends(headed(UNPLACED_COLUMNS)[0]),
        "Slots": ends(headed(SLOT_COLUMNS)[0]),
        "Issues": ends(headed(PLAN_ISSUE_COLUMNS)[0]),
        "Summary": ("Item", "Value"),
    },
    "template-book": {"Book": template_headers("book"), "Instructions": INSTRUCTIONS},
    "template-cancel": {"Cancel": template_headers("cancel"), "Instructions": INSTRUCTIONS},
    "template-allocate": {
        "Claimants": template_headers("claimants"),
        "Slots": template_headers("slots"),
        "Instructions": INSTRUCTIONS,
    },
}
# the most pages each sheet may take, and the smallest text it may print (points)
MOST_PAGES = {"Results": 2, "Summary": 1, "Issues": 2, "Instructions": 3}
SMALLEST = {"Results": 3.0, "Book": 2.5, "Claimants": 2.5}  # 20-odd columns a page; others:
READABLE = 7.0


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample week booked, validated and planned, and the three templates, as PDFs."""
    soffice = require_program("soffice")
    folder = tmp_path_factory.mktemp("print")
    env = cli_env(folder, CONFIG)
    samples = write_samples(folder / "in", NOW.date())
    config = ("--config", folder / "config.toml")
    with start_sandbox() as sandbox:
        made(env, "book", samples["book.xlsx"], "--out", folder / "results.xlsx", *config,
               "--base-url", sandbox.base_url)  # fmt: skip
    made(env, "validate", samples["book.xlsx"], "--report", folder / "report.xlsx", *config)
    made(env, "allocate", samples["allocate_sample.xlsx"], "--out", folder / "plan.xlsx",
           *config)  # fmt: skip
    for kind in ("book", "cancel", "allocate"):
        made(env, "template", folder / f"template-{kind}.xlsx", "--kind", kind, *config)
    books = [folder / f"{name}.xlsx" for name in WORKBOOKS]
    profile = (folder / "lo-profile").as_uri()  # its own, so parallel runs do not clash
    command = [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf"]
    subprocess.run([*command, "--outdir", str(folder), *map(str, books)], check=True,
                   capture_output=True, timeout=300)  # fmt: skip
    return {name: folder / f"{name}.pdf" for name in WORKBOOKS}


def made(env: dict[str, str], *args: object) -> None:
    """Run a command that writes a workbook; 1 is fine: the sample has mistakes on purpose."""
    result = invoke(env, *args)
    assert result.exit_code in (0, 1), result.output


def pages_by_sheet(path: Path) -> dict[str, list[Any]]:
    """The PDF's pages grouped by sheet, named by the footer each page carries."""
    found: dict[str, list[Any]] = defaultdict(list)
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            footer = [w for w in page.extract_words() if w["top"] > page.height - 50]
            sheet = min(footer, key=lambda w: w["x0"])["text"] if footer else "?"
            found[sheet].append(page)
    return found


def overlaps(page: Any) -> Iterator[str]:
    """Characters printed over each other (by more than a quarter of the smaller one)."""
    chars = sorted((c for c in page.chars if c["text"].strip()), key=lambda c: c["x0"])
    active: list[Any] = []
    for char in chars:
        active = [a for a in active if a["x1"] > char["x0"]]
        for other in active:
            wide = min(other["x1"], char["x1"]) - max(other["x0"], char["x0"])
            tall = min(other["bottom"], char["bottom"]) - max(other["top"], char["top"])
            small = min(char["x1"] - char["x0"], other["x1"] - other["x0"])
            if wide > small / 4 and tall > min(char["size"], other["size"]) / 4:
                where = f"({char['x0']:.0f}, {char['top']:.0f})"
                yield f"{other['text']!r} and {char['text']!r} at {where}"
        active.append(char)


@pytest.mark.parametrize("name", WORKBOOKS)
def test_each_sheet_prints_one_page_wide_readable_and_without_overlaps(
    printed: dict[str, Path], name: str
) -> None:
    sheets = pages_by_sheet(printed[name])
    assert set(HEADERS[name]) <= set(sheets), f"sheets printed: {sorted(sheets)}"
    for sheet, pages in sheets.items():
        assert len(pages) <= MOST_PAGES.get(sheet, 3), (sheet, len(pages))
        smallest = SMALLEST.get(sheet, READABLE)
        for number, page in enumerate(pages, 1):
            where = f"{name}: {sheet} page {number}"
            text = page.extract_text()
            first, last = HEADERS[name].get(sheet, ("", ""))
            assert first in text and last in text, f"{where} lacks a column: {first}..{last}"
            assert min(c["size"] for c in page.chars) >= smallest, where
            found = list(overlaps(page))
            assert not found, f"{where}: text over text: {found[:5]}"
            if sheet not in ("Summary",):
                assert page.width > page.height, f"{where} is not landscape"


def test_the_results_sheet_of_the_40_row_sample_is_one_page_wide(printed: dict[str, Path]) -> None:
    pages = pages_by_sheet(printed["results"])["Results"]
    assert len(pages) <= 2
    words = {w["text"] for page in pages for w in page.extract_words()}
    names = [str(row["Claimant Name"]) for row in make_book_rows(NOW.date())]
    assert len(names) == 40
    assert all(part in words for name in names for part in name.split())  # every row
    error = "Format the column as Text and type the number again."  # ends a long error
    assert set(error.split()) <= words  # wrapped in its cell, not cut off
