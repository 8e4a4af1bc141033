"""intake.sheet_names: the sheets a person may pick instead (the web page offers them)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from batch_scheduler.intake import sheet_names


def workbook(path: Path) -> Path:
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "Week 1"
    book.create_sheet("Old rows").sheet_state = "hidden"
    book.create_sheet("Week 2")
    book.create_chartsheet("Chart")
    book.save(path)
    return path


def test_the_visible_worksheets_in_order(tmp_path: Path) -> None:
    assert sheet_names(workbook(tmp_path / "book.xlsx")) == ["Week 1", "Week 2"]


def test_the_bytes_decide_not_the_name(tmp_path: Path) -> None:
    """As read_table: a workbook saved as .csv is still a workbook; CSV text has no sheets."""
    renamed = workbook(tmp_path / "book.xlsx").rename(tmp_path / "book.csv")
    text = tmp_path / "text.xlsx"
    text.write_text("Reference,Claimant name\nREF-1,Someone\n")

    assert sheet_names(renamed) == ["Week 1", "Week 2"]
    assert sheet_names(text) == []
