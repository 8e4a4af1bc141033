"""What we ship: sample_data/ and templates/ report exactly their documented mistakes, their
dates stay in the future, and nothing we ship holds a phone number outside Ofcom's drama
ranges. The shipped files are the generators' output, byte for byte."""

from __future__ import annotations

import csv
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
import xlsxwriter
from openpyxl import load_workbook

from batch_scheduler import i18n
from batch_scheduler.allocate import AllocateRequest, allocate
from batch_scheduler.columns import fold_label
from batch_scheduler.columns.words import sheet_titles
from batch_scheduler.config import Settings
from batch_scheduler.demo import CONFIG_NAME, write_fresh_samples, write_samples
from batch_scheduler.demo.samples import write_shipped_samples
from batch_scheduler.output import write_template
from batch_scheduler.output.templates import DATA_SHEETS
from batch_scheduler.pipeline import RunRequest, run
from tests.support.cli import invoke
from tests.support.samples_table import (
    MADE_NOW,
    REPO,
    SAMPLES,
    Where,
    documented,
    documented_codes,
    documented_invalid_rows,
    sample_settings,
)
from tests.support.sheets import NOW

TEMPLATES = REPO / "templates"
SHEETS = {  # every sample sheet we ship, and what it is for
    "book.xlsx": "book",
    "book.csv": "book",
    "cancel.csv": "cancel",
    "allocate_sample.xlsx": "allocate",
}
FRESH_FOR = timedelta(days=365)  # the shipped dates must stay in the future this much longer
REGENERATE = "regenerate with: .venv/bin/python sample_data/make_samples.py"


def reported(path: Path, kind: str, now: datetime, tmp_path: Path) -> set[Where]:
    """Every issue (and, for allocate, every reason someone is left out) for one sheet."""
    settings = sample_settings()
    if kind == "allocate":
        report = allocate(AllocateRequest(path, tmp_path / "plan.xlsx"), settings, now=now)
        issues = {(sheet, i.row, i.code) for sheet, i in report.issues}
        return issues | {("Claimants", u.claimant.row, str(u.reason)) for u in report.plan.unplaced}
    result = run(RunRequest("validate", path, kind=kind), settings, now=now)
    return {("", i.row, i.code) for i in result.issues}


def test_the_readme_documents_mistakes_for_every_sheet_but_cancel() -> None:
    assert {name for name in SHEETS if documented(name)} == set(SHEETS) - {"cancel.csv"}
    assert ("", 26, "in-past") in documented("book.xlsx")


def test_the_shipped_samples_are_the_generators_output(tmp_path: Path) -> None:
    written = write_shipped_samples(tmp_path)

    shipped = {p.name for p in SAMPLES.iterdir() if p.suffix in (".xlsx", ".csv", ".toml")}
    assert shipped == set(written) == {*SHEETS, CONFIG_NAME}
    for name, path in written.items():
        assert path.read_bytes() == (SAMPLES / name).read_bytes(), f"{name}: {REGENERATE}"


def the_first_shipped_date() -> date:
    return min(d for dates in shipped_dates().values() for d in dates)


@pytest.mark.parametrize("when", ["made", "a year before the first slot"])
@pytest.mark.parametrize("name", list(SHEETS))
def test_each_shipped_sample_reports_exactly_its_documented_mistakes(
    tmp_path: Path, name: str, when: str
) -> None:
    # Both ends of the time the freshness test allows: what it reports at any real date then.
    if when == "made":
        now = MADE_NOW
    else:
        now = datetime.combine(the_first_shipped_date() - FRESH_FOR, time(12), tzinfo=UTC)
    assert reported(SAMPLES / name, SHEETS[name], now, tmp_path) == documented(name)


def test_fresh_samples_report_the_same_mistakes(tmp_path: Path) -> None:
    now = datetime(2031, 1, 8, 10, tzinfo=UTC)
    paths = write_fresh_samples(tmp_path / "fresh", now)
    for name, kind in SHEETS.items():
        assert reported(paths[name], kind, now, tmp_path) == documented(name), name


# ---------------------------------------------------------------- the examples in the templates


def template_examples(path: Path) -> dict[str, dict[str, str]]:
    """Data sheet -> {header: example} from a template's Instructions sheet, in the language
    the template is written in (its Instructions sheet's name says which)."""
    book = load_workbook(path)
    language = "cy" if "Cyfarwyddiadau" in book.sheetnames else "en"
    with i18n.use_language(language):
        names = sheet_titles()
        titled = i18n.gettext("{sheet} sheet")
        titles = {titled.format(sheet=ws.title): ws.title for ws in book.worksheets}
    examples: dict[str, dict[str, str]] = {}
    sheet = book.worksheets[0].title
    for row in book[names["Instructions"]].iter_rows(min_row=2, values_only=True):
        if row[0] in titles and not row[4]:
            sheet = titles[str(row[0])]  # the title row of the next data sheet
        elif row[0] and row[4]:
            examples.setdefault(sheet, {})[str(row[0])] = str(row[4])
    return examples


@pytest.mark.parametrize("language", ["en", "cy"])
@pytest.mark.parametrize("kind", list(DATA_SHEETS))
def test_a_template_filled_with_its_own_examples_is_clean(
    tmp_path: Path, kind: str, language: str
) -> None:
    """templates/ and templates/cy/ (`template OUT.xlsx --lang cy`): their own examples make
    a row that validates clean, in either language mode (a Welsh sheet reads as written)."""
    shipped = TEMPLATES / ("cy" if language == "cy" else "") / f"{kind}.xlsx"
    examples = template_examples(shipped)
    book = load_workbook(shipped)
    for sheet, values in examples.items():
        ws = book[sheet]
        for column, cell in enumerate(ws[1], start=1):
            ws.cell(row=2, column=column, value=values[str(cell.value)])
    filled = tmp_path / f"{kind}.xlsx"
    book.save(filled)
    now = datetime.combine(the_first_shipped_date() - FRESH_FOR, time(12), tzinfo=UTC)

    with i18n.use_language(language):
        if kind == "allocate":
            plan = tmp_path / "plan.xlsx"
            report = allocate(AllocateRequest(filled, plan), Settings(), now=now)
            assert report.issues == () and report.plan.unplaced == ()
            assert len(report.plan.placements) == 1
        else:
            result = run(RunRequest("validate", filled, kind=kind), Settings(), now=now)
            assert result.issues == () and result.outcomes == {"valid": 1}


# ---------------------------------------------------------------- freshness (the real date)

_DATE_TEXT = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b|\b(\d{4})-(\d{2})-(\d{2})\b")
_BIRTH = {fold_label(h) for h in ("DOB", "Date of birth", "Dyddiad geni")}


def dates_in(value: object) -> list[date]:
    if isinstance(value, datetime):
        return [value.date()]
    if isinstance(value, date):
        return [value]
    found = []
    for m in _DATE_TEXT.finditer(str(value or "")):
        day, month, year = (m[1], m[2], m[3]) if m[3] else (m[6], m[5], m[4])
        found.append(date(int(year), int(month), int(day)))
    return found


def sheet_rows(path: Path) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """(sheet name, Excel row, {header: value}) for every data row of a CSV or workbook."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        for number, row in enumerate(rows[1:], start=2):
            yield "", number, dict(zip(rows[0], row, strict=True))
        return
    for ws in load_workbook(path).worksheets:
        values = list(ws.iter_rows(values_only=True))
        for number, row in enumerate(values[1:], start=2):
            yield ws.title, number, dict(zip(values[0], row, strict=True))


def shipped_dates() -> dict[str, list[date]]:
    """Every appointment, slot and window date in the shipped files (their example dates, for
    the templates), except dates of birth and the rows meant to be in the past."""
    dates: dict[str, list[date]] = {}
    for name in SHEETS:
        past = {row for _, row, code in documented(name) if code == "in-past"}
        dates[name] = [
            d
            for _, number, row in sheet_rows(SAMPLES / name)
            if number not in past
            for header, value in row.items()
            if fold_label(header) not in _BIRTH
            for d in dates_in(value)
        ]
    for kind, folder in ((k, f) for k in DATA_SHEETS for f in ("", "cy/")):
        examples = template_examples(TEMPLATES / f"{folder}{kind}.xlsx")
        dates[f"templates/{folder}{kind}.xlsx"] = [
            d
            for values in examples.values()
            for header, example in values.items()
            if fold_label(header) not in _BIRTH
            for d in dates_in(example)
        ]
    return dates


def test_the_shipped_dates_stay_in_the_future_for_another_year() -> None:
    # The one test that reads the real date: its purpose is the shipped files' freshness.
    today = date.today()
    dates = shipped_dates()
    assert all(found for name, found in dates.items() if "cancel" not in name), dates
    first = min(d for found in dates.values() for d in found)
    assert first > today + FRESH_FOR, (
        f"The shipped samples' first date, {first}, is less than a year away. Move "
        "SHIPPED_SLOTS_FROM (batch_scheduler/demo/samples.py) and the example dates in "
        "batch_scheduler/intake/fields.py on, then regenerate sample_data/ and templates/."
    )
    for _, number, row in sheet_rows(SAMPLES / "book.xlsx"):
        if ("", number, "in-past") in documented("book.xlsx"):
            assert dates_in(row["Date/Time"])[0] < today  # still the deliberate mistake


# ---------------------------------------------------------------- no real phone numbers

# Ofcom's numbers for drama (national significant numbers), and France's (ARCEP: 01 99 00).
FICTION = {
    "GB": ((7700900000, 7700900999), (2920180000, 2920180999), (2079460000, 2079460999),
           (1134960000, 1134960999)),
    "FR": ((199000000, 199009999),),
}  # fmt: skip
_SCIENTIFIC = re.compile(r"\b\d\.\d+E\+\d+\b", re.IGNORECASE)
_NATIONAL_WITHOUT_ZERO = re.compile(r"(?<![\d.+])[1-9]\d{9}(?![\d.])")  # Excel dropped the 0


def text_of(path: Path) -> str:
    """A file's text; for a workbook (any zip), the text of every part with its tags removed."""
    data = path.read_bytes()
    if data[:2] == b"PK":
        with zipfile.ZipFile(path) as archive:
            parts = [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
        return re.sub(r"<[^>]+>", " ", "\n".join(parts))
    return data.decode("utf-8", "replace")


def real_phone_numbers(text: str) -> list[str]:
    """Every valid phone number in `text` outside the fiction ranges, as written, sorted."""
    text = _SCIENTIFIC.sub(lambda m: str(int(float(m[0]))), text)
    found = [
        (m.raw_string, m.number)
        for m in phonenumbers.PhoneNumberMatcher(text, "GB", phonenumbers.Leniency.VALID)
    ]
    for m in _NATIONAL_WITHOUT_ZERO.finditer(text):
        number = phonenumbers.parse("0" + m[0], "GB")
        if phonenumbers.is_valid_number(number):
            found.append((m[0], number))
    return sorted({raw for raw, number in found if not _is_fiction(number)})


def _is_fiction(number: phonenumbers.PhoneNumber) -> bool:
    region = phonenumbers.region_code_for_number(number)
    national = int(phonenumbers.national_significant_number(number))
    return any(low <= national <= high for low, high in FICTION.get(region, ()))


def shipped_files(generated: Path) -> list[Path]:
    roots = [SAMPLES, TEMPLATES, REPO / "batch_scheduler", generated]
    files = [p for root in roots for p in root.rglob("*") if p.is_file()]
    files += [REPO / "README.md", REPO / "SECURITY.md"]
    return [p for p in files if "__pycache__" not in p.parts]


def test_nothing_we_ship_holds_a_real_phone_number(tmp_path: Path) -> None:
    write_samples(tmp_path / "dated", date(2031, 1, 8))
    write_fresh_samples(tmp_path / "fresh", NOW)
    for kind in DATA_SHEETS:
        write_template(tmp_path / f"{kind}.xlsx", kind, sample_settings().intake)
    files = shipped_files(tmp_path)
    assert len(files) > 50

    found = {str(p): real_phone_numbers(text_of(p)) for p in files}
    assert {name: numbers for name, numbers in found.items() if numbers} == {}


def test_the_phone_scan_finds_real_numbers_however_written(tmp_path: Path) -> None:
    text = (
        "call 07400 900123 or +44 7400 900124, 0161 123 4567, 7400900125, "
        "4.47400900126E+11 or +33 1 23 45 67 89"
    )
    assert real_phone_numbers(text) == [
        "+33 1 23 45 67 89", "+44 7400 900124", "0161 123 4567", "07400 900123",
        "447400900126", "7400900125",
    ]  # fmt: skip
    fiction = (
        "07700 900123, +447700900999, 029 2018 0000, (020) 7946 0999, +44 (0)113 496 0500, "
        "2920180123, 4.41134960123E+11, +33 1 99 00 12 34; not phones: 1048576, "
        "2032-12-03 14:30, 03/12/2032, 46023.375, 8f14e45f-ceea-4e7a-9c1b-2f1d3c4b5a69"
    )
    assert real_phone_numbers(fiction) == []

    path = tmp_path / "mangled.xlsx"
    with xlsxwriter.Workbook(str(path)) as book:
        sheet = book.add_worksheet()
        sheet.write_number(0, 0, 7400900123)
        sheet.write_comment(0, 0, "Example: 020 7946 0123")
    assert real_phone_numbers(text_of(path)) == ["7400900123"]


# ---------------------------------------------------------------- the demo


def test_demo_books_the_sample_and_reports_only_its_mistakes(tmp_path: Path) -> None:
    env = {"BATCH_SCHEDULER_NOW": NOW.isoformat()}
    result = invoke(env, "demo", "--out-dir", tmp_path, catch_exceptions=True)

    assert result.exit_code == 0, result.output
    invalid = len(documented_invalid_rows("book.xlsx"))
    counts = json.loads((tmp_path / "summary.json").read_text())["counts"]
    assert counts["outcomes"] == {"created": 40 - invalid, "invalid": invalid}
    assert counts["issues"] == documented_codes("book.xlsx")
    assert real_phone_numbers(result.output) == []
    assert (tmp_path / "results.xlsx").exists()


def test_demo_write_samples_writes_a_fresh_set_and_says_how_to_use_it(tmp_path: Path) -> None:
    env = {"BATCH_SCHEDULER_NOW": "2031-01-08T10:00:00+00:00"}
    folder = tmp_path / "try"
    result = invoke(env, "demo", "--write-samples", folder, catch_exceptions=True)

    assert result.exit_code == 0, result.output
    assert {p.name for p in folder.iterdir()} == {*SHEETS, CONFIG_NAME}
    assert f"--config {folder / CONFIG_NAME}" in result.output
    now = datetime(2031, 1, 8, 10, tzinfo=UTC)
    assert reported(folder / "book.xlsx", "book", now, tmp_path) == documented("book.xlsx")
    slots = [
        d for _, _, row in sheet_rows(folder / "book.xlsx") for d in dates_in(row["Date/Time"])
    ]
    assert min(slots) == date(2031, 1, 5)  # the deliberate past row; the rest from 10/01/2031
    assert sorted(slots)[1] >= date(2031, 1, 10)
