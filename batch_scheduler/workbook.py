"""The workbooks and JSON we hand back: results (book/cancel), report (validate), summary.

Sheets: Results (every input row echoed exactly, then what happened), Summary, Issues.
Input is never turned into a formula, files are written atomically and readable by the
owner only (they hold personal data). Templates live in `templates.py`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from xlsxwriter.worksheet import Worksheet

from batch_scheduler.atomicfile import atomic_path, write_bytes_atomic
from batch_scheduler.models import Issue, Outcome, RawTable, ResultLine, Severity
from batch_scheduler.templates import write_template
from batch_scheduler.xlsx_cells import (
    MAX_COLUMNS,
    MAX_LINKS,
    MAX_ROWS,
    Formats,
    display_width,
    fit,
    is_web_link,
    open_book,
    write_text,
    write_value,
)

RESULT_COLUMNS: tuple[str, ...] = (
    "outcome",
    "reference",
    "appointment_id",
    "status",
    "meeting_url",
    "appointment_at_utc",
    "error",
    "attempts",
)
HOST_COLUMN = "host_url"
ISSUE_COLUMNS = ("source_row", "column", "header", "value", "code", "severity", "message")

GREEN, AMBER, RED, GREY = "#C6EFCE", "#FFEB9C", "#FFC7CE", "#D9D9D9"
PROBLEM_FILL = {Severity.ERROR: "#FFC7CE", Severity.WARNING: "#FFF2CC"}
_OUTCOME_FILL = {Outcome.REJECTED: AMBER, Outcome.INVALID: AMBER, Outcome.FAILED: RED}
_CHUNK = 2_048  # input rows taken from the frame at a time (bounds memory)
_WIDTH_SAMPLE = 200  # rows looked at to size columns

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
    """Write the Results, Summary and Issues sheets; lines[j] belongs to table row j."""
    if len(lines) != len(table) or len(table.frame) != len(table):
        raise ValueError(f"{len(lines)} result lines for a table of {len(table)} rows")
    if len(table) >= MAX_ROWS or 1 + len(table.keys) + len(RESULT_COLUMNS) + 1 > MAX_COLUMNS:
        raise ValueError(f"{len(table)} rows of {len(table.keys)} columns do not fit one sheet")
    with atomic_path(Path(path)) as temp, open_book(temp) as book:
        formats = Formats(book)
        sheet = book.add_worksheet("Results")
        _ResultsWriter(sheet, formats, table, issues, include_host_links).write(lines)
        _write_summary(book.add_worksheet("Summary"), formats, summary, lines, issues)
        _write_issues(book.add_worksheet("Issues"), formats, issues)


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


class _ResultsWriter:
    """Writes the Results sheet row by row (xlsxwriter's constant_memory needs row order)."""

    def __init__(
        self,
        sheet: Worksheet,
        formats: Formats,
        table: RawTable,
        issues: Sequence[Issue],
        include_host_links: bool,
    ) -> None:
        self.sheet, self.formats, self.table = sheet, formats, table
        self.result_columns = RESULT_COLUMNS + ((HOST_COLUMN,) if include_host_links else ())
        self.first_result = 1 + len(table.keys)
        self.outcome_col = self.first_result
        self.by_cell = _issues_by_cell(table, issues, self.outcome_col)
        self.links = 0
        self.outcome_formats = {o: formats.get(fill=outcome_fill(o)) for o in Outcome}

    def write(self, lines: Sequence[ResultLine]) -> None:
        headers = ("source_row", *self.table.headers, *self.result_columns)
        self._layout(headers, lines)
        bold = self.formats.get(bold=True)
        for col, header in enumerate(headers):
            self.sheet.write_string(0, col, str(header), bold)
        for j, values in enumerate(_input_rows(self.table)):
            self._write_row(j, values, lines[j])

    def _layout(self, headers: Sequence[str], lines: Sequence[ResultLine]) -> None:
        sample = [
            (self.table.source_rows[j], *values, *self._result_values(lines[j]))
            for j, values in zip(range(_WIDTH_SAMPLE), _input_rows(self.table), strict=False)
        ]
        for col, header in enumerate(headers):
            widest = max([len(str(header))] + [display_width(row[col]) for row in sample])
            self.sheet.set_column(col, col, min(max(widest + 2, 8), 60))
        self.sheet.freeze_panes(1, 0)
        self.sheet.autofilter(0, 0, len(self.table), len(headers) - 1)

    def _write_row(self, j: int, values: Sequence[object], line: ResultLine) -> None:
        row, sheet = j + 1, self.sheet
        sheet.write_number(row, 0, self.table.source_rows[j])
        cell_issues = self.by_cell.get(j)
        if cell_issues:
            self._write_problem_inputs(row, values, cell_issues)
        else:
            for col, value in enumerate(values, 1):
                if type(value) is str:
                    sheet.write_string(row, col, value)
                elif value is not None:
                    write_value(sheet, row, col, value, self.formats)
        self._write_result(row, line, cell_issues or {})

    def _write_problem_inputs(
        self, row: int, values: Sequence[object], cell_issues: Mapping[int, list[Issue]]
    ) -> None:
        for col, value in enumerate(values, 1):
            found = cell_issues.get(col)
            fill = _problem_fill(found) if found else None
            write_value(self.sheet, row, col, value, self.formats, fill)
            if found:
                self._comment(row, col, found)

    def _write_result(
        self, row: int, line: ResultLine, cell_issues: Mapping[int, list[Issue]]
    ) -> None:
        sheet, col = self.sheet, self.first_result
        sheet.write_string(row, col, line.outcome.value, self.outcome_formats[line.outcome])
        if self.outcome_col in cell_issues:
            self._comment(row, col, cell_issues[self.outcome_col])
        write_text(sheet, row, col + 1, line.reference)
        write_text(sheet, row, col + 2, line.appointment_id)
        write_text(sheet, row, col + 3, line.status)
        self._link(row, col + 4, line.meeting_url)
        if line.appointment_at_utc is not None:
            write_value(sheet, row, col + 5, _naive_utc(line.appointment_at_utc), self.formats)
        write_text(sheet, row, col + 6, _error_text(line, cell_issues))
        sheet.write_number(row, col + 7, line.attempts)
        if len(self.result_columns) > len(RESULT_COLUMNS):
            self._link(row, col + 8, line.host_url)

    def _result_values(self, line: ResultLine) -> tuple[object, ...]:
        values: dict[str, object] = {
            "outcome": line.outcome.value,
            "appointment_at_utc": line.appointment_at_utc,
        }
        return tuple(values.get(name, getattr(line, name)) for name in self.result_columns)

    def _link(self, row: int, col: int, url: str | None) -> None:
        """A clickable link while Excel allows more on this sheet; plain text otherwise."""
        if url is None:
            return
        if is_web_link(url) and self.links < MAX_LINKS:
            self.links += 1
            if self.sheet.write_url(row, col, url, self.formats.link, string=url) == 0:
                return
        self.sheet.write_string(row, col, url)

    def _comment(self, row: int, col: int, found: Sequence[Issue]) -> None:
        text = fit("\n".join(_comment_line(issue) for issue in found))
        lines = sum(1 + len(issue.message) // 48 for issue in found)
        options = {"x_scale": 2.5, "y_scale": min(max(lines * 0.5, 1.0), 8.0)}
        if self.sheet.write_comment(row, col, text, options) != 0:
            raise RuntimeError(f"could not attach a comment at row {row + 1}, column {col + 1}")


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


def _problem_fill(found: Sequence[Issue]) -> str:
    worst = Severity.ERROR if any(i.is_error for i in found) else Severity.WARNING
    return PROBLEM_FILL[worst]


def _comment_line(issue: Issue) -> str:
    label = "Error" if issue.is_error else "Warning"
    return f"{label} ({issue.code}): {issue.message}"


def _error_text(line: ResultLine, cell_issues: Mapping[int, list[Issue]]) -> str | None:
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
    sheet: Worksheet,
    formats: Formats,
    summary: Mapping[str, object],
    lines: Sequence[ResultLine],
    issues: Sequence[Issue],
) -> None:
    bold = formats.get(bold=True)
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 60)
    row = 0
    for key, value in summary.items():
        sheet.write_string(row, 0, str(key), bold)
        write_value(sheet, row, 1, _summary_value(value), formats)
        row += 1
    titles = {"outcomes": "Outcome", "issues": "Issue code", "severities": "Severity"}
    for group, counts in summary_counts(lines, issues).items():
        row += 1
        sheet.write_string(row, 0, titles[group], bold)
        sheet.write_string(row, 1, "Rows" if group == "outcomes" else "Issues", bold)
        for name, count in counts.items():
            row += 1
            sheet.write_string(row, 0, name)
            sheet.write_number(row, 1, count)
        row += 1


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


def _write_issues(sheet: Worksheet, formats: Formats, issues: Sequence[Issue]) -> None:
    bold = formats.get(bold=True)
    widths = (10, 8, 24, 24, 24, 10, 80)
    for col, (name, width) in enumerate(zip(ISSUE_COLUMNS, widths, strict=True)):
        sheet.set_column(col, col, width)
        sheet.write_string(0, col, name, bold)
    sheet.freeze_panes(1, 0)
    room = MAX_ROWS - 2  # keep one row to say how many did not fit
    for row, issue in enumerate(issues[:room], 1):
        if issue.row is not None:
            sheet.write_number(row, 0, issue.row)
        values = (issue.column, issue.header, issue.value, issue.code, issue.severity.value)
        for col, text in enumerate(values, 1):
            write_text(sheet, row, col, None if text is None else fit(str(text)))
        sheet.write_string(
            row, 6, fit(issue.message), formats.get(fill=PROBLEM_FILL[issue.severity])
        )
    if len(issues) > room:
        sheet.write_string(MAX_ROWS - 1, 6, f"{len(issues) - room} more issues are not shown.")
    sheet.autofilter(0, 0, min(len(issues), room), len(ISSUE_COLUMNS) - 1)


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
