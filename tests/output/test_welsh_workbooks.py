"""The workbooks in both languages, cell by cell: the same rows and values, the same stable
names (each header marked with a defined name), the right words for people; and the stable
names found again after openpyxl and LibreOffice save the workbook, so `cancel` reads a
results workbook written in either language, whatever its headers say."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from batch_scheduler import i18n
from batch_scheduler.allocate import AllocateRequest, allocate
from batch_scheduler.columns.words import outcome_from_word, outcome_words
from batch_scheduler.config import IntakeSettings, Settings
from batch_scheduler.demo import write_samples
from batch_scheduler.errors import InputError
from batch_scheduler.intake import previous_outcomes, read_table
from batch_scheduler.models import Outcome, ResultLine
from batch_scheduler.output import write_fix_sheet, write_results
from batch_scheduler.pipeline import RunRequest, run
from batch_scheduler.validate import validate_book
from tests.support.sheets import NOW, book_row, write_xlsx
from tests.support.system import require_program

SETTINGS = Settings(intake=IntakeSettings(departments={"Benefits": 1, "Housing": 2}))
SHEETS = {"en": ["Results", "Summary", "Issues"], "cy": ["Canlyniadau", "Crynodeb", "Problemau"]}
OURS = ("source_row", "outcome", "reference", "appointment_id", "status",
        "appointment_at_utc", "error", "attempts", "meeting_url")  # fmt: skip
WELSH_HEADERS = ("Rhes wreiddiol", "Canlyniad", "Cyfeirnod", "ID yr apwyntiad", "Statws",
                 "Apwyntiad (UTC)", "Gwall", "Ymdrechion", "Dolen y cyfarfod")  # fmt: skip


def names(sheet: Worksheet) -> dict[str, str]:
    """The sheet's defined names: stable name -> the cell it marks ("outcome" -> "$K$1")."""
    return {
        name.removeprefix("bs_"): defined.attr_text.rpartition("!")[2]
        for name, defined in sheet.defined_names.items()
    }


def cells(sheet: Worksheet) -> list[list[Any]]:
    return [[c.value for c in row] for row in sheet.iter_rows()]


def column(sheet: Worksheet, stable: str) -> list[Any]:
    """The values under the header a defined name marks: how a program reads our columns."""
    letter = names(sheet)[stable].split("$")[1]
    return [c.value for c in sheet[letter]][1:]


def notes(sheet: Worksheet) -> dict[str, str]:
    return {c.coordinate: c.comment.text for row in sheet.iter_rows() for c in row if c.comment}


def both(write: Any, tmp_path: Path) -> dict[str, Workbook]:
    """`write(path)` in English and in Welsh, each opened after writing."""
    books = {}
    for language in ("en", "cy"):
        path = tmp_path / language / "out.xlsx"
        path.parent.mkdir(exist_ok=True)
        with i18n.use_language(language):
            write(path)
        books[language] = load_workbook(path)
    return books


def sheet_of_rows(tmp_path: Path) -> Path:
    rows = [book_row(i) for i in range(4)]
    rows[1]["Email"] = "not-an-email"
    rows[2]["Phone"] = 7400900123  # a phone Excel turned into a number
    return write_xlsx(tmp_path / "in.xlsx", rows)


# ---------------------------------------------------------------- results (a validate report)


def test_the_report_workbook_cell_by_cell_in_both_languages(tmp_path: Path) -> None:
    sheet = sheet_of_rows(tmp_path)

    def report(path: Path) -> None:
        run(RunRequest("validate", sheet, path), SETTINGS, now=NOW)

    books = both(report, tmp_path)
    en, cy = books["en"], books["cy"]
    assert en.sheetnames == SHEETS["en"] and cy.sheetnames == SHEETS["cy"]
    results = {language: book.worksheets[0] for language, book in books.items()}
    assert names(results["en"]) == names(results["cy"])  # the same stable names, same cells
    assert sorted(names(results["en"])) == sorted(OURS)
    english, welsh = cells(results["en"]), cells(results["cy"])
    first = len(english[0]) - len(OURS)
    assert english[0][:first] == welsh[0][:first]  # the input's own headers, as written
    assert tuple(english[0][first:]) == OURS and tuple(welsh[0][first:]) == WELSH_HEADERS
    outcome, error = first + 1, first + 6
    for en_row, cy_row in zip(english[1:], welsh[1:], strict=True):
        others = [i for i in range(len(en_row)) if i not in (outcome, error)]
        assert [en_row[i] for i in others] == [cy_row[i] for i in others]  # the same values
    assert column(results["en"], "outcome") == ["valid", "invalid", "invalid", "valid"]
    assert column(results["cy"], "outcome") == ["dilys", "annilys", "annilys", "dilys"]
    assert [outcome_from_word(v) for v in column(results["cy"], "outcome")] == [
        outcome_from_word(v) for v in column(results["en"], "outcome")
    ]
    assert "is not a valid email address" in column(results["en"], "error")[1]
    assert "e-bost dilys" in column(results["cy"], "error")[1]
    en_notes, cy_notes = notes(results["en"]), notes(results["cy"])
    assert en_notes.keys() == cy_notes.keys() and len(en_notes) == 2
    for cell, text in en_notes.items():
        assert text.startswith("Error (") and cy_notes[cell].startswith("Gwall (")

    summaries = {language: book.worksheets[1] for language, book in books.items()}
    assert names(summaries["en"]) == names(summaries["cy"])
    labels = {
        language: {key: sheet[cell.replace("$", "")].value for key, cell in names(sheet).items()}
        for language, sheet in summaries.items()
    }
    assert all(key == label for key, label in labels["en"].items())  # English: the keys
    assert labels["cy"]["rows_read"] == "Rhesi a ddarllenwyd"
    assert labels["cy"]["input_sha256"] == "SHA-256 y ffeil fewnbwn"
    counts = {language: cells(sheet) for language, sheet in summaries.items()}
    assert ["invalid", 2] in counts["en"] and ["annilys", 2] in counts["cy"]
    assert ["error", 2] in counts["en"] and ["gwall", 2] in counts["cy"]
    assert ["Outcome", "Rows"] in counts["en"] and ["Canlyniad", "Rhesi"] in counts["cy"]

    issues = {language: book.worksheets[2] for language, book in books.items()}
    assert names(issues["en"]) == names(issues["cy"])
    rows = {language: cells(sheet) for language, sheet in issues.items()}
    assert rows["en"][0] == ["source_row", "column", "header", "value", "code", "severity",
                             "message"]  # fmt: skip
    assert rows["cy"][0] == ["Rhes wreiddiol", "Colofn", "Pennawd", "Gwerth", "Cod",
                             "Difrifoldeb", "Neges"]  # fmt: skip
    for en_row, cy_row in zip(rows["en"][1:], rows["cy"][1:], strict=True):
        assert en_row[:5] == cy_row[:5]  # row, column, header, value, code
        assert (en_row[5], cy_row[5]) in (("error", "gwall"), ("warning", "rhybudd"))
    links = [c.hyperlink.location for c in issues["cy"]["A"] if c.hyperlink]
    assert links and all(link.startswith("'Canlyniadau'!") for link in links)
    assert "Canlyniadau" in notes(issues["cy"])["A1"]


def test_every_outcome_word_and_fill_in_both_languages(tmp_path: Path) -> None:
    sheet = write_xlsx(tmp_path / "in.xlsx", [book_row(i) for i in range(len(Outcome))])
    table = read_table(sheet, kind="book", settings=SETTINGS.intake)
    lines = [ResultLine(outcome, reference=f"R{i}") for i, outcome in enumerate(Outcome)]

    def results(path: Path) -> None:
        write_results(path, table=table, lines=lines, issues=[], summary={"command": "book"})

    books = both(results, tmp_path)
    english = column(books["en"].worksheets[0], "outcome")
    welsh = column(books["cy"].worksheets[0], "outcome")
    assert english == [outcome.value for outcome in Outcome]
    with i18n.use_language("cy"):
        assert welsh == [outcome_words()[outcome] for outcome in Outcome]
    assert welsh[:3] == ["wedi'i drefnu", "wedi'i drefnu eisoes", "wedi'i ganslo"]
    assert len(set(welsh)) == len(welsh)
    letter = names(books["en"].worksheets[0])["outcome"].split("$")[1]
    fills = {
        language: [c.fill.fgColor.rgb for c in book.worksheets[0][letter][1:]]
        for language, book in books.items()
    }
    assert fills["en"] == fills["cy"]  # the same colours for the same outcomes
    # the CSV keeps the stable names whatever the language
    with i18n.use_language("cy"):
        write_results(tmp_path / "r.csv", table=table, lines=lines, issues=[], summary={})
    text = (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    assert "source_row,outcome,reference" in text.splitlines()[0]
    assert "wedi" not in text and ",already_exists," in text


# ---------------------------------------------------------------- cancel reads either


def _welsh_results(tmp_path: Path) -> Path:
    sheet = write_xlsx(tmp_path / "in.xlsx", [book_row(i) for i in range(3)])
    table = read_table(sheet, kind="book", settings=SETTINGS.intake)
    ids = ["8f14e45f-ceea-4e7a-9c1b-2f1d3c4b5a6" + str(i) for i in range(3)]
    lines = [
        ResultLine(Outcome.CREATED, reference="REF-00000", appointment_id=ids[0], attempts=1),
        ResultLine(Outcome.INVALID, reference="REF-00001", error="Nid yw ..."),
        ResultLine(Outcome.ALREADY_EXISTS, reference="REF-00002", appointment_id=ids[2]),
    ]
    path = tmp_path / "canlyniadau.xlsx"
    with i18n.use_language("cy"):
        write_results(path, table=table, lines=lines, issues=[], summary={})
    return path


def _read_back(path: Path) -> tuple[dict[str, str], dict[int, Outcome], list[Any]]:
    table = read_table(path, kind="cancel")
    ids = table.frame[table.fields["appointment_id"]].tolist()
    return dict(table.fields), previous_outcomes(table), ids


EXPECTED_OUTCOMES = {0: Outcome.CREATED, 1: Outcome.INVALID, 2: Outcome.ALREADY_EXISTS}


@pytest.mark.parametrize("language", ["en", "cy"])
def test_cancel_finds_our_columns_by_their_names_whatever_the_headers_say(
    tmp_path: Path, language: str
) -> None:
    path = _welsh_results(tmp_path)
    book = load_workbook(path)
    sheet = book["Canlyniadau"]
    marked = {stable: cell.replace("$", "") for stable, cell in names(sheet).items()}
    sheet[marked["outcome"]] = "Beth ddigwyddodd"  # headers reworded by hand
    sheet[marked["appointment_id"]] = "Rhif"
    sheet[marked["source_row"]] = "O res"
    renamed = tmp_path / "ailenwyd.xlsx"
    book.save(renamed)  # openpyxl keeps the defined names
    with i18n.use_language(language):
        fields, outcomes, ids = _read_back(renamed)
    assert fields["appointment_id"] == "Rhif" and outcomes == EXPECTED_OUTCOMES
    assert ids[0].startswith("8f14e45f") and ids[1] is None
    # without the names the reworded headers are not ours any more: the names held it
    for name in list(book["Canlyniadau"].defined_names):
        del book["Canlyniadau"].defined_names[name]
    book.save(tmp_path / "heb-enwau.xlsx")
    with pytest.raises(InputError, match="both mean"):
        read_table(tmp_path / "heb-enwau.xlsx", kind="cancel")


def test_the_stable_names_survive_libreoffice(tmp_path: Path) -> None:
    soffice = require_program("soffice")
    path = _welsh_results(tmp_path)
    out = tmp_path / "lo"
    profile = (tmp_path / "profile").as_uri()
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "xlsx",
         "--outdir", str(out), str(path)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    saved = out / path.name
    assert names(load_workbook(saved)["Canlyniadau"]) == {
        k: v.replace("'Canlyniadau'!", "")
        for k, v in names(load_workbook(path)["Canlyniadau"]).items()
    }
    fields, outcomes, _ids = _read_back(saved)
    assert outcomes == EXPECTED_OUTCOMES and fields["appointment_id"] == "ID yr apwyntiad"
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)


# ---------------------------------------------------------------- the rows to fix, the plan


def test_the_rows_to_fix_in_both_languages(tmp_path: Path) -> None:
    sheet = sheet_of_rows(tmp_path)
    table = read_table(sheet, kind="book", settings=SETTINGS.intake)
    lines = [
        ResultLine(Outcome.CREATED),
        ResultLine(Outcome.INVALID, error="bad email"),
        ResultLine(Outcome.FAILED, error="503"),
        ResultLine(Outcome.CREATED),
    ]
    books = both(lambda path: write_fix_sheet(path, table, lines), tmp_path)
    assert books["en"].sheetnames == ["Rows to fix", "Reasons"]
    assert books["cy"].sheetnames == ["Rhesi i'w cywiro", "Rhesymau"]
    fix = {language: book.worksheets[0] for language, book in books.items()}
    assert cells(fix["en"]) == cells(fix["cy"])  # the input's own cells, in either language
    assert names(fix["en"]) == names(fix["cy"])
    assert names(fix["cy"])["claimant_name"] == "$B$1"  # each field the reader recognised
    assert notes(fix["cy"])["A2"] == "Rhes 3 o'r daflen a anfonwyd: annilys. bad email"
    reasons = {language: cells(book.worksheets[1]) for language, book in books.items()}
    assert reasons["en"] == [["source_row", "outcome", "reason"], [3, "invalid", "bad email"],
                             [4, "failed", "503"]]  # fmt: skip
    assert reasons["cy"] == [["Rhes wreiddiol", "Canlyniad", "Rheswm"],
                             [3, "annilys", "bad email"], [4, "wedi methu", "503"]]  # fmt: skip


def test_the_plan_in_both_languages_books_the_same(tmp_path: Path) -> None:
    samples = write_samples(tmp_path / "samples", NOW.date())
    source = samples["allocate_sample.xlsx"]
    settings = dataclasses.replace(
        SETTINGS, intake=IntakeSettings(departments={"Benefits": 1, "Housing": 2,
                                                     "Employment support": 3})
    )  # fmt: skip

    def plan(path: Path) -> None:
        allocate(AllocateRequest(source, path), settings, now=NOW)

    books = both(plan, tmp_path)
    assert books["en"].sheetnames == ["Book", "Unplaced", "Slots", "Issues", "Summary"]
    assert books["cy"].sheetnames == ["Trefnu", "Heb le", "Slotiau", "Problemau", "Crynodeb"]
    book = {language: b.worksheets[0] for language, b in books.items()}
    assert names(book["en"]) == names(book["cy"])
    english, welsh = cells(book["en"]), cells(book["cy"])
    assert welsh[0][:4] == ["Cyfeirnod", "Apwyntiad", "Hyd (munudau)", "Enw'r hawlydd"]
    answers = {"Yes": "Ie", "No": "Na", "low": "isel", "medium": "canolig", "high": "uchel"}
    for en_row, cy_row in zip(english[1:], welsh[1:], strict=True):
        assert [answers.get(v, v) if isinstance(v, str) else v for v in en_row] == cy_row
    assert "Na" in welsh[1]
    summary = {language: cells(b.worksheets[4]) for language, b in books.items()}
    assert summary["cy"][0] == ["Eitem", "Gwerth"]
    assert [row[1] for row in summary["en"][1:]] == [row[1] for row in summary["cy"][1:]]
    assert any(str(row[0]).startswith("Heb le: ") for row in summary["cy"])
    # `book` reads the Welsh plan's Book sheet (Trefnu) to the same requests as the English
    requests = {}
    for language in ("en", "cy"):
        table = read_table(tmp_path / language / "out.xlsx", kind="book", sheet="Book",
                           settings=settings.intake)  # fmt: skip
        validation = validate_book(table, settings.intake, now=NOW)
        assert validation.issues == [] or not any(i.is_error for i in validation.issues)
        requests[language] = validation.requests
    assert requests["en"] == requests["cy"] and len(requests["cy"]) == len(english) - 1
