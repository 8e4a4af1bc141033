"""What a sheet's XML says that calamine's values do not: error cells, formulas never
calculated, hidden rows and columns; and, from the workbook's XML, the defined names that
mark our columns' stable names (`bs_outcome` on a Welsh results workbook's "Canlyniad").

The sheet is parsed as XML (defusedxml, streamed, by local names, so `<x:row>` from
generators that prefix the namespace reads as `<row>`). A full parse of a 100,000-row sheet
costs seconds, so a sheet is parsed only when a quick scan of its bytes finds a mark of
something to look at: a formula, an error value, a hidden row or column. The scan may
find marks that are not (text holding "f>"); it never misses one that is.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from defusedxml import DefusedXmlException, ElementTree
from defusedxml.ElementTree import DefusedXMLParser

from batch_scheduler.columns import column_index
from batch_scheduler.columns.words import STABLE_PREFIX
from batch_scheduler.intake.guard import Parts, local_name


@dataclass(frozen=True)
class SheetNotes:
    """What a sheet says beyond its values (in an xlsx, its XML). Positions are 0-based."""

    uncalculated: frozenset[tuple[int, int]] = frozenset()  # formulas with no real result
    hidden_rows: frozenset[int] = frozenset()
    hidden_columns: frozenset[int] = frozenset()
    merged: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = ()  # (top-left, bottom-right)
    hidden_sheets: tuple[str, ...] = ()  # hidden sheets passed over to find the default one
    unchecked: str | None = None  # why the checks above could not run, when they could not
    swallowing: frozenset[tuple[int, int]] = frozenset()  # CSV cells holding whole rows
    names: Mapping[tuple[int, int], str] = field(default_factory=dict)  # cell -> stable name


class SheetXmlUnreadable(Exception):
    """The sheet's XML (or the workbook's path to it) could not be read; calamine could."""


Fix = tuple[int, int, str]  # (row, column, the cell's value as Excel shows it)

# Marks in the raw bytes of a sheet, whatever the namespace prefix: formulas end "f>" (</f>,
# </x:f>: a cell holding a shared formula's short form <f t="shared" si="0"/> always comes
# with the cell holding it in full); an error cell has t="e"; a hidden row or column says
# hidden="1" or "true" (LibreOffice writes hidden="false" on every row: no mark).
_MARKS = (b"f>", b'"e"', b"'e'")
_HIDDEN = re.compile(rb"""hidden\s*=\s*["'](?:1|true)["']""")
_TAIL = 32  # bytes kept between chunks so a mark split across two is still found
_CHUNK = 1 << 20
_REF = re.compile(r"([A-Za-z]{1,3})(\d+)")
_ONE_CELL = re.compile(r"\$?(?P<col>[A-Za-z]{1,3})\$?(?P<row>\d+)")


def cell_fixes(data: bytes, sheet_name: str) -> tuple[list[Fix], SheetNotes]:
    """(row, col, value) for error cells and formulas with no real result; hidden rows/columns.

    Error cells become their text ("#N/A"). A formula whose result was never calculated
    (no <v>, or in a workbook marked fullCalcOnLoad, written by a library and never opened
    in Excel, a placeholder "" or 0) becomes an empty cell, and its place is noted so the
    row gets an issue rather than silently losing the value. SheetXmlUnreadable when the
    XML cannot be read; DefusedXmlException for entity declarations.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = Parts(archive)
            member, stale, names = _sheet_member(parts, sheet_name)
            if not _has_marks(archive, member):
                return [], SheetNotes(names=names)  # the usual case: nothing to fix
            with archive.open(member) as stream:
                scan = _scan(stream, stale)
    except DefusedXmlException:
        raise  # a ValueError too, but no mere unreadable sheet: the file is refused
    except (KeyError, ValueError, ElementTree.ParseError, zipfile.BadZipFile) as exc:
        raise SheetXmlUnreadable(str(exc)) from None
    notes = SheetNotes(
        frozenset(scan.uncalculated),
        frozenset(scan.hidden_rows),
        frozenset(scan.hidden_columns),
        names=names,
    )
    return scan.fixes, notes


def _sheet_member(parts: Parts, sheet_name: str) -> tuple[str, bool, dict[tuple[int, int], str]]:
    """The zip member holding `sheet_name`, found through the workbook and its relationships;
    whether the workbook asks for every formula to be calculated on opening; and our
    defined names scoped to that sheet, by the cell each marks."""
    workbook = parts.workbook()
    if workbook is None:
        raise KeyError("no workbook part")
    root = ElementTree.fromstring(parts.read(workbook))
    stale = False
    rel_id = None
    sheets, index = 0, None
    defined: list[tuple[str | None, str | None, str]] = []  # (name, localSheetId, ref)
    for element in root.iter():
        name = local_name(element.tag)
        if name == "calcPr":
            stale = element.get("fullCalcOnLoad") in ("1", "true")
        elif name == "sheet":
            if element.get("name") == sheet_name:
                rel_id = next((v for k, v in element.items() if local_name(k) == "id"), None)
                index = sheets
            sheets += 1
        elif name == "definedName":
            defined.append((element.get("name"), element.get("localSheetId"), element.text or ""))
    target = next((t for i, _, t in parts.relationships(workbook) if i == rel_id), None)
    member = parts.member(target) if target else None
    if member is None:
        raise KeyError(f"no part for sheet {sheet_name!r}")
    return member, stale, _stable_names(defined, str(index))


def _stable_names(
    defined: list[tuple[str | None, str | None, str]], sheet: str
) -> dict[tuple[int, int], str]:
    """(row, column) -> stable name, from our defined names on `sheet` (its 0-based
    localSheetId) that mark one cell: bs_outcome -> 'Canlyniadau'!$M$1 gives (0, 12)."""
    found = {}
    for name, scope, ref in defined:
        if not name or scope != sheet or not name.startswith(STABLE_PREFIX):
            continue
        cell = _ONE_CELL.fullmatch(ref.rpartition("!")[2].strip())
        if cell:
            row, col = int(cell["row"]) - 1, column_index(cell["col"].upper())
            found[(row, col)] = name.removeprefix(STABLE_PREFIX)
    return found


def _has_marks(archive: zipfile.ZipFile, member: str) -> bool:
    """Whether the sheet's bytes hold a mark, streamed so a big sheet is never all in memory."""
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            window = tail + chunk
            if any(mark in window for mark in _MARKS):
                return True
            if b"hidden" in window and _HIDDEN.search(window):
                return True
            tail = window[-_TAIL:]
    return False


_CELL, _VALUE, _FORMULA, _ROW, _COLUMN = 1, 2, 3, 4, 5
_KINDS = {"c": _CELL, "v": _VALUE, "f": _FORMULA, "row": _ROW, "col": _COLUMN}
# The worksheet namespaces (transitional, strict), and none; x14:, mc:, xm: elements are
# other things (an xm:f in a data validation is no cell's formula).
_SHEET_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
    "",
)
_TRUE = ("1", "true")


def _kind_of(name: str) -> int:
    """The kind of an element named "namespace}local" (expat's form), 0 for the rest."""
    namespace, _, local = name.rpartition("}")
    return _KINDS.get(local, 0) if namespace in _SHEET_NAMESPACES else 0


class _Scan:
    """Expat handlers that follow rows and cells and keep only what the checks need.

    The start handler runs for every element of the sheet (millions), so it does as little
    as it can: a name's kind is looked up once, a cell's reference is parsed only for the
    few cells kept; the end and text handlers are set only while inside such a cell.
    """

    def __init__(self, expat: Any, stale: bool) -> None:
        self.expat = expat
        self.stale = stale
        self.fixes: list[Fix] = []
        self.uncalculated: set[tuple[int, int]] = set()
        self.hidden_rows: set[int] = set()
        self.hidden_columns: set[int] = set()
        self.kinds: dict[str, int] = {}
        self.row = -1
        self.ref: str | None = None  # the last cell reference given in this row
        self.after = -1  # cells since it (a cell may leave its reference out)
        self.cell_type: str | None = None
        self.formula = False
        self.value: list[str] | None = None  # the <v> text of a kept cell; None: no <v>
        expat.StartElementHandler = self.start

    def start(self, name: str, attrib: dict[str, str]) -> None:
        kind = self.kinds.get(name)
        if kind is None:
            kind = self.kinds[name] = _kind_of(name)
        if kind == _CELL:
            ref = attrib.get("r")
            if ref:
                self.ref, self.after = ref, 0
            else:
                self.after += 1
            self.cell_type = attrib.get("t")
            if self.cell_type == "e":
                self._keep()
        elif kind == _VALUE:
            if self.expat.EndElementHandler is not None:  # in a kept cell
                self.value = []
                self.expat.CharacterDataHandler = self.value.append
        elif kind == _FORMULA:
            self.formula = True
            self._keep()
        elif kind == _ROW:
            number = attrib.get("r")
            self.row = int(number) - 1 if number else self.row + 1
            self.ref, self.after = None, -1
            if attrib.get("hidden") in _TRUE:
                self.hidden_rows.add(self.row)
        elif kind == _COLUMN and attrib.get("hidden") in _TRUE:
            low = int(attrib.get("min", "1"))
            high = min(int(attrib.get("max", low)), low + 16_384)
            self.hidden_columns.update(range(low - 1, high))

    def _keep(self) -> None:
        """Follow this cell to its end: an error value, or a formula."""
        self.expat.EndElementHandler = self.end

    def end(self, name: str) -> None:
        kind = self.kinds[name]
        if kind == _VALUE:
            self.expat.CharacterDataHandler = None
        elif kind == _CELL:
            self.expat.EndElementHandler = None
            self._fix()
            self.formula, self.value = False, None

    def _where(self) -> tuple[int, int]:
        ref = _REF.fullmatch(self.ref or "")
        if ref is None:
            return self.row, self.after
        return int(ref.group(2)) - 1, column_index(ref.group(1)) + self.after

    def _fix(self) -> None:
        text = "".join(self.value) if self.value is not None else ""
        where = self._where()
        if self.cell_type == "e":
            self.fixes.append((*where, text))
            return
        no_result = self.value is None or (text == "" and self.cell_type != "str")
        if no_result or (self.stale and text in ("", "0")):
            self.fixes.append((*where, ""))
            self.uncalculated.add(where)


class _Done:
    """ElementTree's parser wants a target; the scan's handlers replace its own."""

    def close(self) -> None:
        return None


def _scan(stream: IO[bytes], stale: bool) -> _Scan:
    """Stream the sheet through expat, guarded by defusedxml (no entity declarations, no
    external references); ElementTree's own per-element handlers are not used (they
    would triple the time), only its guards and its errors (ParseError)."""
    parser = DefusedXMLParser(target=_Done())
    expat = parser.parser
    expat.DefaultHandlerExpand = None  # ElementTree's, called for every text otherwise
    expat.ordered_attributes = False
    scan = _Scan(expat, stale)
    while chunk := stream.read(_CHUNK):
        parser.feed(chunk)
    parser.close()
    return scan
