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
import struct
import zipfile
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path, PurePosixPath
from typing import Any
from xml.sax.saxutils import unescape

import numpy as np
import pandas as pd
from defusedxml import DefusedXmlException, ElementTree
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from batch_scheduler.codes import make_issue
from batch_scheduler.config import IntakeSettings
from batch_scheduler.errors import InputError
from batch_scheduler.fields import Field, Kind, alias_index, fields_for, fold_header
from batch_scheduler.gcpause import collector_paused
from batch_scheduler.models import Issue, RawTable, Severity, SourceInfo
from batch_scheduler.results_columns import results_start
from batch_scheduler.xlsx_cells import column_letter

_DEFAULT_SETTINGS = IntakeSettings()
_SAVE_AS = "Save it as .xlsx (Excel Workbook) or .csv and try again."
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_HEAD = 65_536  # bytes of a CSV looked at to decide it is text and find its delimiter
_DELIMITERS = (",", ";", "\t")
# Zip bombs: a member may unpack to at most _MAX_RATIO times its packed size (real sheets
# pack ~11:1; deflate's ceiling is ~1032:1) unless it stays under _RATIO_GRACE; the whole
# workbook to at most _XML_PER_ROW bytes per row of max_rows (a real 20-column sheet needs
# ~1,000). The sizes a zip declares are checked first, then every member is inflated in
# 1 MB steps and stopped as soon as it passes what it declared: headers can lie.
_MAX_RATIO = 100
_RATIO_GRACE = 1 << 20
_XML_PER_ROW = 5_000
_STEP = 1 << 20
# Control characters (not tab or line breaks) and the bidi overrides that make text display
# in another order than it is stored: pasted by mistake, or put there to mislead.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_RESULTS_SHEET = "Results"
_FLOAT_TYPE: Any = float  # compared elementwise with an array of cell types
_STR_TYPE: Any = str


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
    notes = _SheetNotes()
    if data[:4] == _ZIP_MAGIC:
        _check_xlsx_zip(path.name, data, settings)  # before calamine reads a byte of it
        grid, origin, sheet_name, notes = _xlsx_grid(path.name, data, sheet, kind)
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
    return _build_table(grid, origin, source, kind, fields, settings, issues, notes)


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
        raise InputError(_old_office_message(name, data))
    return data


def _old_office_message(name: str, data: bytes) -> str:
    """An OLE2 (CFB) container: an encrypted xlsx, a 97-2003 .xls, or another old file.

    Its directory names its streams in UTF-16; finding the name is enough to tell them apart.
    """
    if "EncryptedPackage".encode("utf-16-le") in data:
        return (
            f"{name} is protected with a password (encrypted), so it cannot be read. Open it "
            "in Excel, remove the password (File > Info > Protect Workbook > Encrypt with "
            "Password, clear the box), save it as .xlsx and try again."
        )
    if any(s.encode("utf-16-le") + b"\0\0" in data for s in ("Workbook", "Book")):
        return (
            f"{name} is an old Excel 97-2003 workbook (.xls), which we do not read. Open it "
            "in Excel and save it as .xlsx (Excel Workbook) or .csv, then try again."
        )
    return (
        f"{name} is not an Excel .xlsx file: it is an old Excel 97-2003 .xls file, or a "
        "workbook protected with a password. Remove any password, then save it as .xlsx "
        "(Excel Workbook) or .csv and try again."
    )


def _mb(size: int) -> str:
    return f"{size / 1_048_576:,.1f} MB"


def _check_xlsx_zip(name: str, data: bytes, settings: IntakeSettings) -> None:
    """A zip must be an xlsx (not .ods/.xlsb/.docx), whole, and no zip bomb.

    Runs before calamine sees a byte, so calamine only ever reads members whose sizes and
    CRCs we have checked by inflating them ourselves.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
            mimetype = b""
            if "mimetype" in names:
                with archive.open("mimetype") as stream:
                    mimetype = stream.read(80)  # never the whole member: it could be a bomb
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise InputError(_damaged(name)) from None
    if "xl/workbook.xml" not in names:
        if b"opendocument.spreadsheet" in mimetype:
            looks = "an OpenDocument spreadsheet (.ods)"
        elif "xl/workbook.bin" in names:
            looks = "an Excel binary workbook (.xlsb)"
        else:
            looks = "a zip file that holds no workbook, or one that is damaged"
        raise InputError(f"{name} is not an Excel .xlsx file (it looks like {looks}). {_SAVE_AS}")
    _check_declared_sizes(name, len(data), infos, settings)
    for info in infos:
        _inflate_checked(name, data, info)


def _damaged(name: str) -> str:
    return (
        f"{name} is damaged: it is a zip file (as .xlsx files are) but parts of it are missing "
        "or do not unpack, perhaps from an incomplete download or copy. Copy or download it "
        "again, or if it opens in Excel, save it as .xlsx again, then try again."
    )


def _bomb(name: str, why: str) -> str:
    return (
        f'{name} {why}, far more than a real workbook of its size (this is how a "zip bomb" '
        "looks), so it was not opened. If it is a real workbook, open it in Excel and save it "
        "again as .xlsx, or split it into smaller files, then try again."
    )


def _check_declared_sizes(
    name: str, size: int, infos: Sequence[zipfile.ZipInfo], settings: IntakeSettings
) -> None:
    """Refuse on what the zip's index declares, before inflating anything."""
    total = sum(info.file_size for info in infos)
    if total > _XML_PER_ROW * settings.max_rows:
        raise InputError(_bomb(name, f"says it unpacks to {_mb(total)} from {_mb(size)}"))
    for info in infos:
        if info.file_size > max(_RATIO_GRACE, _MAX_RATIO * info.compress_size):
            says = f"has a part that says it unpacks to {_mb(info.file_size)}"
            raise InputError(_bomb(name, f"{says} from {_mb(info.compress_size)}"))


def _inflate_checked(name: str, data: bytes, info: zipfile.ZipInfo) -> None:
    """Inflate one member in steps, never past its declared size, and check its CRC.

    The bytes are counted and dropped, so memory stays at one step whatever it holds.
    """
    if info.flag_bits & 1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise InputError(
            f"{name} uses zip encryption or compression that Excel never writes. {_SAVE_AS}"
        )
    start = info.header_offset + 30
    if data[info.header_offset : start][:4] != _ZIP_MAGIC or start > len(data):
        raise InputError(_damaged(name))
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    start += name_length + extra_length
    packed = memoryview(data)[start : start + info.compress_size]
    if len(packed) != info.compress_size:
        raise InputError(_damaged(name))
    inflater = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type else None
    size = crc = 0
    for offset in range(0, len(packed), _STEP):
        piece: bytes = bytes(packed[offset : offset + _STEP])
        while piece:
            if inflater is None:
                out, piece = piece, b""
            else:
                try:
                    out = inflater.decompress(piece, _STEP)
                except zlib.error:
                    raise InputError(_damaged(name)) from None
                piece = inflater.unconsumed_tail
            size += len(out)
            if size > info.file_size:
                raise InputError(_bomb(name, "unpacks to more than its own index says"))
            crc = zlib.crc32(out, crc)
    if size != info.file_size or crc != info.CRC or (inflater and not inflater.eof):
        raise InputError(_damaged(name))


# ---------------------------------------------------------------- xlsx


@dataclass(frozen=True)
class _SheetNotes:
    """What a sheet's XML says that calamine's values do not. Positions are 0-based."""

    uncalculated: frozenset[tuple[int, int]] = frozenset()  # formulas with no real result
    hidden_rows: frozenset[int] = frozenset()
    hidden_columns: frozenset[int] = frozenset()
    merged: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = ()  # (top-left, bottom-right)
    hidden_sheets: tuple[str, ...] = ()  # hidden sheets passed over to find the default one


def _xlsx_grid(
    name: str, data: bytes, sheet: str | None, kind: str
) -> tuple[np.ndarray, tuple[int, int], str, _SheetNotes]:
    """The sheet's used range as a 2-D object array ('' for empty), its top-left cell, its
    name, and what its XML says beyond the values (formulas, hidden rows, merged cells)."""
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet_name = _choose_sheet(name, book, sheet, kind)
        # calamine loses error values (#N/A) and cannot tell a missing cached formula value;
        # the few cells concerned are found in the sheet XML, in parallel with calamine.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(_cell_fixes, data, sheet_name)
            worksheet = book.get_sheet_by_name(sheet_name)
            with collector_paused():  # a list per row: ~0.15 s per 100,000 (gcpause.py)
                rows = worksheet.to_python(skip_empty_area=True)
            start = worksheet.start or (0, 0)
            merged = tuple(worksheet.merged_cell_ranges or ())
            try:
                fixes, notes = pending.result()
            except (KeyError, ElementTree.ParseError):
                fixes, notes = [], _SheetNotes()  # calamine read it; only touch-ups are lost
    except CalamineError:
        raise InputError(f"{name} could not be read as an Excel workbook. {_SAVE_AS}") from None
    except DefusedXmlException:
        raise InputError(f"{name} contains unsafe XML (entity declarations). {_SAVE_AS}") from None
    grid = _as_grid(rows)
    for row, col, value in fixes:
        r, c = row - start[0], col - start[1]
        if 0 <= r < grid.shape[0] and 0 <= c < grid.shape[1]:
            grid[r, c] = value
    hidden = _hidden_sheets_before(book, sheet_name) if sheet is None else ()
    return grid, start, sheet_name, replace(notes, merged=merged, hidden_sheets=hidden)


def _hidden_sheets_before(book: CalamineWorkbook, chosen: str) -> tuple[str, ...]:
    """The hidden worksheets that come before the one read by default."""
    passed = []
    for meta in book.sheets_metadata:
        if meta.name == chosen:
            break
        if meta.visible != SheetVisibleEnum.Visible and meta.typ == SheetTypeEnum.WorkSheet:
            passed.append(meta.name)
    return tuple(passed)


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
_ERROR_OR_FORMULA_MARK = re.compile(rb'\st="e"|<f[\s>/]')
_HIDDEN_ROW = re.compile(rb'<row\s[^>]*?\bhidden="(?:1|true)"[^>]*>')
_HIDDEN_COLUMNS = re.compile(rb'<col\s[^>]*?\bhidden="(?:1|true)"[^>]*>')
_NUMBER_ATTR = re.compile(rb'\b(r|min|max)="(\d+)"')
_LOOK_CLOSER = (b' t="e"', b"<f", b"hidden")  # only a sheet holding one of these is parsed


def _cell_fixes(data: bytes, sheet_name: str) -> tuple[list[tuple[int, int, str]], _SheetNotes]:
    """(row, col, value) for error cells and formulas with no real result; hidden rows/columns.

    Error cells become their text ("#N/A"). A formula whose result was never calculated
    (no <v>, or in a workbook marked fullCalcOnLoad, written by a library and never opened
    in Excel, a placeholder "" or 0) becomes an empty cell, and its place is noted so the
    row gets an issue rather than silently losing the value.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        workbook = archive.read("xl/workbook.xml")
        member = _sheet_member(archive, workbook, sheet_name)
        stale = re.search(rb'fullCalcOnLoad="(1|true)"', workbook) is not None
        if member is None or not _contains(archive, member, _LOOK_CLOSER):
            return [], _SheetNotes()  # the usual case: nothing to fix
        xml = archive.read(member)
    fixes = []
    uncalculated = set()
    position = 0
    while (marker := _ERROR_OR_FORMULA_MARK.search(xml, position)) is not None:
        begin = xml.rfind(b"<c ", 0, marker.start())
        cell = _CELL.match(xml, begin) if begin >= 0 else None
        if cell is None or cell.end() <= marker.start():
            position = marker.end()
            continue
        position = cell.end()
        fix = _cell_fix(cell.group(1), cell.group(2) or b"", stale)
        if fix is not None:
            fixes.append(fix[:3])
            if fix[3]:
                uncalculated.add(fix[:2])
    hidden_rows = {n - 1 for tag in _HIDDEN_ROW.findall(xml) for n in _numbers(tag, b"r")}
    hidden_columns = {
        c - 1
        for tag in _HIDDEN_COLUMNS.findall(xml)
        for low in _numbers(tag, b"min")
        for high in _numbers(tag, b"max")
        for c in range(low, min(high, low + 16_384) + 1)
    }
    return fixes, _SheetNotes(
        frozenset(uncalculated), frozenset(hidden_rows), frozenset(hidden_columns)
    )


def _numbers(tag: bytes, attribute: bytes) -> list[int]:
    return [int(v) for k, v in _NUMBER_ATTR.findall(tag) if k == attribute]


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


def _cell_fix(attrs: bytes, body: bytes, stale: bool) -> tuple[int, int, str, bool] | None:
    """(row, col, text, uncalculated) for an error cell or a formula with no real result."""
    found = {k.decode(): v.decode() for k, v in _ATTR.findall(attrs)}
    ref = _REF.fullmatch(found.get("r", ""))
    if ref is None:
        return None
    value = _VALUE.search(body)
    text = unescape(value.group(1).decode("utf-8", "replace")) if value else ""
    where = int(ref.group(2)) - 1, _column_index(ref.group(1))
    if found.get("t") == "e":
        return *where, text, False
    if b"<f" not in body:
        return None
    no_result = value is None or (text == "" and found.get("t") != "str")
    if no_result or (stale and text in ("", "0")):
        return *where, "", True
    return None


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
            f"that are neither). {_SAVE_AS}"
        ) from None


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
    notes: _SheetNotes | None = None,
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
    place = _Place(grid, origin, body_rows, columns, letters, headers, keys, found)
    found_issues += _odd_content(place, notes or _SheetNotes(), cells, fields, source.sheet)
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
        return make_issue(
            code, row=row, column=self.letters[j], header=header, field=field,
            label=header or f"Column {self.letters[j]}", **values,
        )  # fmt: skip


def _odd_content(
    place: _Place,
    notes: _SheetNotes,
    cells: np.ndarray,
    fields: tuple[Field, ...],
    sheet: str | None,
) -> list[Issue]:
    """Issues for what would otherwise be read silently wrong: hidden rows, columns and
    sheets (read, with a warning), merged cells and formulas never calculated (the value
    is lost: an error), control characters in text that is sent (an error)."""
    out: list[Issue] = []
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
    columns = place.field_columns()
    for r, c in sorted(notes.uncalculated):
        if r in rows and c in columns:
            out.append(place.issue("formula-not-calculated", r + 1, columns[c]))
    out += _control_issues(place, cells, fields)
    return out


def _merged_issues(place: _Place, notes: _SheetNotes, rows: dict[int, int]) -> list[Issue]:
    """An error on every field cell a merge covers in a data row: Excel keeps the value in
    the top-left cell only, so these read as empty although the sheet shows a value."""
    out = []
    columns = place.field_columns()
    top, left = place.origin
    for (r0, c0), (r1, c1) in notes.merged:
        inside = 0 <= r0 - top < place.grid.shape[0] and 0 <= c0 - left < place.grid.shape[1]
        if not inside or _is_blank(place.grid[r0 - top, c0 - left]):
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
        kinds = kinds.reshape(body.shape)
        is_float = kinds == _FLOAT_TYPE
        if is_float.any():
            values = body[is_float].astype(float)
            whole = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < 2**53)
            rows, cols = np.nonzero(is_float)
            body[rows[whole], cols[whole]] = values[whole].astype(np.int64).tolist()
        _share_equal_texts(body, kinds == _STR_TYPE)  # and '' -> None
    else:
        body[body == ""] = None
    return body


def _share_equal_texts(body: np.ndarray, is_text: np.ndarray) -> None:
    """Make equal text cells one object, as pandas' CSV reader does; '' becomes None.

    calamine makes a new object for every text cell, laid out row after row, so a later pass
    down one column misses the CPU cache at every cell (validation makes many such passes:
    ~4x slower than over shared objects). One pass across the rows here fixes that.
    """
    codes, uniques = pd.factorize(body[is_text])
    uniques = uniques.astype(object)
    uniques[uniques == ""] = None
    body[is_text] = uniques[codes]


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
    results_from = results_start(headers) if kind == "cancel" else None
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
    elif kind == "cancel" and "appointment_id" not in found and "reference" not in found:
        missing.append(
            f"{_accepts(by_name['appointment_id'])}, or {_accepts(by_name['reference'])}"
        )
    if missing:
        raise InputError(
            f"{where} is missing a required column: "
            + " | ".join(missing)
            + ". Add the column, or rename yours to a header accepted (the header must be the "
            "first non-empty row), then try again."
        )


def _accepts(field: Field) -> str:
    spellings = ", ".join(f'"{s}"' for s in (field.header, *field.aliases) if "[" not in s)
    return f"{field.header} (headers accepted: {spellings})"
