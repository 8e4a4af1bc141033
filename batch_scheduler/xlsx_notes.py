"""What a sheet's XML says that calamine's values do not: error cells, formulas never
calculated, hidden rows and columns."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from xml.sax.saxutils import unescape

from defusedxml import ElementTree


@dataclass(frozen=True)
class SheetNotes:
    """What a sheet's XML says that calamine's values do not. Positions are 0-based."""

    uncalculated: frozenset[tuple[int, int]] = frozenset()  # formulas with no real result
    hidden_rows: frozenset[int] = frozenset()
    hidden_columns: frozenset[int] = frozenset()
    merged: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = ()  # (top-left, bottom-right)
    hidden_sheets: tuple[str, ...] = ()  # hidden sheets passed over to find the default one


_CELL = re.compile(rb"<c\s([^>]*?)(?:/>|>(.*?)</c>)", re.DOTALL)
_ATTR = re.compile(rb'\b(r|t)="([^"]*)"')
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_REF = re.compile(r"([A-Z]+)(\d+)")
_ERROR_OR_FORMULA_MARK = re.compile(rb'\st="e"|<f[\s>/]')
_HIDDEN_ROW = re.compile(rb'<row\s[^>]*?\bhidden="(?:1|true)"[^>]*>')
_HIDDEN_COLUMNS = re.compile(rb'<col\s[^>]*?\bhidden="(?:1|true)"[^>]*>')
_NUMBER_ATTR = re.compile(rb'\b(r|min|max)="(\d+)"')
_LOOK_CLOSER = (b' t="e"', b"<f", b"hidden")  # only a sheet holding one of these is parsed


def cell_fixes(data: bytes, sheet_name: str) -> tuple[list[tuple[int, int, str]], SheetNotes]:
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
            return [], SheetNotes()  # the usual case: nothing to fix
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
    return fixes, SheetNotes(
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
