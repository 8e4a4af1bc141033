"""The rows to fix and send again, in the input's own columns: a workbook ops can correct and
upload (or book) again as it is.

One sheet, "Rows to fix": the input's header row and, for each row whose outcome was not a
success (invalid, rejected, failed, not attempted), its cells exactly as read (Excel dates
stay dates, text stays text, nothing becomes a formula), with the reason as a note on the
row's first cell. A second sheet, "Reasons", lists each row's original row number, outcome
and reason; readers take the first sheet, so it never gets in the way of a re-upload.
Re-sending is safe: references (given or derived from the claimant and slot) are the same,
so the ledger knows every row that did go through.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from batch_scheduler.models import RawTable, ResultLine
from batch_scheduler.output.atomic import atomic_path
from batch_scheduler.output.xlsx.writer import StreamBook

SHEET = "Rows to fix"
REASONS_SHEET = "Reasons"
_CHUNK = 2_000


def rows_to_fix(lines: Sequence[ResultLine]) -> list[int]:
    """Positions of the rows whose outcome was not a success."""
    return [j for j, line in enumerate(lines) if not line.outcome.is_success]


def write_fix_sheet(path: Path, table: RawTable, lines: Sequence[ResultLine]) -> int:
    """Write the rows to fix; returns how many. lines[j] belongs to table row j."""
    if len(lines) != len(table):
        raise ValueError(f"{len(lines)} result lines for a table of {len(table)} rows")
    wanted = rows_to_fix(lines)
    with atomic_path(Path(path)) as temp, StreamBook(temp) as book:
        widths = [max(len(h), 10) + 2 for h in table.headers]
        sheet = book.add_sheet(SHEET, widths=widths, freeze_header=True)
        bold = book.style(bold=True)
        sheet.append(table.headers, [bold] * len(table.headers))
        columns = [table.frame[key] for key in table.keys]
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            cells = [column.iloc[chunk].tolist() for column in columns]
            for i, j in enumerate(chunk):
                reason = _reason(table.source_rows[j], lines[j])
                sheet.add_note(sheet.rows, 0, reason)  # the box grows with its text
                sheet.append([values[i] for values in cells])
        reasons = book.add_sheet(REASONS_SHEET, widths=[12, 16, 100], freeze_header=True)
        reasons.append(["source_row", "outcome", "reason"], [bold] * 3)
        for j in wanted:
            line = lines[j]
            reasons.append([table.source_rows[j], line.outcome.value, line.error or ""])
    return len(wanted)


def _reason(source_row: int, line: ResultLine) -> str:
    why = line.error or line.outcome.value.replace("_", " ")
    return f"Row {source_row} of the sheet sent: {line.outcome.value}. {why}"
