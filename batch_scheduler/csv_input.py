"""CSV bytes -> a grid of text: the encoding and delimiter found, every record kept.

UTF-8 with or without BOM, UTF-16 with BOM, or cp1252 from older Excel; `,` `;` tab or
`|`, detected (or given by Excel's `sep=` first line). Nothing here logs; an InputError
names the file and line only.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re

import numpy as np
import pandas as pd

from batch_scheduler.errors import InputError
from batch_scheduler.grids import as_grid
from batch_scheduler.xlsx_package import SAVE_AS

_HEAD = 65_536  # bytes of a CSV looked at to decide it is text and find its delimiter
_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = "commas, semicolons, tabs or pipes (|)"
_SEP_LINE = re.compile(r"sep=(.)\r?\n")  # Excel's hint line: it uses the delimiter, hides the line
# A CSV whose header row holds none of the delimiters reads as one column.
ONE_COLUMN = (
    f"Its header row reads as one column: we looked for {_DELIMITER_NAMES} between the "
    "headers and found none. Save it from Excel as CSV (comma delimited)."
)


def csv_grid(name: str, data: bytes) -> np.ndarray:
    """All records as text ('' for empty), blank lines included so row numbers stay right."""
    text, encoding = _decode(name, data)
    hint = _SEP_LINE.match(text)
    skip = 1 if hint else 0
    body = text[hint.end() :] if hint else text
    delimiter, width = _layout(body[:_HEAD], hint.group(1) if hint else None)
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            sep=delimiter,
            header=None,
            names=range(width),
            skiprows=skip,
            dtype=object,
            na_filter=False,
            keep_default_na=False,
            skip_blank_lines=False,
            encoding=encoding,
            engine="c",
        )
        return frame.to_numpy(dtype=object)
    except pd.errors.ParserError as exc:
        unclosed = re.search(r"EOF inside string starting at row (\d+)", str(exc))
        if unclosed:
            row = int(unclosed.group(1)) + 1
            raise InputError(
                f'{name}: a quote (") opened in row {row} is never closed, so the rest of the '
                "file would be one cell. Fix the quotes in that row and try again."
            ) from None
    # A row further down has more cells than any before it: the csv module copes with any
    # shape (pandas would need the width up front).
    try:
        return as_grid(list(csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)))
    except csv.Error:
        raise InputError(f"{name} is not a CSV file we can read. {SAVE_AS}") from None


def _layout(head: str, given: str | None) -> tuple[str, int]:
    """The delimiter (`given`, else detected) and the most cells in a record of the head.

    Both are taken from records, not lines: a header cell with a line break in it (Alt+Enter
    in Excel) would otherwise make the header look narrower than it is, and pandas would
    silently turn the surplus leading columns into its index. A row wider than the header
    widens the grid too (its extra cells are kept, under no header).
    """
    parsed = {d: _records(head, d) for d in ((given,) if given else _DELIMITERS)}
    delimiter = given or _delimiter(
        {d: [r for r in rs if _has_text(r)] for d, rs in parsed.items()}
    )
    return delimiter, max(map(len, parsed[delimiter]), default=1)


def _records(head: str, delimiter: str) -> list[list[str]]:
    """The records that start in `head` (a quoted cell may hold line breaks, so a record can
    span lines); the last one may be cut short."""
    records: list[list[str]] = []
    with contextlib.suppress(csv.Error):  # a quote still open where the head was cut
        for record in csv.reader(io.StringIO(head, newline=""), delimiter=delimiter):
            records.append(record)
    return records


def _delimiter(texts: dict[str, list[list[str]]]) -> str:
    """The delimiter that splits the first record with text into the most cells (ties: the
    earlier in _DELIMITERS); when none splits it (a title above the headers?), the next
    records with text decide; else ','."""
    for i in range(min(10, max(map(len, texts.values())))):
        widths = {d: len(records[i]) if i < len(records) else 0 for d, records in texts.items()}
        best = max(_DELIMITERS, key=lambda d: widths[d])
        if widths[best] > 1:
            return best
    return ","


def _has_text(record: list[str]) -> bool:
    return any(cell.strip(" \t\"'") for cell in record)


def _decode(name: str, data: bytes) -> tuple[str, str]:
    """The text and its encoding; InputError for bytes that are not text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    head = data[:_HEAD]
    if head.startswith(b"%PDF"):
        raise InputError(f"{name} is a PDF, not a spreadsheet. {SAVE_AS}")
    controls = sum(head.count(bytes([b])) for b in (*range(0, 9), *range(14, 32)))
    if b"\x00" in head or controls > 2 + len(head) // 100:
        raise InputError(
            f"{name} is neither an Excel .xlsx file nor a CSV text file (its contents look "
            f"like binary data). {SAVE_AS}"
        )
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8-sig"
    except UnicodeDecodeError as exc:
        text, encoding = _not_utf8(name, data, exc.start), "cp1252"
    _reject_markup(name, text)
    return text, encoding


_UTF8_LETTER = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _not_utf8(name: str, data: bytes, bad: int) -> str:
    """Text that is not UTF-8: Windows-1252 (older Excel) if all of it is, else InputError.

    A file with UTF-8 letters (é as two bytes) AND bytes that are not UTF-8 mixes two
    encodings, usually text pasted from an older program. It is refused, naming the first
    line that is not UTF-8: decoding it either way, or line by line, would put wrong
    letters in names that are sent and booked, and a re-save fixes it in a minute.
    """
    line = data.count(b"\n", 0, bad) + 1
    if _UTF8_LETTER.search(data):
        raise InputError(
            f"{name} mixes two text encodings: it is UTF-8, but line {line} is not (perhaps "
            "text pasted from an older program), so some letters would come out wrong. Open "
            'it in Excel and save it as "CSV UTF-8 (Comma delimited)", or retype the accented '
            f"letters on line {line}, then try again."
        )
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{name} is not a CSV text file in UTF-8 or Windows-1252 (line {line} holds bytes "
            f"that are neither). {SAVE_AS}"
        ) from None


def _reject_markup(name: str, text: str) -> None:
    start = text[:200].lstrip().lower()
    if start.startswith(("<!doctype html", "<html", "<table")):
        raise InputError(
            f"{name} is a web page (HTML) with a spreadsheet's name, not a real workbook. "
            f"Open it in Excel and {SAVE_AS[0].lower()}{SAVE_AS[1:]}"
        )
    if start.startswith("<?xml"):
        raise InputError(f"{name} is an XML file, not an .xlsx or CSV file. {SAVE_AS}")
