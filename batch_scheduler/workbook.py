"""The workbooks and JSON we hand back: results (book/cancel), report (validate), summary.

Sheets: Results (every input row echoed exactly, then what happened), Summary, Issues. A
path ending in .csv gets the Results sheet alone as CSV (see results_csv.py). Input is never
turned into a formula, files are written atomically and readable by the owner only (they
hold personal data). The xlsx is streamed by xlsx_stream.py (100,000 rows in a few seconds,
flat memory). Templates live in `templates.py`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from itertools import islice
from pathlib import Path
from typing import Any

from batch_scheduler.atomicfile import atomic_path, write_bytes_atomic
from batch_scheduler.models import Issue, Outcome, RawTable, ResultLine, Severity
from batch_scheduler.results_columns import HOST_COLUMN, RESULT_COLUMNS, echoed_headers
from batch_scheduler.results_csv import write_csv
from batch_scheduler.templates import write_template
from batch_scheduler.xlsx_cells import (
    MAX_COLUMNS,
    MAX_LINKS,
    MAX_ROWS,
    display_width,
    fit,
    is_web_link,
)
from batch_scheduler.xlsx_stream import StreamBook, StreamSheet

ISSUE_COLUMNS = ("source_row", "column", "header", "value", "code", "severity", "message")

GREEN, AMBER, RED, GREY = "#C6EFCE", "#FFEB9C", "#FFC7CE", "#D9D9D9"
PROBLEM_FILL = {Severity.ERROR: "#FFC7CE", Severity.WARNING: "#FFF2CC"}
_OUTCOME_FILL = {
    Outcome.REJECTED: AMBER,
    Outcome.INVALID: AMBER,
    Outcome.CONFLICT: RED,
    Outcome.FAILED: RED,
}
_CHUNK = 2_048  # input rows taken from the frame at a time (bounds memory)
_WIDTH_SAMPLE = 200  # rows looked at to size columns
# Past this many cells the sheet XML may pass 2 GiB, which needs Zip64 (Excel is strict
# about Zip64, so it is used only then; the default intake limit, 200,000 rows, stays under).
_ZIP64_CELLS = 20_000_000

__all__ = [
    "RESULT_COLUMNS",
    "outcome_fill",
    "summary_counts",
    "write_results",
    "write_summary_json",
    "write_template",
]


def outcome_fill(outcome: Outcome) -> str:
    """Green for success, amber for rejected/invalid, red for failed, grey otherwise."""
    if outcome.is_success:
        return GREEN
    return _OUTCOME_FILL.get(outcome, GREY)


# ---------------------------------------------------------------- public API


def write_results(
    path: Path,
    *,
    table: RawTable,
    lines: Sequence[ResultLine],
    issues: Sequence[Issue],
    summary: Mapping[str, object],
    include_host_links: bool = False,
) -> None:
    """Write the Results, Summary and Issues sheets; lines[j] belongs to table row j.

    A path ending in .csv gets the Results sheet only, as CSV (formula-looking text
    neutralised); the Summary is then in --summary-json and the issues in the error column.
    """
    path = Path(path)
    if len(lines) != len(table) or len(table.frame) != len(table):
        raise ValueError(f"{len(lines)} result lines for a table of {len(table)} rows")
    width = 1 + len(table.keys) + len(RESULT_COLUMNS) + 1
    if len(table) >= MAX_ROWS or width > MAX_COLUMNS:
        raise ValueError(f"{len(table)} rows of {len(table.keys)} columns do not fit one sheet")
    results = _Results(table, lines, issues, include_host_links)
    if path.suffix.lower() == ".csv":
        write_csv(path, results.headers, (values for values, _ in results.rows()))
        return
    with atomic_path(path) as temp, StreamBook(temp, big=len(table) * width > _ZIP64_CELLS) as book:
        results.write(book)
        _write_summary(book, summary, lines, issues)
        _write_issues(book, issues)


def write_summary_json(
    path: Path,
    summary: Mapping[str, object],
    *,
    lines: Sequence[ResultLine],
    issues: Sequence[Issue],
) -> None:
    """The Summary as JSON for machines: the summary keys plus "counts"."""
    document = dict(summary) | {"counts": summary_counts(lines, issues)}
    text = json.dumps(document, indent=2, ensure_ascii=False, default=_json_default)
    write_bytes_atomic(Path(path), (text + "\n").encode("utf-8"))


def summary_counts(
    lines: Sequence[ResultLine], issues: Sequence[Issue]
) -> dict[str, dict[str, int]]:
    """Rows per outcome (in Outcome order), issues per code (sorted), issues per severity."""
    outcomes = Counter(line.outcome for line in lines)
    codes = Counter(issue.code for issue in issues)
    severities = Counter(issue.severity for issue in issues)
    return {
        "outcomes": {o.value: outcomes[o] for o in Outcome if outcomes[o]},
        "issues": {code: codes[code] for code in sorted(codes)},
        "severities": {s.value: severities[s] for s in Severity},
    }


# ---------------------------------------------------------------- Results sheet

CellIssues = Mapping[int, list[Issue]]  # sheet column -> the issues shown on that cell


class _Results:
    """The Results rows (input echoed, then the result columns) and how the sheet shows them."""

    def __init__(
        self,
        table: RawTable,
        lines: Sequence[ResultLine],
        issues: Sequence[Issue],
        include_host_links: bool,
    ) -> None:
        self.table, self.lines = table, lines
        self.result_columns = RESULT_COLUMNS + ((HOST_COLUMN,) if include_host_links else ())
        self.headers = ("source_row", *echoed_headers(table.headers), *self.result_columns)
        self.outcome_col = 1 + len(table.keys)
        self.link_cols = [self.outcome_col + self.result_columns.index("meeting_url")]
        if include_host_links:
            self.link_cols.append(self.outcome_col + self.result_columns.index(HOST_COLUMN))
        self.by_cell = _issues_by_cell(table, issues, self.outcome_col)

    def rows(self) -> Iterator[tuple[list[object], CellIssues]]:
        """Each row's values, in sheet order, with the issues shown on its cells."""
        source_rows, lines, by_cell = self.table.source_rows, self.lines, self.by_cell
        hosts = len(self.result_columns) > len(RESULT_COLUMNS)
        for j, values in enumerate(_input_rows(self.table)):
            line, cell_issues = lines[j], by_cell.get(j, {})
            at = line.appointment_at_utc
            row: list[object] = [source_rows[j], *values, line.outcome.value, line.reference]
            row += [line.appointment_id, line.status, line.meeting_url]
            row += [None if at is None else _naive_utc(at), _error_text(line, cell_issues)]
            row.append(line.attempts)
            if hosts:
                row.append(line.host_url)
            yield row, cell_issues

    def write(self, book: StreamBook) -> None:
        """The Results sheet: bold frozen header, filter, outcome colours, links, notes."""
        sheet = book.add_sheet("Results", widths=self._widths(), freeze_header=True)
        bold = book.style(bold=True)
        sheet.append(self.headers, [bold] * len(self.headers))
        outcome_styles = {o.value: book.style(fill=outcome_fill(o)) for o in Outcome}
        link_style = book.link_style()
        fills = {s: book.style(fill=fill) for s, fill in PROBLEM_FILL.items()}
        plain: list[int | None] = [None] * len(self.headers)
        links = 0
        for row, (values, cell_issues) in enumerate(self.rows(), 1):
            styles = plain.copy()
            styles[self.outcome_col] = outcome_styles[str(values[self.outcome_col])]
            for col in self.link_cols:
                url = values[col]
                if links < MAX_LINKS and is_web_link(url):
                    links += 1
                    styles[col] = link_style
                    sheet.add_link(row, col, str(url))
            for col, found in cell_issues.items():
                if col != self.outcome_col:
                    styles[col] = fills[_worst(found)]
                _note(sheet, row, col, found)
            sheet.append(values, styles)
        sheet.autofilter()

    def _widths(self) -> list[float]:
        """Column widths from the header and the first rows (values as Excel shows them)."""
        sample = [values for values, _ in islice(self.rows(), _WIDTH_SAMPLE)]
        widths: list[float] = []
        for col, header in enumerate(self.headers):
            widest = max([len(str(header))] + [display_width(row[col]) for row in sample])
            widths.append(min(max(widest + 2, 8), 60))
        return widths


def _note(sheet: StreamSheet, row: int, col: int, found: Sequence[Issue]) -> None:
    """The cell's issues as a note: one line per issue, saying error or warning and why."""
    text = "\n".join(_comment_line(issue) for issue in found)
    lines = sum(1 + len(issue.message) // 48 for issue in found)
    sheet.add_note(row, col, text, lines=lines + 1)


def _input_rows(table: RawTable) -> Iterator[tuple[object, ...]]:
    """The input values row by row, exactly as read, taken from the frame a chunk at a time."""
    columns = [table.frame[key] for key in table.keys]
    total = len(table)
    if not columns:
        yield from (() for _ in range(total))
        return
    for start in range(0, total, _CHUNK):
        chunk = [column.iloc[start : start + _CHUNK].tolist() for column in columns]
        yield from zip(*chunk, strict=True)


def _issues_by_cell(
    table: RawTable, issues: Sequence[Issue], outcome_col: int
) -> dict[int, dict[int, list[Issue]]]:
    """Frame row -> sheet column -> the issues shown there (row-level ones on the outcome)."""
    row_of = {source_row: j for j, source_row in enumerate(table.source_rows)}
    col_of = {letter: i + 1 for i, letter in enumerate(table.letters)}
    found: dict[int, dict[int, list[Issue]]] = {}
    for issue in issues:
        j = row_of.get(issue.row) if issue.row is not None else None
        if j is None:
            continue
        col = col_of.get(issue.column, outcome_col) if issue.column else outcome_col
        found.setdefault(j, {}).setdefault(col, []).append(issue)
    return found


def _worst(found: Sequence[Issue]) -> Severity:
    return Severity.ERROR if any(i.is_error for i in found) else Severity.WARNING


def _comment_line(issue: Issue) -> str:
    label = "Error" if issue.is_error else "Warning"
    return f"{label} ({issue.code}): {issue.message}"


def _error_text(line: ResultLine, cell_issues: CellIssues) -> str | None:
    """The row's error: the line's own, else the messages of the row's error issues."""
    if line.error:
        return fit(line.error)
    messages = [i.message for found in cell_issues.values() for i in found if i.is_error]
    return fit("; ".join(messages)) if messages else None


def _naive_utc(moment: datetime) -> datetime:
    """Excel has no time zones: the cell holds the UTC wall-clock (the header says UTC)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


# ---------------------------------------------------------------- Summary and Issues sheets


def _write_summary(
    book: StreamBook,
    summary: Mapping[str, object],
    lines: Sequence[ResultLine],
    issues: Sequence[Issue],
) -> None:
    sheet = book.add_sheet("Summary", widths=(28, 60))
    bold = book.style(bold=True)
    for key, value in summary.items():
        sheet.append((str(key), _summary_value(value)), (bold, None))
    titles = {"outcomes": "Outcome", "issues": "Issue code", "severities": "Severity"}
    for group, counts in summary_counts(lines, issues).items():
        sheet.append(())
        sheet.append((titles[group], "Rows" if group == "outcomes" else "Issues"), (bold, bold))
        for name, count in counts.items():
            sheet.append((name, count))


def _summary_value(value: object) -> object:
    """Plain values stay typed; an aware time keeps its offset as text; structures as JSON."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.isoformat()
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    if isinstance(value, Path):
        return str(value)
    return value


def _write_issues(book: StreamBook, issues: Sequence[Issue]) -> None:
    sheet = book.add_sheet("Issues", widths=(10, 8, 24, 24, 24, 10, 80), freeze_header=True)
    bold = book.style(bold=True)
    sheet.append(ISSUE_COLUMNS, [bold] * len(ISSUE_COLUMNS))
    fills = {s: book.style(fill=fill) for s, fill in PROBLEM_FILL.items()}
    room = MAX_ROWS - 2  # keep one row to say how many did not fit
    for issue in issues[:room]:
        values = (issue.column, issue.header, issue.value, issue.code, issue.severity.value)
        texts = [None if text is None else fit(str(text)) for text in values]
        styles = (None, None, None, None, None, None, fills[issue.severity])
        sheet.append((issue.row, *texts, fit(issue.message)), styles)
    if len(issues) > room:
        sheet.append((None,) * 6 + (f"{len(issues) - room} more issues are not shown.",))
    sheet.autofilter(len(ISSUE_COLUMNS), rows=min(len(issues), room) + 1)


def _json_default(value: Any) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, Mapping):
        return dict(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
