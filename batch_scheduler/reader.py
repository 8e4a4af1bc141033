"""File -> RawTable: every cell as given, every row numbered as Excel shows it.

The format is decided by the file's bytes, not its name: a zip holding xl/workbook.xml is
an .xlsx (read with calamine, which is several times faster than openpyxl); anything else
must be CSV text (UTF-8 with or without BOM, UTF-16 with BOM, or cp1252 from older Excel;
`,` `;` or tab, detected). Values are never coerced here beyond what the cell holds (whole
floats become int, empty cells None): trimming and parsing are the schema's job, so that
the results workbook can echo the input exactly.

Nothing here logs; an InputError names the file, sheet, columns and row numbers only.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time
from pathlib import Path, PurePosixPath
from typing import Any
from xml.sax.saxutils import unescape

import numpy as np
import pandas as pd
from defusedxml import DefusedXmlException, ElementTree
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from batch_scheduler.config import IntakeSettings
from batch_scheduler.errors import InputError
from batch_scheduler.fields import Field, alias_index, fields_for, fold_header
from batch_scheduler.models import Issue, RawTable, Severity, SourceInfo

_DEFAULT_SETTINGS = IntakeSettings()
_SAVE_AS = "Save it as .xlsx (Excel Workbook) or .csv and try again."
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_HEAD = 65_536  # bytes of a CSV looked at to decide it is text and find its delimiter
_DELIMITERS = (",", ";", "\t")
_UNZIP_RATIO = 20  # an xlsx may unpack to this many times max_file_bytes, no more (zip bombs)
_RESULTS_SHEET = "Results"
_FLOAT_TYPE: Any = float  # compared elementwise with an array of cell types


def column_letter(index: int) -> str:
    """Excel's letter for a 0-based column index: 0 -> "A", 25 -> "Z", 26 -> "AA"."""
    if index < 0:
        raise ValueError("column index must be >= 0")
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def read_table(
    path: Path,
    *,
    kind: str,
    sheet: str | None = None,
    settings: IntakeSettings = _DEFAULT_SETTINGS,
) -> RawTable:
    """Read a book or cancel sheet. Raises InputError when the file cannot be used."""
    fields = fields_for(kind)
    path = Path(path)
    data = _read_bytes(path, settings)
    issues: list[Issue] = []
    if data[:4] == _ZIP_MAGIC:
        _check_xlsx_zip(path.name, data, settings)
        grid, origin, sheet_name = _xlsx_grid(path.name, data, sheet, kind)
        fmt = "xlsx"
    else:
        grid, origin, sheet_name, fmt = _csv_grid(path.name, data), (0, 0), None, "csv"
        if sheet is not None:
            issues.append(_sheet_ignored(sheet))
    source = SourceInfo(
        path=str(path),
        name=path.name,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        format=fmt,
        sheet=sheet_name,
    )
    return _build_table(grid, origin, source, kind, fields, settings, issues)


# ---------------------------------------------------------------- bytes and format


def _read_bytes(path: Path, settings: IntakeSettings) -> bytes:
    name = path.name
    try:
        size = path.stat().st_size
        if size > settings.max_file_bytes:
            raise InputError(
                f"{name} is {_mb(size)}; the limit is {_mb(settings.max_file_bytes)} "
                "(intake max_file_bytes). Split it into smaller files, or raise the limit in "
                "the [intake] section of the config file."
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{name} does not exist (looked for {path}).") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder, not a file.") from None
    except PermissionError:
        raise InputError(f"{name} cannot be read: permission denied.") from None
    if not data:
        raise InputError(f"{name} is empty. Save the sheet with its header row and try again.")
    if data.startswith(_OLE2_MAGIC):
        raise InputError(
            f"{name} is not an Excel .xlsx file: it is an old Excel 97-2003 .xls file, or a "
            "workbook protected with a password. Remove any password, then save it as .xlsx "
            "(Excel Workbook) or .csv and try again."
        )
    return data


def _mb(size: int) -> str:
    return f"{size / 1_048_576:,.1f} MB"


def _check_xlsx_zip(name: str, data: bytes, settings: IntakeSettings) -> None:
    """A zip must be an xlsx (not .ods/.xlsb/.docx, not damaged, not a zip bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
            mimetype = archive.read("mimetype")[:80] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError):
        raise InputError(
            f"{name} is not an Excel .xlsx file (it looks like a zip file that is damaged, "
            f"perhaps an incomplete download or copy). {_SAVE_AS}"
        ) from None
    if "xl/workbook.xml" in names:
        if unpacked > _UNZIP_RATIO * settings.max_file_bytes:
            raise InputError(
                f"{name} unpacks to {_mb(unpacked)}, more than we will read. Split it into "
                "smaller files and try again."
            )
        return
    if b"opendocument.spreadsheet" in mimetype:
        looks = "an OpenDocument spreadsheet (.ods)"
    elif "xl/workbook.bin" in names:
        looks = "an Excel binary workbook (.xlsb)"
    else:
        looks = "a zip file that holds no workbook, or one that is damaged"
    raise InputError(f"{name} is not an Excel .xlsx file (it looks like {looks}). {_SAVE_AS}")


# ---------------------------------------------------------------- xlsx


def _xlsx_grid(
    name: str, data: bytes, sheet: str | None, kind: str
) -> tuple[np.ndarray, tuple[int, int], str]:
    """The sheet's used range as a 2-D object array ('' for empty) and its top-left cell."""
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet_name = _choose_sheet(name, book, sheet, kind)
        # calamine loses error values (#N/A) and cannot tell a missing cached formula value;
        # the few cells concerned are found in the sheet XML, in parallel with calamine.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(_cell_fixes, data, sheet_name)
            worksheet = book.get_sheet_by_name(sheet_name)
            rows = worksheet.to_python(skip_empty_area=True)
            start = worksheet.start or (0, 0)
            fixes = pending.result()
    except CalamineError:
        raise InputError(f"{name} could not be read as an Excel workbook. {_SAVE_AS}") from None
    except (KeyError, ElementTree.ParseError):
        fixes = []  # calamine read it; only the error-cell touch-ups are lost
    except DefusedXmlException:
        raise InputError(f"{name} contains unsafe XML (entity declarations). {_SAVE_AS}") from None
    grid = _as_grid(rows)
    for row, col, value in fixes:
        r, c = row - start[0], col - start[1]
        if 0 <= r < grid.shape[0] and 0 <= c < grid.shape[1]:
            grid[r, c] = value
    return grid, start, sheet_name


def _as_grid(rows: Sequence[Sequence[Any]]) -> np.ndarray:
    """A 2-D object array of `rows`, padded with ''; calamine's rows are already even."""
    if not rows:
        return np.empty((0, 0), dtype=object)
    widths = set(map(len, rows))
    width = max(widths)
    if len(widths) == 1:
        grid = np.empty((len(rows), width), dtype=object)
        grid[:] = rows
        return grid
    grid = np.full((len(rows), width), "", dtype=object)
    for i, row in enumerate(rows):
        grid[i, : len(row)] = row
    return grid


def _choose_sheet(name: str, book: CalamineWorkbook, sheet: str | None, kind: str) -> str:
    """`sheet` (exact, else ignoring case), else Results for a cancel, else the first one."""
    names = list(book.sheet_names)
    if sheet is not None:
        if sheet in names:
            return sheet
        folded = [n for n in names if n.strip().casefold() == sheet.strip().casefold()]
        if len(folded) == 1:
            return folded[0]
        listed = ", ".join(f'"{n}"' for n in names)
        raise InputError(f'{name} has no sheet named "{sheet}". Its sheets are: {listed}.')
    if kind == "cancel" and _RESULTS_SHEET in names:
        return _RESULTS_SHEET
    visible = [
        meta.name
        for meta in book.sheets_metadata
        if meta.visible == SheetVisibleEnum.Visible and meta.typ == SheetTypeEnum.WorkSheet
    ]
    if visible or names:
        return (visible or names)[0]
    raise InputError(f"{name} has no sheets. {_SAVE_AS}")


_CELL = re.compile(rb"<c\s([^>]*?)(?:/>|>(.*?)</c>)", re.DOTALL)
_ATTR = re.compile(rb'\b(r|t)="([^"]*)"')
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_REF = re.compile(r"([A-Z]+)(\d+)")
_ERROR_MARK = re.compile(rb'\st="e"')
_ERROR_OR_FORMULA_MARK = re.compile(rb'\st="e"|<f[\s>/]')


def _cell_fixes(data: bytes, sheet_name: str) -> list[tuple[int, int, str]]:
    """(row, col, value) for error cells and for formulas whose cached value is not real.

    Error cells become their text ("#N/A"). In a workbook marked fullCalcOnLoad (written by
    a library, never recalculated: xlsxwriter stores 0, openpyxl nothing), a formula's
    cached value is a placeholder, so "" or 0 becomes an empty cell.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        workbook = archive.read("xl/workbook.xml")
        member = _sheet_member(archive, workbook, sheet_name)
        stale = re.search(rb'fullCalcOnLoad="(1|true)"', workbook) is not None
        needles = (b' t="e"', b"<f>", b"<f ", b"<f/>") if stale else (b' t="e"',)
        if member is None or not _contains(archive, member, needles):
            return []  # the usual case: nothing to fix
        xml = archive.read(member)
    markers = _ERROR_OR_FORMULA_MARK if stale else _ERROR_MARK
    fixes = []
    position = 0
    while (marker := markers.search(xml, position)) is not None:
        begin = xml.rfind(b"<c ", 0, marker.start())
        cell = _CELL.match(xml, begin) if begin >= 0 else None
        if cell is None or cell.end() <= marker.start():
            position = marker.end()
            continue
        position = cell.end()
        fix = _cell_fix(cell.group(1), cell.group(2) or b"", stale)
        if fix is not None:
            fixes.append(fix)
    return fixes


def _contains(archive: zipfile.ZipFile, member: str, needles: tuple[bytes, ...]) -> bool:
    """Whether any needle occurs in the member, streamed so a big sheet is never all in memory."""
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(1 << 20):
            window = tail + chunk
            if any(needle in window for needle in needles):
                return True
            tail = window[-8:]
    return False


def _cell_fix(attrs: bytes, body: bytes, stale: bool) -> tuple[int, int, str] | None:
    found = {k.decode(): v.decode() for k, v in _ATTR.findall(attrs)}
    ref = _REF.fullmatch(found.get("r", ""))
    if ref is None:
        return None
    value = _VALUE.search(body)
    text = unescape(value.group(1).decode("utf-8", "replace")) if value else ""
    if found.get("t") == "e":
        new = text
    elif stale and b"<f" in body and text in ("", "0"):
        new = ""
    else:
        return None
    return int(ref.group(2)) - 1, _column_index(ref.group(1)), new


def _column_index(letters: str) -> int:
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1


def _sheet_member(archive: zipfile.ZipFile, workbook: bytes, sheet_name: str) -> str | None:
    """The zip member holding `sheet_name`, via workbook.xml and its relationships."""
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    root = ElementTree.fromstring(workbook)
    rel_id = next(
        (s.get(f"{rel_ns}id") for s in root.iter(f"{ns}sheet") if s.get("name") == sheet_name),
        None,
    )
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    for rel in rels:
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            member = str(PurePosixPath(path))
            return member if member in archive.namelist() else None
    return None


# ---------------------------------------------------------------- csv


def _csv_grid(name: str, data: bytes) -> np.ndarray:
    """All records as text ('' for empty), blank lines included so row numbers stay right."""
    text, encoding = _decode(name, data)
    delimiter, width = _delimiter(text[:_HEAD])
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            sep=delimiter,
            header=None,
            names=range(width),
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
    # Some rows have more cells than the header line: the csv module copes with any shape.
    try:
        return _as_grid(list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)))
    except csv.Error:
        raise InputError(f"{name} is not a CSV file we can read. {_SAVE_AS}") from None


def _decode(name: str, data: bytes) -> tuple[str, str]:
    """The text and its encoding; InputError for bytes that are not text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    head = data[:_HEAD]
    if head.startswith(b"%PDF"):
        raise InputError(f"{name} is a PDF, not a spreadsheet. {_SAVE_AS}")
    controls = sum(head.count(bytes([b])) for b in (*range(0, 9), *range(14, 32)))
    if b"\x00" in head or controls > 2 + len(head) // 100:
        raise InputError(
            f"{name} is neither an Excel .xlsx file nor a CSV text file (its contents look "
            f"like binary data). {_SAVE_AS}"
        )
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        _reject_markup(name, text)
        return text, encoding
    raise InputError(
        f"{name} is not a CSV text file in UTF-8 or Windows-1252 (its contents look like "
        f"binary data). {_SAVE_AS}"
    )


def _reject_markup(name: str, text: str) -> None:
    start = text[:200].lstrip().lower()
    if start.startswith(("<!doctype html", "<html", "<table")):
        raise InputError(
            f"{name} is a web page (HTML) with a spreadsheet's name, not a real workbook. "
            f"Open it in Excel and {_SAVE_AS[0].lower()}{_SAVE_AS[1:]}"
        )
    if start.startswith("<?xml"):
        raise InputError(f"{name} is an XML file, not an .xlsx or CSV file. {_SAVE_AS}")


def _delimiter(head: str) -> tuple[str, int]:
    """The delimiter used most, outside quotes, on the first line with text; and its cells."""
    for line in head.splitlines():
        if line.strip(" \t,;\"'"):
            counts = _count_outside_quotes(line)
            best = max(_DELIMITERS, key=lambda d: counts[d])  # ties: the earlier one
            return best, counts[best] + 1
    return ",", 1


def _count_outside_quotes(line: str) -> dict[str, int]:
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    return counts


def _sheet_ignored(sheet: str) -> Issue:
    return Issue(
        code="sheet-ignored",
        severity=Severity.WARNING,
        message=f'A CSV file has no sheets, so the sheet name "{sheet}" was ignored.',
    )


# ---------------------------------------------------------------- grid -> table


def _build_table(
    grid: np.ndarray,
    origin: tuple[int, int],
    source: SourceInfo,
    kind: str,
    fields: tuple[Field, ...],
    settings: IntakeSettings,
    issues: list[Issue],
) -> RawTable:
    where = _where(source)
    filled = np.flatnonzero(~_blank_rows(grid))
    if not filled.size:
        raise InputError(f"{where} has no header row: every row is empty.")
    head, body_rows = int(filled[0]), filled[1:]
    if body_rows.size > settings.max_rows:
        raise InputError(
            f"{where} has {body_rows.size:,} rows; the limit is {settings.max_rows:,} "
            "(intake max_rows). Split it into files of at most that many rows and run each, "
            "or raise max_rows in the [intake] section of the config file."
        )
    body = grid[body_rows]
    columns = _kept_columns(grid[head], body)
    letters = tuple(column_letter(origin[1] + c) for c in columns)
    headers = tuple(_header_text(grid[head, c]) for c in columns)
    keys = _unique_keys(headers, letters)
    found, found_issues = _match_fields(where, kind, fields, headers, keys, letters)
    cells = _cells(body[:, columns], numbers=source.format == "xlsx")
    # dtype object: pandas 3 would turn text into its "str" dtype (and None into NaN)
    frame = pd.DataFrame({key: cells[:, j] for j, key in enumerate(keys)}, dtype=object)
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
    )


def _where(source: SourceInfo) -> str:
    return f'{source.name} (sheet "{source.sheet}")' if source.sheet else source.name


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _blank_rows(grid: np.ndarray) -> np.ndarray:
    """True for rows whose every cell is empty or whitespace; vectorised, exact."""
    if grid.size == 0:
        return np.ones(grid.shape[0], dtype=bool)
    filled = grid != ""  # the grids hold '' for an empty cell, never None
    first = filled.argmax(axis=1)
    firsts = grid[np.arange(grid.shape[0]), first]
    blank = ~filled.any(axis=1)
    # a row whose first non-empty cell is only spaces needs a closer look (rare)
    suspect = np.fromiter(map(_is_blank, firsts), dtype=bool, count=len(firsts)) & ~blank
    for i in np.flatnonzero(suspect):
        blank[i] = all(map(_is_blank, grid[i]))
    return blank


def _kept_columns(header: np.ndarray, body: np.ndarray) -> list[int]:
    """Columns with a header or with any non-blank cell (letters stay the real ones)."""
    kept = []
    for c in range(header.shape[0]):
        if not _is_blank(header[c]):
            kept.append(c)
            continue
        column = body[:, c]
        if any(not _is_blank(v) for v in column[column != ""]):
            kept.append(c)
    return kept


def _header_text(value: object) -> str:
    if _is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _unique_keys(headers: Sequence[str], letters: Sequence[str]) -> tuple[str, ...]:
    """Header text, "Column X" when blank, with " (2)", " (3)" added to repeats."""
    keys: list[str] = []
    seen: set[str] = set()
    for text, letter in zip(headers, letters, strict=True):
        base = text or f"Column {letter}"
        key, n = base, 2
        while key in seen:
            key, n = f"{base} ({n})", n + 1
        seen.add(key)
        keys.append(key)
    return tuple(keys)


def _cells(body: np.ndarray, numbers: bool) -> np.ndarray:
    """The kept cells: '' -> None and (xlsx) whole floats -> int; nothing else changes."""
    body = np.array(body, dtype=object)  # our own copy
    if numbers and body.size:
        kinds = np.fromiter(map(type, body.ravel()), dtype=object, count=body.size)
        is_float = kinds == _FLOAT_TYPE
        is_float = is_float.reshape(body.shape)
        if is_float.any():
            values = body[is_float].astype(float)
            whole = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < 2**53)
            rows, cols = np.nonzero(is_float)
            body[rows[whole], cols[whole]] = values[whole].astype(np.int64).tolist()
    body[body == ""] = None
    return body


# ---------------------------------------------------------------- headers -> fields


def _match_fields(
    where: str,
    kind: str,
    fields: tuple[Field, ...],
    headers: Sequence[str],
    keys: Sequence[str],
    letters: Sequence[str],
) -> tuple[dict[str, str], list[Issue]]:
    """Canonical field -> key; unknown-column warnings; InputError for clashes and gaps."""
    index = alias_index(fields)
    folded = [fold_header(h) for h in headers]
    results_from = _results_columns(folded) if kind == "cancel" else None
    order = list(range(len(headers)))
    if results_from is not None:  # our own results workbook: its own columns win
        order = order[results_from:] + order[:results_from]
    found: dict[str, int] = {}
    issues: list[Issue] = []
    for i in order:
        name = index.get(folded[i]) if folded[i] else None
        if name is None:
            if results_from is None:
                issues.append(_unknown_column(letters[i], headers[i]))
        elif name not in found:
            found[name] = i
        elif results_from is None:
            raise InputError(_clash(where, fields, name, found[name], i, headers, letters))
    _require(where, kind, fields, found)
    return {name: keys[i] for name, i in sorted(found.items(), key=lambda kv: kv[1])}, issues


def _results_columns(folded: Sequence[str]) -> int | None:
    """Where our own columns start (at `outcome`) if this is a results sheet of `book`."""
    if folded and folded[0] == "sourcerow" and "outcome" in folded:
        return folded.index("outcome")
    return None


def _unknown_column(letter: str, header: str) -> Issue:
    """Issue.where already names the column; the message says what it means for the run."""
    problem = "is not one we know" if header else "has data but no header"
    return Issue(
        code="unknown-column",
        severity=Severity.WARNING,
        message=f"This column {problem}; it is kept and copied to the results but not sent.",
        column=letter,
        header=header or None,
    )


def _clash(
    where: str,
    fields: tuple[Field, ...],
    name: str,
    first: int,
    second: int,
    headers: Sequence[str],
    letters: Sequence[str],
) -> str:
    field = next(f for f in fields if f.name == name)
    return (
        f'{where}: columns {letters[first]} ("{headers[first]}") and {letters[second]} '
        f'("{headers[second]}") both mean "{field.header}" ({name}); keep one and rename '
        "or delete the other."
    )


def _require(where: str, kind: str, fields: tuple[Field, ...], found: dict[str, int]) -> None:
    by_name = {f.name: f for f in fields}
    missing: list[str] = []
    if kind == "book":
        if "claimant_name" not in found:
            missing.append(_accepts(by_name["claimant_name"]))
        if "appointment_at" not in found and not (
            "appointment_date" in found and "appointment_time" in found
        ):
            missing.append(
                f"{_accepts(by_name['appointment_at'])}; or two columns, "
                f"{_accepts(by_name['appointment_date'])} and "
                f"{_accepts(by_name['appointment_time'])}"
            )
    elif "appointment_id" not in found and "reference" not in found:
        missing.append(
            f"{_accepts(by_name['appointment_id'])}, or {_accepts(by_name['reference'])}"
        )
    if missing:
        raise InputError(
            f"{where} is missing a required column: "
            + " | ".join(missing)
            + ". The header must be the first non-empty row."
        )


def _accepts(field: Field) -> str:
    spellings = ", ".join(f'"{s}"' for s in (field.header, *field.aliases) if "[" not in s)
    return f"{field.header} (headers accepted: {spellings})"
