"""A sheet written in Welsh books end to end against the sandbox, in either language mode:
Welsh headers, answers and month names read as the English ones, every appointment made
once, at the time the sheet means, for the claimant named (ŵ, ŷ, â and all)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from batch_scheduler import i18n
from batch_scheduler.config import load_settings
from batch_scheduler.models import Outcome
from batch_scheduler.pipeline import RunRequest, run
from batch_scheduler.sandbox import RunningSandbox
from tests.support.cli import invoke
from tests.support.sheets import NOW, sheet_rows
from tests.support.welsh import (
    WELSH_NAMES,
    WELSH_TIMES,
    english_left,
    welsh_book_sheet,
    welsh_rows,
)


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
    sheet = "Canlyniadau" if language == "cy" else "Results"  # named in the run's language
    results = sheet_rows(tmp_path / "canlyniadau.xlsx", sheet)  # the input's columns, as read
    assert [r["Enw'r hawlydd"] for r in results] == list(WELSH_NAMES)


CONFIG = '[departments]\n"Budd-daliadau" = 1\nTai = 2\n'


def counted(stdout: str) -> dict[str, int]:
    """The counts a run prints under its first line ("  wedi'i drefnu   6"), by word."""
    lines = stdout.splitlines()[1:]
    found = {}
    for line in lines:
        if not line.startswith("  "):
            break
        word, count = line.strip().rsplit(maxsplit=1)
        found[word] = int(count)
    return found


def test_a_welsh_sheet_validated_booked_and_cancelled_through_the_cli_in_welsh(
    sandbox: RunningSandbox, tmp_path: Path, env: dict[str, str]
) -> None:
    env = {**env, "BATCH_SCHEDULER_LANG": "cy"}
    config = ("--config", tmp_path / "config.toml", "--base-url", sandbox.base_url)
    sheet = welsh_book_sheet(tmp_path / "apwyntiadau.xlsx")
    rows = len(WELSH_NAMES)

    checked = invoke(env, "validate", sheet, "--config", tmp_path / "config.toml")
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.startswith(f"validate: {rows} o resi\n")
    assert counted(checked.stdout) == {"dilys": rows}
    assert "[rhybudd] Colofn M (Nodiadau):" in checked.stdout  # kept, not sent

    booked = invoke(env, "book", sheet, "--out", tmp_path / "canlyniadau.xlsx", *config,
                    "--summary-json", tmp_path / "crynodeb.json")  # fmt: skip
    assert booked.exit_code == 0, booked.output
    assert counted(booked.stdout) == {"wedi'i drefnu": rows}
    assert booked.stdout.rstrip().endswith(f"Wedi ysgrifennu {tmp_path / 'canlyniadau.xlsx'}")
    words = [line for line in booked.stdout.splitlines() if not line.startswith("  ")]
    assert english_left("\n".join(words), [tmp_path, "book", "Nodiadau"]) == set()
    summary = json.loads((tmp_path / "crynodeb.json").read_text())
    assert summary["counts"]["outcomes"] == {"created": rows}  # for programs: stable names
    results = load_workbook(tmp_path / "canlyniadau.xlsx")
    assert results.sheetnames == ["Canlyniadau", "Crynodeb", "Problemau"]
    shown = sheet_rows(tmp_path / "canlyniadau.xlsx", "Canlyniadau")
    assert [r["Canlyniad"] for r in shown] == ["wedi'i drefnu"] * rows
    assert [r["Enw'r hawlydd"] for r in shown] == list(WELSH_NAMES)

    reason = ("--reason", "Dim angen mwyach")
    cancelled = invoke(env, "cancel", tmp_path / "canlyniadau.xlsx", "--out",
                       tmp_path / "canslo.xlsx", *reason, *config)  # fmt: skip
    assert cancelled.exit_code == 0, cancelled.output
    assert counted(cancelled.stdout) == {"wedi'i ganslo": rows}
    assert {a["status"] for a in sandbox.appointments()} == {"cancelled"}
    assert len(sandbox.appointments()) == rows  # each booked once, then cancelled
    again = invoke(env, "cancel", tmp_path / "canlyniadau.xlsx", "--out",
                   tmp_path / "canslo-eto.csv", *config)  # fmt: skip
    assert again.exit_code == 0 and counted(again.stdout) == {"wedi'i ganslo eisoes": rows}
    # the Welsh results workbook is read the same by a run in English: its words are ours
    english = invoke(env, "cancel", tmp_path / "canlyniadau.xlsx", "--out",
                     tmp_path / "cancel-en.xlsx", "--lang", "en", *config)  # fmt: skip
    assert english.exit_code == 0, english.output
    assert counted(english.stdout) == {"already_cancelled": rows}
    assert load_workbook(tmp_path / "cancel-en.xlsx").sheetnames == ["Results", "Summary", "Issues"]
    with (tmp_path / "canslo-eto.csv").open(encoding="utf-8-sig") as handle:
        header = handle.readline()
    assert header.rstrip().endswith("source_row,outcome,reference,appointment_id,status,"
                                    "appointment_at_utc,error,attempts,meeting_url")  # fmt: skip
