"""Hostile and broken input files, through the real CLI (`book`) against the loopback sandbox.

Two kinds of promise, decided per case and named in each test:
- A file that cannot be used at all (empty, no rows, missing or clashing columns, .xls,
  password, damaged zip, zip bomb, too many rows, binary, .ods, mixed encodings) stops the
  run: exit 2, one message naming the file and saying what to do, nothing sent.
- A readable file with odd content is read, and whatever would silently go wrong becomes a
  per-row issue (row, column, cause): merged cells and formulas never calculated lose their
  value (error on the row), control characters in text that is sent (error), hidden rows,
  columns and sheets are data the ops person may not see (read, with a warning).
Never a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from tests.support import hostile_files as hostile
from tests.support.cli import cli_book
from tests.support.sheets import BOOK_HEADERS, book_row, sheet_rows, slot, write_xlsx

ROOT = Path(__file__).resolve().parents[2]
CONFIG = "[departments]\nBenefits = 1\nHousing = 2\n"


def book(env: dict[str, str], sheet: Path, sandbox: Any, *extra: Any) -> Any:
    """`book` beside the sheet; an exception is caught, so `refused` can say it leaked."""
    return cli_book(env, sheet.parent, sheet, sandbox.base_url, *extra, catch_exceptions=True)


def refused(result: Any, sandbox: Any, name: str, *says: str) -> str:
    """Exit 2, the file named, what to do said, no traceback, nothing sent."""
    output = result.output
    assert result.exit_code == 2, output
    assert not isinstance(result.exception, BaseException) or isinstance(
        result.exception, SystemExit
    ), result.exception
    assert "Traceback" not in output
    assert f"Error: {name}" in output
    lowered = output.lower()
    for words in says:
        assert words.lower() in lowered, output
    assert "try again" in lowered or "split" in lowered or "keep one" in lowered
    assert sandbox.requests() == []
    return output


def issues(folder: Path) -> list[tuple[Any, ...]]:
    """(row, column, code, severity) of the issues in the results workbook, but for the
    warning that Notes (in every sheet here) is not a column we know."""
    return [
        (i["source_row"], i["column"], i["code"], i["severity"])
        for i in sheet_rows(folder / "results.xlsx", "Issues")
        if i["code"] != "unknown-column"
    ]


def sent_references(sandbox: Any) -> set[str]:
    return {a["reference"] for a in sandbox.appointments()}


# ---------------------------------------------------------------- files that stop the run


def test_empty_file_stops_the_run(tmp_path: Path, env: Any, sandbox: Any) -> None:
    sheet = hostile.csv_file(tmp_path, "claimants.csv", b"")
    refused(book(env, sheet, sandbox), sandbox, "claimants.csv", "is empty", "header row")


def test_header_only_stops_the_run_nothing_to_book(tmp_path: Path, env: Any, sandbox: Any) -> None:
    sheet = write_xlsx(tmp_path / "claimants.xlsx", [])
    refused(book(env, sheet, sandbox), sandbox, "claimants.xlsx", "no rows", "add the rows")


def test_missing_required_columns_stop_the_run(tmp_path: Path, env: Any, sandbox: Any) -> None:
    sheet = write_xlsx(tmp_path / "claimants.xlsx", [book_row(0)], headers=("Reference", "Phone"))
    out = refused(book(env, sheet, sandbox), sandbox, "claimants.xlsx", "missing required columns")
    assert "The headers found in row 1: A “Reference”, B “Phone”." in out
    assert "headers accepted" in out and "Claimant name" in out


@pytest.mark.parametrize("second", ["Mobile", "Claimant name"])
def test_two_headers_meaning_one_field_stop_the_run(
    tmp_path: Path, env: Any, sandbox: Any, second: str
) -> None:
    """Which of two columns to send is a guess; the user decides (named: both letters)."""
    headers = (*BOOK_HEADERS, second)
    rows = [{**book_row(0), second: "07400 900111"}]
    sheet = write_xlsx(tmp_path / "claimants.xlsx", rows, headers=headers)
    out = refused(book(env, sheet, sandbox), sandbox, "claimants.xlsx", "keep one and rename")
    assert f'J ("{second}")' in out


def test_old_xls_stops_the_run(tmp_path: Path, env: Any, sandbox: Any) -> None:
    sheet = hostile.old_xls(tmp_path)
    refused(book(env, sheet, sandbox), sandbox, "claimants.xls", "97-2003", "save it as .xlsx")


def test_password_protected_xlsx_stops_the_run(tmp_path: Path, env: Any, sandbox: Any) -> None:
    sheet = hostile.password_xlsx(tmp_path)
    out = refused(book(env, sheet, sandbox), sandbox, "claimants.xlsx", "remove the password")
    assert "97-2003" not in out  # told apart from an old .xls


@pytest.mark.parametrize("damage", [hostile.truncated_xlsx, hostile.corrupt_member_xlsx])
def test_damaged_zip_stops_the_run(tmp_path: Path, env: Any, sandbox: Any, damage: Any) -> None:
    """Cut short (no zip index) or damaged inside (index whole, a member's bytes wrong)."""
    sheet = damage(tmp_path)
    refused(book(env, sheet, sandbox), sandbox, "claimants.xlsx", "damaged", "download it again")


@pytest.mark.parametrize("lie", [False, True], ids=["honest-headers", "lying-headers"])
def test_zip_bomb_is_refused_before_parsing_with_bounded_memory(
    tmp_path: Path, env: Any, lie: bool
) -> None:
    """A 3 MB xlsx that inflates to 3 GiB. Honest headers: refused on the sizes declared,
    nothing inflated. Lying headers (the sheet claims 2 KB): refused once inflating passes
    2 KB. Run in a fresh process that reports its own peak RSS and CPU time, so the figures
    are the refusal's alone: well under the 3 GiB a parser would need. The peak is VmHWM:
    ru_maxrss carries the pytest worker's own peak across exec (it failed in full runs)."""
    sheet = hostile.zip_bomb_xlsx(tmp_path, lie=lie)
    assert sheet.stat().st_size < 4_000_000
    probe = (
        "import json, re, sys, time\n"
        "from click.testing import CliRunner\n"
        "from batch_scheduler.cli import cli\n"
        "cpu = time.process_time()\n"
        "result = CliRunner().invoke(cli, sys.argv[1:])\n"
        "print(json.dumps({'exit': result.exit_code, 'output': result.output,\n"
        "    'cpu': time.process_time() - cpu,\n"
        "    'peak_mib': int(re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read())[1])\n"
        "    / 1024}))\n"
    )
    argv = [sys.executable, "-c", probe, "validate", str(sheet)]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stdout + done.stderr  # the probe's own failure, whole
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["exit"] == 2 and "Traceback" not in done.stderr + report["output"]
    assert "Error: claimants.xlsx" in report["output"]
    assert "zip bomb" in report["output"] and "not opened" in report["output"]
    assert report["peak_mib"] < 400, report  # the interpreter with pandas is ~150 MiB
    print(f"zip bomb ({'lying' if lie else 'honest'}): {report['cpu']:.3f} CPU s to refuse, "
          f"peak RSS {report['peak_mib']:.0f} MiB")  # fmt: skip


def test_too_many_rows_stops_the_run(tmp_path: Path, env: Any, sandbox: Any) -> None:
    (tmp_path / "config.toml").write_text(CONFIG + "\n[intake]\nmax_rows = 5\n")
    sheet = write_xlsx(tmp_path / "claimants.xlsx", [book_row(i) for i in range(6)])
    refused(book(env, sheet, sandbox), sandbox, "claimants.xlsx", "6 rows", "limit is 5")


def test_binary_garbage_named_csv_stops_the_run(tmp_path: Path, env: Any, sandbox: Any) -> None:
    sheet = hostile.garbage_csv(tmp_path)
    refused(book(env, sheet, sandbox), sandbox, "claimants.csv", "binary data", "save it as")


@pytest.mark.parametrize(
    ("make", "name", "looks"),
    [
        (hostile.ods_file, "claimants.ods", "opendocument spreadsheet (.ods)"),
        (hostile.docx_named_xlsx, "claimants.xlsx", "holds no workbook"),
    ],
)
def test_ods_or_other_zip_stops_the_run(
    tmp_path: Path, env: Any, sandbox: Any, make: Any, name: str, looks: str
) -> None:
    sheet = make(tmp_path)
    refused(book(env, sheet, sandbox), sandbox, name, looks, "save it as .xlsx")


def test_csv_mixing_utf8_and_cp1252_stops_the_run_naming_the_line(
    tmp_path: Path, env: Any, sandbox: Any
) -> None:
    """Refused, not guessed: decoding as cp1252 would turn every UTF-8 "â" into "Ã¢" in
    names that are booked, and guessing line by line can be wrong unseen. A re-save as
    CSV UTF-8 fixes it; the message names the first line that is not UTF-8."""
    lines = [
        "Claimant name,Appointment",
        f"Siân Llewelyn,{slot(0):%d/%m/%Y %H:%M}",
        f"Zoë Price,{slot(1):%d/%m/%Y %H:%M}",
    ]
    data = "\n".join(lines).encode() + f"\nRenée Martin,{slot(2):%d/%m/%Y %H:%M}\n".encode("cp1252")
    sheet = hostile.csv_file(tmp_path, "claimants.csv", data)
    refused(book(env, sheet, sandbox), sandbox, "claimants.csv", "line 4", "csv utf-8")


def test_workbook_xml_with_entity_declarations_stops_the_run(
    tmp_path: Path, env: Any, sandbox: Any
) -> None:
    """A "billion laughs" DTD in the sheet: never expanded, refused at once."""
    sheet = write_xlsx(tmp_path / "good.xlsx", [book_row(0)])
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">'.encode() if i > 1 else b""
            for i in range(2, 10)
        )
        + b"]>"
    )
    path = tmp_path / "claimants.xlsx"
    with zipfile.ZipFile(path, "w") as out:
        for member, content in members(sheet).items():
            if member == "xl/worksheets/sheet1.xml":
                body = content.split(b"?>", 1)[-1]
                content = laughs + body.replace(b"<t>Claimant 0</t>", b"<t>&lol9;</t>")
            out.writestr(member, content)
    assert b"<t>&lol9;</t>" in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    out = refused(book(env, path, sandbox), sandbox, "claimants.xlsx", "save it as .xlsx")
    assert "lol" not in out


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# ---------------------------------------------------------------- readable, odd content


def test_xlsx_with_a_csv_name_is_read_by_its_content(
    tmp_path: Path, env: Any, sandbox: Any
) -> None:
    """A wrong extension is no reason to refuse: the bytes decide, and everything is booked."""
    sheet = write_xlsx(tmp_path / "claimants.csv", [book_row(i) for i in range(3)])
    result = book(env, sheet, sandbox)
    assert result.exit_code == 0, result.output
    assert sent_references(sandbox) == {"REF-00000", "REF-00001", "REF-00002"}


def test_merged_cells_flag_the_rows_that_lose_their_value(
    tmp_path: Path, env: Any, sandbox: Any
) -> None:
    """Department "Housing" merged down rows 3-5: Excel keeps it in H3 only, so rows 4 and 5
    would silently go without a department. They are errors; the rest is booked."""
    sheet = write_xlsx(tmp_path / "claimants.xlsx", [book_row(i) for i in range(5)])
    workbook = openpyxl.load_workbook(sheet)
    data = workbook.active
    assert data is not None
    data["H3"] = "Housing"
    data.merge_cells("H3:H5")
    workbook.save(sheet)

    result = book(env, sheet, sandbox)

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert sent_references(sandbox) == {"REF-00000", "REF-00001", "REF-00004"}
    assert issues(tmp_path) == [(4, "H", "merged-cell", "error"), (5, "H", "merged-cell", "error")]
    assert "H3:H5" in result.output


def test_hidden_rows_columns_and_first_sheet_are_read_with_warnings(
    tmp_path: Path, env: Any, sandbox: Any
) -> None:
    """A hidden sheet first: the first visible one is read (a warning says so). Hidden or
    filtered-out rows are data the ops person may not see: booked, each one warned."""
    sheet = write_xlsx(tmp_path / "claimants.xlsx", [book_row(i) for i in range(4)])
    workbook = openpyxl.load_workbook(sheet)
    data = workbook.active
    assert data is not None
    data.row_dimensions[3].hidden = True
    data.row_dimensions[5].hidden = True
    data.column_dimensions["D"].hidden = True
    old = workbook.create_sheet("Last week", 0)
    old.sheet_state = "hidden"
    old.append(["Claimant name", "Appointment"])
    old.append(["Somebody Else", slot(40)])
    workbook.save(sheet)

    result = book(env, sheet, sandbox)

    assert result.exit_code == 0, result.output
    assert sent_references(sandbox) == {f"REF-{i:05d}" for i in range(4)}
    assert issues(tmp_path) == [
        (None, None, "hidden-sheet", "warning"),
        (None, "D", "hidden-column", "warning"),
        (3, None, "hidden-row", "warning"),
        (5, None, "hidden-row", "warning"),
    ]
    assert '"Last week"' in result.output


def test_formulas_use_cached_values_and_flag_those_never_calculated(
    tmp_path: Path, env: Any, sandbox: Any
) -> None:
    """A formula's cached result is what Excel shows: used. A formula written by a program
    and never calculated has no result: an error on its cell, not an empty cell."""
    path = tmp_path / "claimants.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    data = workbook.add_worksheet("Claimants")
    data.write_row(0, 0, ["Reference", "Claimant name", "Appointment", "Phone"])
    data.write_row(1, 0, ["REF-1", "Siân Llewelyn", slot(0).strftime("%d/%m/%Y %H:%M")])
    data.write_formula(1, 3, '="07400 "&"900123"', None, "07400 900123")  # cached
    data.write_row(2, 0, ["REF-2", "Rhys Jones", slot(1).strftime("%d/%m/%Y %H:%M")])
    data.write_formula(2, 3, '="07400 "&"900124"')  # never calculated
    data.write_string(3, 0, "REF-3")
    data.write_formula(3, 1, '="Ffion "&"Evans"', None, "Ffion Evans")
    data.write_string(3, 2, slot(2).strftime("%d/%m/%Y %H:%M"))
    workbook.close()

    result = book(env, path, sandbox)

    assert result.exit_code == 1, result.output
    stored = {a["reference"]: a for a in sandbox.appointments()}
    assert set(stored) == {"REF-1", "REF-3"}
    assert stored["REF-1"]["claimant"]["phone_number"] == "+447400900123"
    assert stored["REF-3"]["claimant"]["name"] == "Ffion Evans"
    assert issues(tmp_path) == [(3, "D", "formula-not-calculated", "error")]


def test_openpyxl_formula_without_a_result_is_an_error_not_an_empty_cell(
    tmp_path: Path, env: Any, sandbox: Any
) -> None:
    rows = [book_row(0), book_row(1, Email='=LOWER("A@EXAMPLE.ORG")')]
    sheet = tmp_path / "claimants.xlsx"
    workbook = openpyxl.Workbook()
    data = workbook.active
    assert data is not None
    data.append(list(BOOK_HEADERS))
    for row in rows:
        data.append([row.get(h) for h in BOOK_HEADERS])
    workbook.save(sheet)

    result = book(env, sheet, sandbox)

    assert result.exit_code == 1, result.output
    assert sent_references(sandbox) == {"REF-00000"}
    assert (3, "E", "formula-not-calculated", "error") in issues(tmp_path)


def test_cells_of_100k_characters_are_issues_on_their_cells(
    tmp_path: Path, env: Any, sandbox: Any
) -> None:
    """Too long for the API (name) or no phone at all: errors on those cells, with short
    messages. In a column that is only echoed (Notes), the results keep what Excel can hold."""
    rows = [book_row(i) for i in range(3)]
    rows[0]["Claimant name"] = "A" * 100_000
    rows[1]["Phone"] = "7" * 100_000
    rows[2]["Notes"] = "N" * 100_000
    sheet = write_xlsx(tmp_path / "claimants.xlsx", rows)

    result = book(env, sheet, sandbox)

    assert result.exit_code == 1, result.output
    assert sent_references(sandbox) == {"REF-00002"}
    assert issues(tmp_path) == [(2, "B", "too-long", "error"), (3, "D", "invalid-phone", "error")]
    assert max(map(len, result.output.splitlines())) < 1_000  # messages do not quote 100k
    notes = sheet_rows(tmp_path / "results.xlsx")[2]["Notes"]
    assert notes.startswith("NNN") and len(notes) <= 32_767


def test_control_characters_in_names_are_errors(tmp_path: Path, env: Any, sandbox: Any) -> None:
    """A bell, an escape or a right-to-left override in a name would be sent and shown to
    the claimant: the cell is an error naming the characters, the other rows are booked."""
    when = [f"{slot(i):%d/%m/%Y %H:%M}" for i in range(4)]
    text = (
        "Reference,Claimant name,Appointment\n"
        f"R0,Siân Llewelyn,{when[0]}\n"
        f"R1,Bob\x07 Jones,{when[1]}\n"
        f"R2,Eve \u202eSmith,{when[2]}\n"
        f"R3,\x1b[31mMallory,{when[3]}\n"
    )
    sheet = hostile.csv_file(tmp_path, "claimants.csv", text)

    result = book(env, sheet, sandbox)

    assert result.exit_code == 1, result.output
    assert sent_references(sandbox) == {"R0"}
    assert issues(tmp_path) == [(r, "B", "control-characters", "error") for r in (3, 4, 5)]
    assert "U+0007" in result.output and "U+202E" in result.output


def test_emoji_and_right_to_left_names_are_booked_exactly(
    tmp_path: Path, env: Any, sandbox: Any
) -> None:
    names = ["Zoë 😀 Price", "محمد علي", "דוד לוי", "👩‍👩‍👧 Family Jones"]
    rows = [book_row(i, **{"Claimant name": name}) for i, name in enumerate(names)]
    sheet = write_xlsx(tmp_path / "claimants.xlsx", rows)

    result = book(env, sheet, sandbox)

    assert result.exit_code == 0, result.output
    stored = {a["reference"]: a["claimant"]["name"] for a in sandbox.appointments()}
    assert stored == {f"REF-{i:05d}": name for i, name in enumerate(names)}
    assert [r["Claimant name"] for r in sheet_rows(tmp_path / "results.xlsx")] == names


def odd_content_workbook(folder: Path) -> Path:
    """Four rows; row 3 hidden; row 5's phone an error value (#N/A) that reads as empty."""
    sheet = write_xlsx(folder / "plain.xlsx", [book_row(i) for i in range(4)])
    workbook = openpyxl.load_workbook(sheet)
    data = workbook.active
    assert data is not None
    data.row_dimensions[3].hidden = True
    data["D5"] = "#N/A"
    data["D5"].data_type = "e"
    workbook.save(sheet)
    return sheet


@pytest.mark.parametrize(
    "layout",
    [hostile.workbook_in_another_folder, hostile.backslash_names, hostile.prefixed_sheets],
)
def test_valid_workbooks_of_odd_layout_are_read_and_checked(
    tmp_path: Path, env: Any, sandbox: Any, layout: Any
) -> None:
    """Issue 11: a package whose workbook is not at xl/workbook.xml (found through
    _rels/.rels) and one whose zip entries use backslashes were refused as damaged,
    though calamine reads both; a sheet written as <x:row>, <x:c> was read without its
    checks, so the #N/A phone went out as no phone at all."""
    path = layout(odd_content_workbook(tmp_path), tmp_path / "claimants.xlsx")

    result = book(env, path, sandbox)

    assert result.exit_code == 1, result.output
    assert sent_references(sandbox) == {"REF-00000", "REF-00001", "REF-00002"}
    assert issues(tmp_path) == [
        (3, None, "hidden-row", "warning"),
        (5, "D", "invalid-phone", "error"),
    ]


def test_sheet_xml_that_cannot_be_parsed_says_its_checks_did_not_run(
    tmp_path: Path, env: Any, sandbox: Any
) -> None:
    """calamine reads a sheet whose namespace prefix is never declared; an XML parser
    cannot. The values are read and booked; a warning says the hidden-row and error-value
    checks did not run (they used to be skipped without a word)."""
    path = hostile.prefixed_sheets(
        odd_content_workbook(tmp_path), tmp_path / "claimants.xlsx", declared=False
    )

    result = book(env, path, sandbox)

    assert result.exit_code == 0, result.output
    assert sent_references(sandbox) == {f"REF-{i:05d}" for i in range(4)}
    assert issues(tmp_path) == [(None, None, "sheet-checks-skipped", "warning")]
    assert "could not be checked for hidden rows" in result.output


# ---------------------------------------------------------------- XML is parsed safely


def test_xml_is_parsed_with_defusedxml_only() -> None:
    """defusedxml is a dependency, openpyxl uses it (openpyxl.xml.DEFUSEDXML), and no module
    of the package parses XML with the standard library's (unsafe) parsers or lxml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert any(d.startswith("defusedxml") for d in project["project"]["dependencies"])
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True
    unsafe = ("xml.etree", "xml.dom", "xml.sax import make_parser", "xml.sax import parse",
              "import lxml", "from lxml", "xml.parsers.expat")  # fmt: skip
    for module in (ROOT / "batch_scheduler").rglob("*.py"):
        source = module.read_text()
        assert not [u for u in unsafe if u in source], module
