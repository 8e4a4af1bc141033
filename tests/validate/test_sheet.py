"""sheet.py: issues on the cells they are about; the API's field names back onto the sheet."""

from __future__ import annotations

from pathlib import Path

import pytest

from batch_scheduler.columns import API_NAMES
from batch_scheduler.intake import read_table
from batch_scheduler.models import Outcome, RawTable, RowResult, Severity
from batch_scheduler.report import sending_issues
from batch_scheduler.validate import SheetCell, cell_of, validate_book
from tests.validate.tables import NOW, SETTINGS, raw_table


def book_sheet(tmp_path: Path, text: str) -> RawTable:
    path = tmp_path / "in.csv"
    path.write_text(text, encoding="utf-8")
    return read_table(path, kind="book", settings=SETTINGS)


@pytest.fixture
def table(tmp_path: Path) -> RawTable:
    return book_sheet(
        tmp_path,
        "Notes,Claimant name,Appointment,Email,Team\n"
        "x,Siân,14/07/2026 14:30,sian@example,Benefits\n"
        "y,Rhys,15/07/2026 09:00,rhys@example.org,2\n",
    )


@pytest.mark.parametrize("name", ["claimant.email", "claimant[email]"])
def test_an_api_field_in_either_body_format_is_its_sheet_cell(table: RawTable, name: str) -> None:
    assert cell_of(table, name, 0) == SheetCell(2, "D", "Email", "sian@example")


@pytest.mark.parametrize("name", ["department_id", "department"])
def test_the_department_by_either_of_its_api_names(table: RawTable, name: str) -> None:
    assert cell_of(table, name, 1) == SheetCell(3, "E", "Team", "2")


def test_a_name_the_sheet_has_no_column_for_is_the_row_alone(table: RawTable) -> None:
    assert cell_of(table, "claimant.phone_number", 1) == SheetCell(3, None, None, None)
    assert cell_of(table, "claimant", 1) == SheetCell(3, None, None, None)


def test_an_appointment_in_two_columns_is_the_date_cell(tmp_path: Path) -> None:
    table = book_sheet(tmp_path, "Name,Date,Time\nSiân,14/07/2026,14:30\n")
    assert cell_of(table, "appointment_at", 0) == SheetCell(2, "B", "Date", "14/07/2026")


def test_every_field_the_api_names_maps_back_to_itself() -> None:
    headers = ["Claimant name", "Appointment", "Department", "Phone", "Bandwidth"]
    table = raw_table(headers, [["A", "14/07/2026 14:30", 1, "07400 123456", "low"]])
    for field, names in API_NAMES.items():
        for name in names:
            cell = cell_of(table, name, 0)
            assert (cell.column is not None) == (field in table.fields), (field, name)


def test_a_422_is_shown_on_the_cell_it_names_in_the_apis_own_words(table: RawTable) -> None:
    words = ("The claimant.email field must be a valid email address.",) * 3  # > 100 characters
    results = {
        0: RowResult(Outcome.REJECTED, field_errors={"claimant.email": words}),
        1: RowResult(Outcome.REJECTED, field_errors={"claimant.phone_number": ("Too short.",)}),
    }
    email, phone = sending_issues(table, results)
    assert (email.code, email.severity, email.row, email.column, email.header) == (
        "api-rejected", Severity.ERROR, 2, "D", "Email",
    )  # fmt: skip
    assert email.value == "sian@example" and email.field == "claimant.email"
    assert email.message == "The API refused this value: " + " ".join(words)
    assert (phone.row, phone.column, phone.header, phone.value) == (
        3, None, "claimant.phone_number", None,
    )  # fmt: skip
    assert phone.message == "The API refused this value: Too short."


def test_reader_errors_take_their_rows_out_by_position(tmp_path: Path) -> None:
    """A row the reader found an error in (a control character in a name) is not sent, and
    its cell gets no second issue: the reader's issue names the Excel row, validation keys
    rows by frame position, RawTable.position_of joins them."""
    table = book_sheet(
        tmp_path,
        "\n\nClaimant name,Appointment\nA\x07,14/07/2099 14:30\nB,14/07/2099 14:30\n",
    )
    assert table.source_rows == (4, 5)
    assert [table.position_of(row) for row in (None, 1, 4, 5, 6)] == [None, None, 0, 1, None]
    result = validate_book(table, SETTINGS, now=NOW)
    assert sorted(result.requests) == [1]
    assert [(i.row, i.code) for i in result.issues if i.row] == [(4, "control-characters")]
