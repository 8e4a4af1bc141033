"""The Results sheet: every input row echoed exactly, then what happened to it.

Each input cell keeps its own address: the column letter it had in the input (blank columns
the reader skipped stay blank) and its row number (skipped blank rows stay blank), so
"Row 14, column F (Mobile)" in a message, the Issues sheet or the error column is cell F14
here too. `source_row` and our result columns come after the last input column. When the
input cannot keep its addresses (rows past Excel's last row, letters out of order) the rows
and columns are packed instead; source_row still names each row.

Our columns are headed and our outcomes written in the language in force (columns/words.py:
English shows the stable names); each of our header cells carries a defined name with the
column's stable name (`bs_outcome`...), which is how a program finds the column whatever the
language or the header's wording. The CSV form (results_csv.py) has the same columns in the
same order, without the blank ones, always under the stable names with the stable outcomes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from itertools import islice, pairwise

from batch_scheduler.columns import (
    HOST_COLUMN,
    RESULT_COLUMNS,
    SOURCE_ROW,
    column_index,
    column_letter,
    echoed_headers,
)
from batch_scheduler.columns.words import column_headers, outcome_words, sheet_titles
from batch_scheduler.i18n import _
from batch_scheduler.models import Issue, Outcome, RawTable, ResultLine, Severity
from batch_scheduler.output.xlsx.cells import (
    MAX_COLUMNS,
    MAX_LINKS,
    MAX_ROWS,
    display_width,
    fit,
    is_web_link,
)
from batch_scheduler.output.xlsx.layout import (
    RESULTS_PAGE,
    column_cap,
    column_widths,
)
from batch_scheduler.output.xlsx.writer import StreamBook, StreamSheet

_LINKS = ("meeting_url", HOST_COLUMN)

GREEN, AMBER, RED, GREY = "#C6EFCE", "#FFEB9C", "#FFC7CE", "#D9D9D9"
HEADER_FILL = "#DDEBF7"
PROBLEM_FILL = {Severity.ERROR: "#FFC7CE", Severity.WARNING: "#FFF2CC"}
_OUTCOME_FILL = {
    Outcome.REJECTED: AMBER,
    Outcome.INVALID: AMBER,
    Outcome.CONFLICT: RED,
    Outcome.FAILED: RED,
}
_CHUNK = 2_048  # input rows taken from the frame at a time (bounds memory)
_SAMPLE = 200  # rows looked at to size columns and to tell date-only columns
_GAP_WIDTH = 2.0  # a column the input left blank
_HEADER_WRAP = 14  # a header longer than its values may wrap at this width
_ERROR_WIDTH = 36.0  # the error column is what people read: wider than the others
# A link does not wrap (LibreOffice draws it on one line): its column fits the whole link.
_LINK_WIDTH = 100.0
_CAPS = {"error": _ERROR_WIDTH, "meeting_url": _LINK_WIDTH, HOST_COLUMN: _LINK_WIDTH}

CellIssues = Mapping[int, list[Issue]]  # sheet column -> the issues shown on that cell
Row = tuple[int, list[object], CellIssues]  # (frame row, values in column order, issues)


def outcome_fill(outcome: Outcome) -> str:
    """Green for success, amber for rejected/invalid, red for failed, grey otherwise."""
    if outcome.is_success:
        return GREEN
    return _OUTCOME_FILL.get(outcome, GREY)


class Results:
    """The Results rows and where the sheet puts them (see the module docstring)."""

    def __init__(
        self,
        table: RawTable,
        lines: Sequence[ResultLine],
        issues: Sequence[Issue],
        include_host_links: bool,
    ) -> None:
        self.table, self.lines = table, lines
        ours = (SOURCE_ROW, *RESULT_COLUMNS, *((HOST_COLUMN,) if include_host_links else ()))
        # the stable names (the CSV's headers); `shown`: the workbook's, for people
        self.headers: tuple[str, ...] = (*echoed_headers(table.headers), *ours)
        words = column_headers()
        self.shown: tuple[str, ...] = (*self.headers[: -len(ours)], *(words[n] for n in ours))
        self.sheet = sheet_titles()["Results"]
        self.inputs = len(table.headers)
        inputs = _input_columns(table.letters, len(ours))
        first = inputs[-1] + 1 if inputs else 0
        self.columns = [*inputs, *range(first, first + len(ours))]  # sheet column of each
        self.width = first + len(ours)
        self.ours = {name: first + i for i, name in enumerate(ours)}
        self.sheet_rows = _sheet_rows(table.source_rows)
        self._column_of = {letter: inputs[i] for i, letter in enumerate(table.letters)}
        self.by_cell = self._issues_by_cell(issues)
        self.date_only = _date_only_columns(list(islice(_input_rows(table), _SAMPLE)))

    # ------------------------------------------------------------ where things are

    def place(self, issue: Issue) -> tuple[int, int] | None:
        """(frame row, sheet column) of the cell showing `issue`; None for a file-level one.

        An issue about a cell is on that cell; one about the whole row, on its outcome.
        """
        j = self.table.position_of(issue.row)
        if j is None:
            return None
        outcome = self.ours["outcome"]
        return j, self._column_of.get(issue.column, outcome) if issue.column else outcome

    def address(self, issue: Issue) -> str | None:
        """The Results cell showing `issue`, as a link target: "'Results'!F14"."""
        found = self.place(issue)
        if found is None:
            return None
        j, col = found
        return f"'{self.sheet}'!{column_letter(col)}{self.sheet_rows[j] + 1}"

    def _issues_by_cell(self, issues: Sequence[Issue]) -> dict[int, dict[int, list[Issue]]]:
        found: dict[int, dict[int, list[Issue]]] = {}
        for issue in issues:
            spot = self.place(issue)
            if spot is not None:
                found.setdefault(spot[0], {}).setdefault(spot[1], []).append(issue)
        return found

    # ------------------------------------------------------------ values

    def rows(self, words: Mapping[Outcome, str] | None = None) -> Iterator[Row]:
        """Each row's values (input columns, then ours) with the issues shown on its cells;
        outcomes as `words` says (None: the stable names, as the CSV writes them)."""
        source_rows, lines, by_cell = self.table.source_rows, self.lines, self.by_cell
        outcomes: Mapping[Outcome, str] = words or {o: o.value for o in Outcome}
        hosts = HOST_COLUMN in self.ours
        date_only = self.date_only
        for j, values in enumerate(_input_rows(self.table)):
            line, cell_issues = lines[j], by_cell.get(j, {})
            at = line.appointment_at_utc
            row: list[object] = list(values)
            for i in date_only:
                row[i] = _as_date(row[i])
            row += [source_rows[j], outcomes[line.outcome], line.reference]
            row += [line.appointment_id, line.status, None if at is None else _naive_utc(at)]
            row += [_error_text(line, cell_issues), line.attempts, line.meeting_url]
            if hosts:
                row.append(line.host_url)
            yield j, row, cell_issues

    def packed(self) -> tuple[tuple[str, ...], Iterator[list[object]]]:
        """Headers and rows without the blank columns: the CSV form of the sheet."""
        return self.headers, (values for _, values, _ in self.rows())

    def _spread(self, values: list[object]) -> list[object]:
        """Values in sheet order, blank in the columns the input left blank."""
        if len(values) == self.width:  # the input's columns start at A, without gaps
            return values
        row: list[object] = [None] * self.width
        for col, value in zip(self.columns, values, strict=True):
            row[col] = value
        return row

    # ------------------------------------------------------------ the sheet

    def write(self, book: StreamBook) -> None:
        """The Results sheet: header on every page, filter, outcome colours, links, notes."""
        words = outcome_words()
        widths = self._widths(words)
        last = self.sheet_rows[-1] + 1 if self.sheet_rows else 1
        sheet = book.add_sheet(
            self.sheet,
            widths=widths,
            freeze_header=True,
            page=RESULTS_PAGE,
            wrap=True,
            extent=(last, self.width),
        )
        header_style = book.style(bold=True, fill=HEADER_FILL)
        headers = self._spread(list(self.shown))
        sheet.append(headers, [header_style if h is not None else None for h in headers])
        for name, col in self.ours.items():
            sheet.define_name(name, 0, col)
        self._write_rows(book, sheet, words)
        sheet.autofilter(self.width)
        sheet.print_area(self.ours["meeting_url"])

    def _write_rows(
        self, book: StreamBook, sheet: StreamSheet, words: Mapping[Outcome, str]
    ) -> None:
        outcome_col = self.ours["outcome"]
        link_cols = [self.ours[c] for c in _LINKS if c in self.ours]
        outcome_styles = {words[o]: book.style(fill=outcome_fill(o)) for o in Outcome}
        label = {Severity.ERROR: _("Error"), Severity.WARNING: _("Warning")}
        link_style = book.link_style()
        fills = {s: book.style(fill=fill) for s, fill in PROBLEM_FILL.items()}
        plain: list[int | None] = [None] * self.width
        links = 0
        for j, packed, cell_issues in self.rows(words):
            row = self.sheet_rows[j]
            values = self._spread(packed)
            styles = plain.copy()
            styles[outcome_col] = outcome_styles[str(values[outcome_col])]
            for col in link_cols:
                url = values[col]
                if links < MAX_LINKS and is_web_link(url):
                    links += 1
                    styles[col] = link_style
                    sheet.add_link(row, col, str(url))
            for col, found in cell_issues.items():
                if col != outcome_col:
                    styles[col] = fills[_worst(found)]
                _note(sheet, row, col, found, label)
            sheet.append(values, styles, row=row)

    def _widths(self, words: Mapping[Outcome, str]) -> list[float]:
        """Column widths from the header and the first rows (values as Excel shows them)."""
        sample = [values for _j, values, _issues in islice(self.rows(words), _SAMPLE)]
        widest, caps = [], []
        for i, (name, header) in enumerate(zip(self.headers, self.shown, strict=True)):
            values = [row[i] for row in sample]
            longest = max([0] + [display_width(value) for value in values])
            word = max((len(word) for word in str(header).split()), default=0)
            widest.append(max(longest, word, min(len(str(header)), _HEADER_WRAP)))
            cap = _CAPS.get(name) if i >= self.inputs else None
            caps.append(cap or column_cap(values))
        widths = [_GAP_WIDTH] * self.width
        for col, width in zip(self.columns, column_widths(widest, caps, RESULTS_PAGE), strict=True):
            widths[col] = width
        return widths


# ---------------------------------------------------------------- layout


def _input_columns(letters: Sequence[str], ours: int) -> list[int]:
    """The sheet column of each input column: its own letter, or (when the letters cannot
    be kept: out of order, or no room left after them) one after another from A."""
    try:
        found = [column_index(letter) for letter in letters]
    except ValueError:
        return list(range(len(letters)))
    in_order = all(a < b for a, b in pairwise(found))
    if not in_order or (found and found[-1] + 1 + ours > MAX_COLUMNS):
        return list(range(len(letters)))
    return found


def _sheet_rows(source_rows: Sequence[int]) -> list[int]:
    """The 0-based sheet row of each input row: its own row number, or (when those cannot
    be kept: out of order, or past Excel's last row) one after another under the header."""
    in_order = all(a < b for a, b in pairwise(source_rows))
    if in_order and (not source_rows or (source_rows[0] >= 2 and source_rows[-1] <= MAX_ROWS)):
        return [r - 1 for r in source_rows]
    return list(range(1, len(source_rows) + 1))


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


def _date_only_columns(sample: Sequence[Sequence[object]]) -> list[int]:
    """Input columns whose date-times are all at midnight: dates (of birth, of a slot),
    shown as dd/mm/yyyy as the input showed them, not with a 00:00 nobody typed."""
    if not sample:
        return []
    found = []
    for i in range(len(sample[0])):
        moments = [v for row in sample if isinstance(v := row[i], datetime) and v == v]  # no NaT
        if moments and all(_as_date(m) is not m for m in moments):
            found.append(i)
    return found


def _as_date(value: object) -> object:
    """A naive date-time at midnight as its date; anything else (pandas' NaT too) unchanged."""
    if not isinstance(value, datetime) or value.tzinfo is not None:
        return value
    if value.hour == value.minute == value.second == value.microsecond == 0:
        return value.date()
    return value


# ---------------------------------------------------------------- cells


def _note(
    sheet: StreamSheet, row: int, col: int, found: Sequence[Issue], label: Mapping[Severity, str]
) -> None:
    """The cell's issues as a note: one line per issue, saying error or warning and why."""
    sheet.add_note(row, col, "\n".join(_comment_line(i, label) for i in found))


def _worst(found: Sequence[Issue]) -> Severity:
    return Severity.ERROR if any(i.is_error for i in found) else Severity.WARNING


def _comment_line(issue: Issue, label: Mapping[Severity, str]) -> str:
    return f"{label[issue.severity]} ({issue.code}): {issue.message}"


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
