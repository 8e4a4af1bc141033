"""Welsh sheets are read as they are written, in either language mode: Welsh headers, yes/no
answers, month and day names, dropdown values, sheet names, and a results workbook headed in
Welsh given to `cancel`. Only the messages follow the language; what is read never does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from openpyxl import Workbook

from batch_scheduler import i18n
from batch_scheduler.allocate import AllocateRequest, allocate
from batch_scheduler.allocate.command import read_sheets
from batch_scheduler.columns import echoed_headers
from batch_scheduler.config import IntakeSettings, Settings
from batch_scheduler.errors import InputError
from batch_scheduler.i18n.welsh_input import RESULT_HEADERS
from batch_scheduler.intake import previous_outcomes, read_table
from batch_scheduler.models import Outcome
from batch_scheduler.validate import datetimes, validate_book, validate_cancel
from batch_scheduler.validate.values import parse_boolean
from tests.support.sheets import NOW, book_row, write_xlsx
from tests.support.welsh import (
    WELSH_DEPARTMENTS,
    WELSH_NAMES,
    WELSH_TIMES,
    welsh_book_sheet,
    welsh_rows,
)

SETTINGS = IntakeSettings(departments=WELSH_DEPARTMENTS)
LANGUAGES = ("en", "cy")
LONDON = ZoneInfo("Europe/London")


@pytest.fixture(params=LANGUAGES)
def language(request: pytest.FixtureRequest) -> Iterator[str]:
    with i18n.use_language(request.param):
        yield request.param


def test_a_welsh_sheet_validates_clean_and_reads_the_same_in_either_language(
    tmp_path: Path,
) -> None:
    path = welsh_book_sheet(tmp_path / "apwyntiadau.xlsx")
    read: dict[str, Any] = {}
    for language in LANGUAGES:
        with i18n.use_language(language):
            table = read_table(path, kind="book", settings=SETTINGS)
            result = validate_book(table, SETTINGS, now=NOW)
        codes = [i.code for i in result.issues]
        assert codes == ["unknown-column"], (language, [str(i) for i in result.issues])
        assert len(result.requests) == len(WELSH_NAMES)
        read[language] = [result.requests[pos] for pos in range(len(WELSH_NAMES))]
    assert read["en"] == read["cy"]
    requests = read["cy"]
    assert [r.claimant.name for r in requests] == list(WELSH_NAMES)
    local = [r.appointment_at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M") for r in requests]
    assert local == list(WELSH_TIMES)
    assert [r.is_interpreter_needed for r in requests] == [True, False, False, True, False, True]
    assert [r.interpreter_language for r in requests] == [
        "Cymraeg", None, None, "Saesneg", None, "Pwyleg",
    ]  # fmt: skip
    assert [r.department_id for r in requests] == [1, 1, 2, None, 2, 1]
    born = [r.claimant.date_of_birth for r in requests]
    assert [day and day.isoformat() for day in born] == [
        "1985-02-14", "1990-03-03", None, "1979-06-01", "2002-05-05", "1960-12-31",
    ]  # fmt: skip
    assert [r.options.get("features_bandwidth") for r in requests] == [
        "low", "medium", "high", None, "low", None,
    ]  # fmt: skip
    assert [r.options.get("features_call_recording_enable") for r in requests] == [
        False, True, False, False, True, True,
    ]  # fmt: skip
    assert [r.duration_in_minutes for r in requests] == [30, 45, 30, 45, 30, 45]


MISTAKES = {
    1: {"Apwyntiad": "31 Chwefror 2027 10:00"},  # no such day
    2: {"Angen cyfieithydd?": "Efallai"},  # perhaps: no answer to book on
    3: {"Lled band": "llydan"},  # wide: not a bandwidth
    4: {"Dyddiad geni": "14eg o Fawrth 2030"},  # born in the future
    5: {"Apwyntiad": "19 Awstt 2027 14:30", "Hyd (munudau)": "tri deg"},
}


def _with_mistakes() -> list[dict[str, Any]]:
    rows = welsh_rows()
    for pos, changes in MISTAKES.items():
        rows[pos] |= changes
    return rows


def test_the_same_mistakes_give_the_same_codes_at_the_same_cells_in_either_language(
    tmp_path: Path,
) -> None:
    path = welsh_book_sheet(tmp_path / "gwallau.xlsx", _with_mistakes())
    found: dict[str, list[Any]] = {}
    for language in LANGUAGES:
        with i18n.use_language(language):
            table = read_table(path, kind="book", settings=SETTINGS)
            found[language] = list(validate_book(table, SETTINGS, now=NOW).issues)
    where = {lang: [(i.code, i.row, i.column, i.field) for i in found[lang]] for lang in found}
    assert where["en"] == where["cy"]
    assert [(code, row, column) for code, row, column, _ in where["cy"]] == [
        ("unknown-column", None, "M"),
        ("invalid-datetime", 3, "C"),
        ("invalid-boolean", 4, "G"),
        ("not-in-list", 5, "J"),
        ("dob-in-future", 6, "D"),
        ("invalid-datetime", 7, "C"),
        ("invalid-integer", 7, "L"),
    ]
    english, welsh = (dict(zip(where["en"], found[lang], strict=True)) for lang in LANGUAGES)
    for key, issue in welsh.items():
        assert issue.message != english[key].message
    by_code = {i.code: i.message for i in found["cy"]}
    assert by_code["dob-in-future"].startswith("Nid yw'r dyddiad geni “14eg o Fawrth 2030”")
    assert "(fe wnaethon ni ei ddarllen fel 14 Mawrth 2030)" in by_code["dob-in-future"]
    assert "isel, canolig, uchel" in by_code["not-in-list"]
    assert (
        "Ysgrifennwch Ie neu Na (neu gadewch y gell yn wag i olygu Na)"
        in by_code["invalid-boolean"]
    )
    no_day, no_month = (("invalid-datetime", row, "C", "appointment_at") for row in (3, 7))
    assert ": there is no 31 February 2027 (February 2027 has 28 days)" in english[no_day].message
    assert (
        ": nid oes 31 Chwefror 2027 (mae 28 diwrnod ym mis Chwefror 2027)" in welsh[no_day].message
    )
    assert ": “Awstt” is not a month we know" in english[no_month].message
    assert ": nid yw “Awstt” yn fis rydym yn ei adnabod" in welsh[no_month].message


def test_welsh_dates_in_separate_date_and_time_columns(tmp_path: Path, language: str) -> None:
    headers = ("Enw'r hawlydd", "Dyddiad yr apwyntiad", "Amser yr apwyntiad")
    rows = [
        {"Enw'r hawlydd": "Aled", "Dyddiad yr apwyntiad": "19 Awst 2027",
         "Amser yr apwyntiad": "2:30yh"},
        {"Enw'r hawlydd": "Bethan", "Dyddiad yr apwyntiad": "dydd Iau 19eg o Awst 2027",
         "Amser yr apwyntiad": "am 9.15 y.b."},
        {"Enw'r hawlydd": "Carys", "Dyddiad yr apwyntiad": "1af o Fedi 2027",
         "Amser yr apwyntiad": "16:00"},
    ]  # fmt: skip
    path = write_xlsx(tmp_path / "dwy-golofn.xlsx", rows, headers)
    result = validate_book(read_table(path, kind="book", settings=SETTINGS), SETTINGS, now=NOW)
    assert result.issues == ()
    local = [result.requests[p].appointment_at.astimezone(LONDON) for p in range(3)]
    assert [f"{t:%Y-%m-%d %H:%M}" for t in local] == [
        "2027-08-19 14:30", "2027-08-19 09:15", "2027-09-01 16:00",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("yes", "no"),
    [("Ie", "Na"), ("Oes", "Nac oes"), ("Ydy", "Nac ydy"), ("Ydw", "Nac ydw"), ("Do", "Naddo"),
     ("Gwir", "Anwir")],
)  # fmt: skip
def test_welsh_yes_and_no_are_read_in_any_case(yes: str, no: str) -> None:
    cells = [yes, yes.upper(), yes.lower(), f" {yes} ", no, no.upper(), no.lower(), "yes", "0"]
    parsed = parse_boolean(pd.Series(cells, dtype=object))
    assert parsed.values.tolist() == [True] * 4 + [False] * 3 + [True, False]
    assert parsed.codes.isna().all()


def test_the_welsh_rewrite_is_tried_only_on_cells_english_refused_once_per_distinct_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No cost on English sheets: an English column never reaches the Welsh rewrite; a Welsh
    one reaches it once per distinct text, however often the text repeats."""
    seen: list[str] = []
    real = datetimes.welsh_date_to_english

    def counting(text: str) -> str:
        seen.append(text)
        return real(text)

    monkeypatch.setattr(datetimes, "welsh_date_to_english", counting)
    english = pd.Series(["03/12/2026 14:30", "3 Dec 2026 2:30pm", "2026-12-03 14:30"] * 1000)
    moments = datetimes.read_moments(
        english, serials=datetimes.APPOINTMENT_SERIALS, pivot_year=2076
    )
    assert not moments.bad.any() and seen == []
    welsh = pd.Series(["19 Awst 2027 14:30", "03/12/2026 14:30", "19eg o Awst 2027 14:30"] * 1000)
    moments = datetimes.read_moments(welsh, serials=datetimes.APPOINTMENT_SERIALS, pivot_year=2076)
    assert not moments.bad.any()
    assert sorted(seen) == ["19 Awst 2027 14:30", "19eg o Awst 2027 14:30"]


def test_accented_and_plain_headers_fold_to_the_same_field(tmp_path: Path, language: str) -> None:
    path = tmp_path / "penawdau.csv"
    path.write_text(
        "ENW'R HAWLYDD,apwyntiad,Ffon symudol,Tim,Hyd,Ailgyfeirio ar ol yr alwad?\n"
        "Aled,19/08/2027 14:30,07400 900123,1,30,Na\n",
        encoding="utf-8",
    )
    table = read_table(path, kind="book", settings=SETTINGS)
    assert table.fields == {
        "claimant_name": "ENW'R HAWLYDD",
        "appointment_at": "apwyntiad",
        "claimant_phone_number": "Ffon symudol",
        "department": "Tim",
        "duration_in_minutes": "Hyd",
        "use_custom_post_call_redirect": "Ailgyfeirio ar ol yr alwad?",
    }
    assert table.issues == ()


def test_a_missing_column_is_named_in_the_language_of_the_messages(tmp_path: Path) -> None:
    path = tmp_path / "heb-enw.csv"
    path.write_text("Apwyntiad,Ffôn\n19/08/2027 14:30,07400 900123\n", encoding="utf-8")
    with pytest.raises(InputError) as english:
        read_table(path, kind="book")
    assert english.value.message.startswith(
        "heb-enw.csv is missing a required column: Claimant name."
    )
    with i18n.use_language("cy"), pytest.raises(InputError) as welsh:
        read_table(path, kind="book")
    message = welsh.value.message
    assert message.startswith("Mae colofn ofynnol ar goll o heb-enw.csv: Enw'r hawlydd.")
    assert "Y penawdau yn rhes 1: A “Apwyntiad”, B “Ffôn”." in message
    assert "(Y penawdau sy'n cael eu derbyn: Enw'r hawlydd: “Enw'r hawlydd”, “Enw”," in message
    assert "“Claimant name”" in message  # the English headers are accepted too, and listed


# ---------------------------------------------------------------- the allocation sheets


def test_a_welsh_allocation_workbook_is_planned_in_either_language(
    tmp_path: Path, language: str
) -> None:
    book = Workbook()
    claimants = book.active
    assert claimants is not None
    claimants.title = "Hawlwyr"
    claimants.append(["Enw'r hawlydd", "Angen cyfieithydd?", "Iaith y cyfieithydd", "Adran",
                      "Dyddiad cynharaf", "Dyddiad diweddaraf"])  # fmt: skip
    claimants.append(["Gwenllïan Ŵyn", "Oes", "Cymraeg", "Budd-daliadau", "1af o Awst 2027",
                      "31ain o Awst 2027"])  # fmt: skip
    claimants.append(["Dafydd ap Gŷn", "Nac oes", None, 1, None, "dydd Gwener 20 Awst 2027"])
    slots = book.create_sheet("Slotiau")
    slots.append(["Dechrau", "Hyd (munudau)", "Adran", "Iaith y cyfieithydd", "Capasiti"])
    slots.append(["19 Awst 2027 10:00", 30, "Budd-daliadau", None, 1])
    slots.append(["19eg o Awst 2027 11:00", 30, 1, "cymraeg", 1])
    path = tmp_path / "dyrannu.xlsx"
    book.save(path)
    request = AllocateRequest(path, tmp_path / "cynllun.xlsx")
    claimant_table, slot_table = read_sheets(request, SETTINGS)
    assert (claimant_table.source.sheet, slot_table.source.sheet) == ("Hawlwyr", "Slotiau")
    report = allocate(request, Settings(intake=SETTINGS), now=NOW)
    assert [*report.claimants.issues, *report.slots.issues] == []
    placed = {p.claimant.row: p.slot.row for p in report.plan.placements}
    assert placed == {2: 3, 3: 2}  # the Welsh speaker gets the slot with the Welsh interpreter
    assert report.plan.unplaced == ()


def test_a_workbook_without_the_sheet_says_both_names(tmp_path: Path) -> None:
    book = Workbook()
    assert book.active is not None
    book.active.title = "Hawlwyr"
    book.active.append(["Enw'r hawlydd"])
    book.save(tmp_path / "hanner.xlsx")
    with pytest.raises(InputError) as raised:
        read_sheets(AllocateRequest(tmp_path / "hanner.xlsx", tmp_path / "p.xlsx"), SETTINGS)
    assert raised.value.message == (
        'hanner.xlsx has no sheet named "Slots" / "Slotiau". Its sheets are: "Hawlwyr".'
    )


# ---------------------------------------------------------------- cancel, from Welsh results


def _welsh_results(path: Path) -> Path:
    """A results workbook as a Welsh run writes it: the input's columns (Welsh headers), then
    ours under their Welsh names, on a sheet called Canlyniadau."""
    ours = ("source_row", "outcome", "reference", "appointment_id", "status", "error")
    headers = ["Cyfeirnod", "Enw'r hawlydd", "Apwyntiad", *(RESULT_HEADERS[c] for c in ours)]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Canlyniadau"
    sheet.append(headers)
    ids = ("8f14e45f-ceea-4e7a-9c1b-2f1d3c4b5a69", "1c8e2f1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b")
    sheet.append(["CYF-1", "Gwenllïan", "19 Awst 2027 14:30", 2, "created", "CYF-1", ids[0],
                  "scheduled", None])  # fmt: skip
    sheet.append(["CYF-2", "Dafydd", "19 Awst 2027 15:00", 3, "invalid", "CYF-2", None, None,
                  "Nid yw ..."])  # fmt: skip
    sheet.append(["ANGHYWIR", "Siân", "19 Awst 2027 15:30", 4, "already_exists", "CYF-3",
                  ids[1], "scheduled", None])  # fmt: skip
    book.save(path)
    return path


def test_cancel_reads_a_results_workbook_headed_in_welsh(tmp_path: Path, language: str) -> None:
    table = read_table(_welsh_results(tmp_path / "canlyniadau.xlsx"), kind="cancel")
    assert table.source.sheet == "Canlyniadau"
    assert table.fields == {"reference": "Cyfeirnod (2)", "appointment_id": "ID yr apwyntiad"}
    assert table.issues == ()  # our own columns are known, not "unknown columns"
    assert previous_outcomes(table) == {
        0: Outcome.CREATED, 1: Outcome.INVALID, 2: Outcome.ALREADY_EXISTS,
    }  # fmt: skip
    result = validate_cancel(table, SETTINGS)
    assert [(r.appointment_id, r.reference) for r in result.requests.values()] == [
        ("8f14e45f-ceea-4e7a-9c1b-2f1d3c4b5a69", "CYF-1"),
        (None, "CYF-2"),
        ("1c8e2f1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b", "CYF-3"),
    ]
    shown = echoed_headers(table.headers)
    assert len(set(shown)) == len(shown)
    assert shown[3:5] == ("previous_Rhes wreiddiol", "previous_Canlyniad")


def test_an_english_sheet_reads_as_before_in_welsh_mode(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "english.xlsx", [book_row(i) for i in range(3)])
    settings = IntakeSettings(departments={"Benefits": 1})
    with i18n.use_language("cy"):
        welsh = validate_book(read_table(path, kind="book", settings=settings), settings, now=NOW)
    english = validate_book(read_table(path, kind="book", settings=settings), settings, now=NOW)
    assert welsh.requests == english.requests and len(english.requests) == 3
    assert [(i.code, i.column) for i in welsh.issues] == [
        (i.code, i.column) for i in english.issues
    ]


def test_welsh_times_are_read_where_a_time_is_expected() -> None:
    parsed = datetimes.read_times(pd.Series(["2:30yh", "am 14:30", "9.15 y.b.", "1430"]))
    assert parsed.values.dt.total_seconds().tolist()[:3] == [52200.0, 52200.0, 33300.0]
    assert parsed.codes.tolist() == [None, None, None, "invalid-time"]


def test_a_welsh_date_of_the_past_is_in_the_past() -> None:
    """Welsh month names go through the same checks as any date (here: in the past)."""
    moments = datetimes.read_moments(
        pd.Series(["19 Awst 2020 14:30"]), serials=datetimes.APPOINTMENT_SERIALS, pivot_year=2076
    )
    assert moments.local.tolist() == [datetime(2020, 8, 19, 14, 30)]
