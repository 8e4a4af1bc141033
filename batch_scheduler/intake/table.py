"""File -> RawTable: every cell as given, every row numbered as Excel shows it.

The format is decided by the file's bytes, not its name: a zip holding xl/workbook.xml is
an .xlsx (checked by guard.py, read with calamine (xlsx.py), which is several times faster
than openpyxl); anything else must be CSV text (delimited.py). Values are never coerced
here beyond what the cell holds (whole floats become int, empty cells None): trimming and
parsing are the schema's job, so that the results workbook can echo the input exactly.

Nothing here logs; an InputError names the file, sheet, columns and row numbers only.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from batch_scheduler.columns import Field, Kind, column_letter, fields_for
from batch_scheduler.config import IntakeSettings
from batch_scheduler.errors import InputError
from batch_scheduler.i18n import _, pgettext
from batch_scheduler.intake.delimited import ONE_COLUMN, csv_grid
from batch_scheduler.intake.grids import (
    blank_rows,
    cell_values,
    header_text,
    is_blank,
    kept_columns,
    unique_keys,
)
from batch_scheduler.intake.guard import ZIP_MAGIC, check_xlsx_zip, mb
from batch_scheduler.intake.headers import HEADER_SEARCH, header_row, match_fields
from batch_scheduler.intake.sheet_xml import SheetNotes
from batch_scheduler.intake.xlsx import xlsx_grid
from batch_scheduler.issues import make_issue
from batch_scheduler.models import Issue, RawTable, SheetKind, SourceInfo

_DEFAULT_SETTINGS = IntakeSettings()
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Control characters (not tab or line breaks) and the bidi overrides that make text display
# in another order than it is stored: pasted by mistake, or put there to mislead.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def read_table(
    path: Path,
    *,
    kind: SheetKind,
    sheet: str | None = None,
    settings: IntakeSettings = _DEFAULT_SETTINGS,
) -> RawTable:
    """Read a sheet of `kind` (a SheetKind). Raises InputError when the file cannot be used,
    which includes a sheet without a column its kind requires."""
    kind = SheetKind(kind)
    fields = fields_for(kind)
    path = Path(path)
    data = _read_bytes(path, settings)
    issues: list[Issue] = []
    notes = SheetNotes()
    if data[:4] == ZIP_MAGIC:
        check_xlsx_zip(path.name, data, settings)  # before calamine reads a byte of it
        grid, origin, sheet_name, notes = xlsx_grid(path.name, data, sheet, kind)
        fmt = "xlsx"
    else:
        (grid, swallowing), origin, sheet_name, fmt = csv_grid(path.name, data), (0, 0), None, "csv"
        notes = SheetNotes(swallowing=frozenset(swallowing))
        if sheet is not None:
            issues.append(make_issue("sheet-ignored", sheet=sheet))
    source = SourceInfo(
        path=str(path),
        name=path.name,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        format=fmt,
        sheet=sheet_name,
    )
    return _build_table(grid, origin, source, kind, fields, settings, issues, notes)


# ---------------------------------------------------------------- bytes and format


def _read_bytes(path: Path, settings: IntakeSettings) -> bytes:
    name = path.name
    try:
        size = path.stat().st_size
        if size > settings.max_file_bytes:
            raise InputError(
                _(
                    "{name} is {size}; the limit is {limit} (intake max_file_bytes). Split it "
                    "into smaller files, or raise the limit in the [intake] section of the "
                    "config file."
                ).format(name=name, size=mb(size), limit=mb(settings.max_file_bytes))
            )
        data = path.read_bytes()
    except FileNotFoundError:
        missing = _("{name} does not exist (looked for {path}).")
        raise InputError(missing.format(name=name, path=path)) from None
    except IsADirectoryError:
        raise InputError(_("{path} is a folder, not a file.").format(path=path)) from None
    except PermissionError:
        denied = _("{name} cannot be read: permission denied.")
        raise InputError(denied.format(name=name)) from None
    if not data:
        empty = _("{name} is empty. Save the sheet with its header row and try again.")
        raise InputError(empty.format(name=name))
    if data.startswith(_OLE2_MAGIC):
        raise InputError(_old_office_message(name, data))
    return data


def _old_office_message(name: str, data: bytes) -> str:
    """An OLE2 (CFB) container: an encrypted xlsx, a 97-2003 .xls, or another old file.

    Its directory names its streams in UTF-16; finding the name is enough to tell them apart.
    """
    if "EncryptedPackage".encode("utf-16-le") in data:
        message = _(
            "{name} is protected with a password (encrypted), so it cannot be read. Open it "
            "in Excel, remove the password (File > Info > Protect Workbook > Encrypt with "
            "Password, clear the box), save it as .xlsx and try again."
        )
    elif any(s.encode("utf-16-le") + b"\0\0" in data for s in ("Workbook", "Book")):
        message = _(
            "{name} is an old Excel 97-2003 workbook (.xls), which we do not read. Open it "
            "in Excel and save it as .xlsx (Excel Workbook) or .csv, then try again."
        )
    else:
        message = _(
            "{name} is not an Excel .xlsx file: it is an old Excel 97-2003 .xls file, or a "
            "workbook protected with a password. Remove any password, then save it as .xlsx "
            "(Excel Workbook) or .csv and try again."
        )
    return message.format(name=name)


# ---------------------------------------------------------------- grid -> table


def _build_table(
    grid: np.ndarray,
    origin: tuple[int, int],
    source: SourceInfo,
    kind: SheetKind,
    fields: tuple[Field, ...],
    settings: IntakeSettings,
    issues: list[Issue],
    notes: SheetNotes | None = None,
) -> RawTable:
    where = source.where
    filled = np.flatnonzero(~blank_rows(grid))
    if not filled.size:
        raise InputError(_("{where} has no header row: every row is empty.").format(where=where))
    texts = [[header_text(v) for v in grid[r]] for r in filled[:HEADER_SEARCH]]
    pick = header_row(texts, kind)
    head, body_rows = int(filled[pick]), filled[pick + 1 :]
    if pick:
        issues.append(_rows_above(filled[:pick] + origin[0] + 1, head + origin[0] + 1))
    if body_rows.size > settings.max_rows:
        raise InputError(
            _(
                "{where} has {rows:,} rows; the limit is {limit:,} (intake max_rows). Split it "
                "into files of at most that many rows and run each, or raise max_rows in the "
                "[intake] section of the config file."
            ).format(where=where, rows=body_rows.size, limit=settings.max_rows)
        )
    body = grid[body_rows]
    columns = kept_columns(grid[head], body)
    letters = tuple(column_letter(origin[1] + c) for c in columns)
    headers = tuple(header_text(grid[head, c]) for c in columns)
    keys = unique_keys(headers, letters)
    advice = _(ONE_COLUMN) if source.format == "csv" and len(headers) == 1 else ""
    row = head + origin[0] + 1
    marked = (notes or SheetNotes()).names  # our defined names: stable names of columns
    names = tuple(marked.get((row - 1, origin[1] + c)) for c in columns)
    labels = tuple(name or header for name, header in zip(names, headers, strict=True))
    found, found_issues = match_fields(
        where, kind, fields, headers, keys, letters, row=row, advice=advice, labels=labels
    )
    cells = cell_values(body[:, columns], numbers=source.format == "xlsx")
    # dtype object: pandas 3 would turn text into its "str" dtype (and None into NaN)
    frame = pd.DataFrame({key: cells[:, j] for j, key in enumerate(keys)}, dtype=object)
    place = _Place(grid, origin, body_rows, columns, letters, headers, keys, found)
    found_issues += _odd_content(place, notes or SheetNotes(), cells, fields, source.sheet)
    return RawTable(
        frame=frame,
        keys=keys,
        headers=headers,
        letters=letters,
        source_rows=tuple((body_rows + origin[0] + 1).tolist()),
        fields=found,
        source=source,
        kind=kind,
        issues=(*issues, *found_issues),
        names=names if any(names) else (),
    )


def _rows_above(rows: np.ndarray, header: int) -> Issue:
    """The rows with text above the header row found below them (a title, notes)."""
    if rows.size == 1:
        above = _("row {row}").format(row=rows[0])
        verb = pgettext("rows-above-header: row 2 ... is not read", "is")
    else:
        above = _("rows {first} to {last}").format(first=rows[0], last=rows[-1])
        verb = pgettext("rows-above-header: rows 1 to 3 ... are not read", "are")
    return make_issue("rows-above-header", row=None, header_row=header, above=above, verb=verb)


@dataclass(frozen=True)
class _Place:
    """Where a sheet's data sits, to put issues on the right row and column."""

    grid: np.ndarray
    origin: tuple[int, int]
    body_rows: np.ndarray  # grid rows holding data
    columns: list[int]  # kept grid columns
    letters: tuple[str, ...]
    headers: tuple[str, ...]
    keys: tuple[str, ...]
    found: dict[str, str]  # field -> key

    def rows(self) -> dict[int, int]:
        """0-based sheet row -> index of the data row."""
        return {int(r) + self.origin[0]: i for i, r in enumerate(self.body_rows)}

    def field_columns(self) -> dict[int, int]:
        """0-based sheet column -> index of the kept column, for columns that are fields."""
        keyed = set(self.found.values())
        return {self.origin[1] + c: j for j, c in enumerate(self.columns) if self.keys[j] in keyed}

    def issue(self, code: str, row: int | None, j: int | None, **values: Any) -> Issue:
        if j is None:
            return make_issue(code, row=row, **values)
        field = next((f for f, key in self.found.items() if key == self.keys[j]), None)
        header = self.headers[j] or None
        label = header or _("Column {letter}").format(letter=self.letters[j])
        return make_issue(
            code, row=row, column=self.letters[j], header=header, field=field, label=label,
            **values,
        )  # fmt: skip


def _odd_content(
    place: _Place,
    notes: SheetNotes,
    cells: np.ndarray,
    fields: tuple[Field, ...],
    sheet: str | None,
) -> list[Issue]:
    """Issues for what would otherwise be read silently wrong: hidden rows, columns and
    sheets (read, with a warning), merged cells and formulas never calculated (the value
    is lost: an error), control characters in text that is sent (an error)."""
    out: list[Issue] = []
    if notes.unchecked:
        out.append(place.issue("sheet-checks-skipped", None, None))
    if notes.hidden_sheets:
        hidden = ", ".join(f'"{n}"' for n in notes.hidden_sheets)
        out.append(place.issue("hidden-sheet", None, None, hidden=hidden, sheet=sheet))
    rows = place.rows()
    for r in sorted(notes.hidden_rows & rows.keys()):
        out.append(place.issue("hidden-row", r + 1, None))
    for j, c in enumerate(place.columns):
        if place.origin[1] + c in notes.hidden_columns:
            out.append(place.issue("hidden-column", None, j))
    out += _merged_issues(place, notes, rows)
    kept = {c: j for j, c in enumerate(place.columns)}
    for r, c in sorted(notes.swallowing):
        if r in rows and c in kept:
            out.append(place.issue("quote-not-closed", r + 1, kept[c]))
    columns = place.field_columns()
    for r, c in sorted(notes.uncalculated):
        if r in rows and c in columns:
            out.append(place.issue("formula-not-calculated", r + 1, columns[c]))
    out += _control_issues(place, cells, fields)
    return out


def _merged_issues(place: _Place, notes: SheetNotes, rows: dict[int, int]) -> list[Issue]:
    """An error on every field cell a merge covers in a data row: Excel keeps the value in
    the top-left cell only, so these read as empty although the sheet shows a value."""
    out = []
    columns = place.field_columns()
    top, left = place.origin
    for (r0, c0), (r1, c1) in notes.merged:
        inside = 0 <= r0 - top < place.grid.shape[0] and 0 <= c0 - left < place.grid.shape[1]
        if not inside or is_blank(place.grid[r0 - top, c0 - left]):
            continue  # nothing is lost when the merged cells hold no value
        span = f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"
        first = f"{column_letter(c0)}{r0 + 1}"
        for r in sorted(rows.keys() & range(r0, r1 + 1)):
            for c in sorted(columns.keys() & range(c0, c1 + 1)):
                if (r, c) != (r0, c0):
                    out.append(
                        place.issue("merged-cell", r + 1, columns[c], span=span, first=first)
                    )
    return out


def _control_issues(place: _Place, cells: np.ndarray, fields: tuple[Field, ...]) -> list[Issue]:
    """Control characters in the text fields sent as they are (names, references, ...)."""
    text_keys = {
        place.found[f.name] for f in fields if f.kind is Kind.TEXT and f.name in place.found
    }
    out = []
    for j, key in enumerate(place.keys):
        if key not in text_keys:
            continue
        column = cells[:, j]
        if not _CONTROL.search("\n".join(v for v in column if v.__class__ is str)):
            continue  # the usual case: one search over the whole column
        for i, value in enumerate(column):
            bad = sorted(set(_CONTROL.findall(value))) if value.__class__ is str else []
            if bad:
                chars = ", ".join(f"U+{ord(ch):04X}" for ch in bad)
                row = int(place.body_rows[i]) + place.origin[0] + 1
                out.append(place.issue("control-characters", row, j, value=value, chars=chars))
    return out
