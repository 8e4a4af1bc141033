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
from collections.abc import Iterator
from itertools import islice

import numpy as np
import pandas as pd

from batch_scheduler.errors import InputError
from batch_scheduler.i18n import N_, _
from batch_scheduler.intake.encoding import decode
from batch_scheduler.intake.grids import as_grid
from batch_scheduler.intake.guard import save_again

_HEAD = 65_536  # characters of a CSV looked at to find its delimiter and width
_DELIMITERS = (",", ";", "\t", "|")
_LOOKED_AT = 10  # records with text that may decide the delimiter
_SEP_LINE = re.compile(r"sep=(.)\r?\n")  # Excel's hint line: it uses the delimiter, hides the line
# A CSV whose header row holds none of the delimiters reads as one column (translated when
# shown).
ONE_COLUMN = N_(
    "Its header row reads as one column: we looked for commas, semicolons, tabs or pipes (|) "
    "between the headers and found none. Save it from Excel as CSV (comma delimited)."
)


def csv_grid(name: str, data: bytes) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """All records as text ('' for empty), blank lines included so row numbers stay right;
    and where a cell holds what looks like whole rows (a quote not closed where it should
    be swallows the rows after it into one cell), as (row, column) of the grid."""
    text, encoding = decode(name, data)
    hint = _SEP_LINE.match(text)
    body = text[hint.end() :] if hint else text
    delimiter, width = _layout(body[:_HEAD], hint.group(1) if hint else None)
    grid = _grid(name, data, body, encoding, delimiter, width, skip=1 if hint else 0)
    if grid.shape[0] >= body.count("\n"):
        return grid, []  # no record spans lines: the usual case, nothing to look at
    first = next(iter(_text_records(body[:_HEAD], delimiter)), [])  # the header, usually
    return grid, _swallowing_cells(grid, delimiter, max(3, len(first) - 1))


def _grid(
    name: str, data: bytes, body: str, encoding: str, delimiter: str, width: int, skip: int
) -> np.ndarray:
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
                _(
                    '{name}: a quote (") opened in row {row} is never closed, so the rest of '
                    "the file would be one cell. Fix the quotes in that row and try again."
                ).format(name=name, row=row)
            ) from None
    # A row further down has more cells than any before it: the csv module copes with any
    # shape (pandas would need the width up front).
    try:
        return as_grid(list(csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)))
    except csv.Error:
        raise save_again(N_("{name} is not a CSV file we can read."), name=name) from None


def _swallowing_cells(grid: np.ndarray, delimiter: str, enough: int) -> list[tuple[int, int]]:
    """Cells with a line break followed by a line holding `enough` delimiters: a row of the
    file read into a cell. A note written over two lines rarely has so many."""
    found = []
    for c in range(grid.shape[1]):
        for r, value in enumerate(grid[:, c]):
            if "\n" in value and any(
                line.count(delimiter) >= enough for line in value.splitlines()[1:]
            ):
                found.append((r, c))
    return sorted(found)


def _layout(head: str, given: str | None) -> tuple[str, int]:
    """The delimiter (`given`, else detected) and the most cells in a record of the head.

    Both are taken from records, not lines: a header cell with a line break in it (Alt+Enter
    in Excel) would otherwise make the header look narrower than it is, and pandas would
    silently turn the surplus leading columns into its index. A row wider than the header
    widens the grid too (its extra cells are kept, under no header).
    """
    delimiter = given or _delimiter({d: _text_records(head, d) for d in _DELIMITERS})
    return delimiter, max(map(len, _records(head, delimiter)), default=1)


def _records(head: str, delimiter: str) -> Iterator[list[str]]:
    """The records that start in `head` (a quoted cell may hold line breaks, so a record can
    span lines); the last one may be cut short."""
    with contextlib.suppress(csv.Error):  # a quote still open where the head was cut
        yield from csv.reader(io.StringIO(head, newline=""), delimiter=delimiter)


def _text_records(head: str, delimiter: str) -> list[list[str]]:
    """The first _LOOKED_AT records with text, read with `delimiter`."""
    return list(islice(filter(_has_text, _records(head, delimiter)), _LOOKED_AT))


def _delimiter(texts: dict[str, list[list[str]]]) -> str:
    """The delimiter that splits the first record with text into the most cells (ties: the
    earlier in _DELIMITERS); when none splits it (a title above the headers?), the next
    records with text decide; else ','."""
    for i in range(max(map(len, texts.values()))):
        widths = {d: len(records[i]) if i < len(records) else 0 for d, records in texts.items()}
        best = max(_DELIMITERS, key=lambda d: widths[d])
        if widths[best] > 1:
            return best
    return ","


def _has_text(record: list[str]) -> bool:
    return any(cell.strip(" \t\"'") for cell in record)
