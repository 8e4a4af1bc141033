"""A sheet written in Welsh books end to end against the sandbox, in either language mode:
Welsh headers, answers and month names read as the English ones, every appointment made
once, at the time the sheet means, for the claimant named (ŵ, ŷ, â and all)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from batch_scheduler import i18n
from batch_scheduler.config import load_settings
from batch_scheduler.models import Outcome
from batch_scheduler.pipeline import RunRequest, run
from batch_scheduler.sandbox import RunningSandbox
from tests.support.sheets import NOW, sheet_rows
from tests.support.welsh import WELSH_NAMES, WELSH_TIMES, welsh_book_sheet, welsh_rows


@pytest.mark.parametrize("language", ["en", "cy"])
def test_a_welsh_sheet_books_end_to_end(
    tmp_path: Path, sandbox: RunningSandbox, language: str
) -> None:
    (tmp_path / "config.toml").write_text('[departments]\n"Budd-daliadau" = 1\nTai = 2\n')
    settings = load_settings(
        config_path=tmp_path / "config.toml",
        env={"BATCH_SCHEDULER_TOKEN": "sandbox-token"},
        overrides={
            "api": {"base_url": sandbox.base_url},
            "root": {"state_dir": tmp_path / "state"},
        },
        need_api=True,
    )
    sheet = welsh_book_sheet(tmp_path / "apwyntiadau.xlsx")
    request = RunRequest("book", sheet, tmp_path / "canlyniadau.xlsx")
    with i18n.use_language(language):
        report = run(request, settings, now=NOW)
    assert report.exit_code == 0, report.issues
    assert report.outcomes == {Outcome.CREATED.value: len(WELSH_NAMES)}
    assert [i.code for i in report.issues] == ["unknown-column"]  # Nodiadau: kept, not sent
    stored = {a["reference"]: a for a in sandbox.appointments()}
    assert [stored[row["Cyfeirnod"]]["claimant"]["name"] for row in welsh_rows()] == list(
        WELSH_NAMES
    )
    london = ZoneInfo("Europe/London")
    booked = [
        datetime.fromisoformat(stored[row["Cyfeirnod"]]["appointment_at"]).astimezone(london)
        for row in welsh_rows()
    ]
    assert [f"{t:%Y-%m-%d %H:%M}" for t in booked] == list(WELSH_TIMES)
    first = stored["CYF-001"]
    assert first["is_interpreter_needed"] is True and first["interpreter_language"] == "Cymraeg"
    results = sheet_rows(tmp_path / "canlyniadau.xlsx")  # the input's columns, echoed as read
    assert [r["Enw'r hawlydd"] for r in results] == list(WELSH_NAMES)
