"""The rows to fix and send again, in the input's own columns: a workbook ops can correct and
upload (or book) again as it is.

One sheet, "Rows to fix": the input's header row and, for each row whose outcome was not a
success (invalid, rejected, failed, not attempted), its cells exactly as read (Excel dates
stay dates, text stays text, nothing becomes a formula), with the reason as a note on the
row's first cell. A second sheet, "Reasons", lists each row's original row number, outcome
and reason; readers take the first sheet, so it never gets in the way of a re-upload.
Re-sending is safe: references (given or derived from the claimant and slot) are the same,
so the ledger knows every row that did go through. Sheet names, our headers, outcomes and
notes are in the language in force; the header of each field the reader recognised, and of
each Reasons column, carries its stable name as a defined name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from batch_scheduler.columns.words import column_headers, outcome_words, sheet_titles
from batch_scheduler.i18n import _
from batch_scheduler.models import Outcome, RawTable, ResultLine
from batch_scheduler.output.atomic import atomic_path
from batch_scheduler.output.xlsx.writer import StreamBook

REASON_COLUMNS = ("source_row", "outcome", "reason")
_CHUNK = 2_000


def rows_to_fix(lines: Sequence[ResultLine]) -> list[int]:
    """Positions of the rows whose outcome was not a success."""
    return [j for j, line in enumerate(lines) if not line.outcome.is_success]


def write_fix_sheet(path: Path, table: RawTable, lines: Sequence[ResultLine]) -> int:
    """Write the rows to fix; returns how many. lines[j] belongs to table row j."""
    if len(lines) != len(table):
        raise ValueError(f"{len(lines)} result lines for a table of {len(table)} rows")
    wanted = rows_to_fix(lines)
    names, words = sheet_titles(), outcome_words()
    with atomic_path(Path(path)) as temp, StreamBook(temp) as book:
        widths = [max(len(h), 10) + 2 for h in table.headers]
        sheet = book.add_sheet(names["Rows to fix"], widths=widths, freeze_header=True)
        bold = book.style(bold=True)
        sheet.append(table.headers, [bold] * len(table.headers))
        for field, key in table.fields.items():
            sheet.define_name(field, 0, table.keys.index(key))
        columns = [table.frame[key] for key in table.keys]
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            cells = [column.iloc[chunk].tolist() for column in columns]
            for i, j in enumerate(chunk):
                reason = _reason(table.source_rows[j], lines[j], words)
                sheet.add_note(sheet.rows, 0, reason)  # the box grows with its text
                sheet.append([values[i] for values in cells])
        reasons = book.add_sheet(names["Reasons"], widths=[12, 16, 100], freeze_header=True)
        headers = column_headers()
        reasons.append([headers[name] for name in REASON_COLUMNS], [bold] * 3)
        for col, name in enumerate(REASON_COLUMNS):
            reasons.define_name(name, 0, col)
        for j in wanted:
            line = lines[j]
            reasons.append([table.source_rows[j], words[line.outcome], line.error or ""])
    return len(wanted)


def _reason(source_row: int, line: ResultLine, words: Mapping[Outcome, str]) -> str:
    outcome = words[line.outcome]
    why = line.error or outcome.replace("_", " ")
    text = _("Row {row} of the sheet sent: {outcome}. {why}")
    return text.format(row=source_row, outcome=outcome, why=why)
