"""Results as CSV (--out/--report ending in .csv): same columns, nothing a spreadsheet would run."""

from __future__ import annotations

import csv
import stat
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from batch_scheduler.columns import RESULT_COLUMNS
from batch_scheduler.models import Issue, Outcome, ResultLine, Severity
from batch_scheduler.output import write_results
from batch_scheduler.output.results_csv import csv_cell, neutralise
from tests.support.cli import invoke
from tests.support.results import created, make_table
from tests.support.sheets import NOW, book_row, write_xlsx

HOSTILE = {
    '=HYPERLINK("http://evil.example","click")': '\'=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0": "'+cmd|' /C calc'!A0",
    "@SUM(1)": "'@SUM(1)",
    "-2+3": "'-2+3",
    "\t=1+1": "'\t=1+1",
    "\r=1+1": "'\r=1+1",
    "=1": "'=1",
    "+": "'+",
}
KEPT = ("+447400900123", "-12.5", "+12", "-0.5e3", "07400 900123", "a=1", " =1", "", "1+1")


@pytest.mark.parametrize(("text", "safe"), HOSTILE.items())
def test_formula_starts_get_an_apostrophe(text: str, safe: str) -> None:
    assert neutralise(text) == safe


@pytest.mark.parametrize("text", KEPT)
def test_numbers_phones_and_ordinary_text_stay_byte_for_byte(text: str) -> None:
    assert neutralise(text) == text


def test_cells_are_written_plainly() -> None:
    assert [csv_cell(v) for v in (None, float("nan"), True, 42, 30.0, 3.25, -12.5)] == [
        "", "", "TRUE", "42", "30", "3.25", "-12.5",
    ]  # fmt: skip
    assert csv_cell(datetime(2030, 1, 2, 9, 30)) == "2030-01-02 09:30"
    assert csv_cell(datetime(2030, 1, 2, 9, 30, 15)) == "2030-01-02 09:30:15"
    assert csv_cell(date(1985, 2, 14)) == "1985-02-14"
    assert csv_cell(time(14, 30)) == "14:30"


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, so Excel reads accents right
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_results_csv_keeps_columns_order_and_neutralises(tmp_path: Path) -> None:
    hostile = list(HOSTILE)
    table = make_table(
        {
            "Name": hostile,
            "Phone": ["+447400900123"] * len(hostile),
            "Amount": ["-12.5"] * len(hostile),
            "When": [datetime(2030, 1, 2, 9, 30)] * len(hostile),
        },
        headers=["Name", "Phone", "=Amount", "When"],
    )
    lines = [created(j) for j in range(len(hostile))]
    lines[1] = ResultLine(Outcome.REJECTED, error="=cmd said no", attempts=2)
    issues = [Issue("invalid-phone", Severity.ERROR, "Check it.", row=4, column="B")]
    path = tmp_path / "results.csv"
    write_results(path, table=table, lines=lines, issues=issues, summary={"command": "book"})

    rows = read_csv(path)
    # the Results sheet's columns, in its order: the input's, then source_row and ours
    assert rows[0] == ["Name", "Phone", "'=Amount", "When", "source_row", *RESULT_COLUMNS]
    assert len(rows) == 1 + len(hostile)  # no blank lines for the input's blank rows
    assert [r[0] for r in rows[1:]] == list(HOSTILE.values())
    assert {r[1] for r in rows[1:]} == {"+447400900123"}  # E.164 kept byte for byte
    assert {r[2] for r in rows[1:]} == {"-12.5"}
    assert rows[1][:5] == [rows[1][0], "+447400900123", "-12.5", "2030-01-02 09:30", "2"]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["outcome"] == "created" and first["appointment_at_utc"] == "2030-03-04 09:00"
    assert first["meeting_url"] == "https://meet.example.org/c/0" and first["attempts"] == "1"
    second = dict(zip(rows[0], rows[2], strict=True))
    assert (second["outcome"], second["error"], second["attempts"]) == (
        "rejected", "'=cmd said no", "2",
    )  # fmt: skip
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_validate_report_as_csv_from_the_command_line(tmp_path: Path) -> None:
    rows = [book_row(0), book_row(1, Phone="+447400900123"), book_row(2, Email="bad")]
    rows[0]["Notes"] = '=HYPERLINK("http://evil.example","x")'
    sheet = write_xlsx(tmp_path / "in.xlsx", rows)
    (tmp_path / "c.toml").write_text("[departments]\nBenefits = 1\n")
    report = tmp_path / "report.csv"
    env: dict[str, Any] = {"BATCH_SCHEDULER_NOW": NOW.isoformat()}
    argv = ["validate", str(sheet), "--report", str(report), "--config", str(tmp_path / "c.toml")]
    result = invoke(env, *argv)

    assert result.exit_code == 1, result.output
    got = read_csv(report)
    header = got[0]
    assert header[: len(rows[0]) + 1] == [*rows[0], "source_row"]
    by_name = [dict(zip(header, r, strict=True)) for r in got[1:]]
    assert [r["Reference"] for r in by_name] == ["REF-00000", "REF-00001", "REF-00002"]
    assert by_name[0]["Notes"] == '\'=HYPERLINK("http://evil.example","x")'
    assert by_name[1]["Phone"] == "+447400900123"
    assert [r["outcome"] for r in by_name] == ["valid", "valid", "invalid"]
    assert "mail" in by_name[2]["error"].lower()
    assert datetime.fromisoformat(by_name[0]["Appointment"]).tzinfo is None
