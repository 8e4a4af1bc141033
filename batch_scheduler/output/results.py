"""The workbooks and JSON we hand back: results (book/cancel), report (validate), summary.

Sheets: Results (every input row echoed exactly, at its own row and column letter, then what
happened: results_sheet.py), Summary, Issues, named and headed in the language in force, each
header (and Summary label) marked with a defined name of its stable name for programs. A
path ending in .csv gets the Results sheet alone as CSV (see results_csv.py), always under
the stable names. Input is never turned into a formula, files are written
atomically and readable by the owner only (they hold personal data). The xlsx is streamed by
xlsx/writer.py (100,000 rows in a few seconds, flat memory) and prints on A4, one page wide,
header row on every page (xlsx/layout.py). Templates live in `templates.py`.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from batch_scheduler.columns import RESULT_COLUMNS
from batch_scheduler.columns.words import (
    column_headers,
    outcome_words,
    severity_words,
    sheet_titles,
    summary_label,
    summary_labels,
)
from batch_scheduler.i18n import N_, _, ngettext
from batch_scheduler.models import Issue, Outcome, RawTable, ResultLine, Severity
from batch_scheduler.output.atomic import atomic_path, write_bytes_atomic
from batch_scheduler.output.paths import Saved, save
from batch_scheduler.output.results_csv import write_csv
from batch_scheduler.output.results_sheet import HEADER_FILL, PROBLEM_FILL, Results
from batch_scheduler.output.xlsx.cells import MAX_COLUMNS, MAX_LINKS, MAX_ROWS, display_width, fit
from batch_scheduler.output.xlsx.layout import (
    RESULTS_PAGE,
    Page,
    column_widths,
)
from batch_scheduler.output.xlsx.writer import StreamBook

ISSUE_COLUMNS = ("source_row", "column", "header", "value", "code", "severity", "message")
_ISSUE_CAPS = (12, 10, 24, 30, 28, 10, 60)  # widest each Issues column gets; text wraps
_ISSUE_NOTES = {  # translated when written; {sheet}: the Results sheet's name
    0: N_(
        "The row number in your input sheet. It is the same row in the {sheet} sheet: click "
        "the number to go to the cell."
    ),
    1: N_(
        "The column letter in your input sheet. It is the same letter in the {sheet} sheet. "
        "Empty: the issue is about the whole row (shown on its outcome) or the whole file."
    ),
    2: N_("The header of that column in your input sheet."),
}
SUMMARY_PAGE = Page(landscape=False, header_rows=0)
_SUMMARY_TIME = 'dd/mm/yyyy hh:mm:ss "UTC"'
_SUMMARY_CAPS = (34, 70)
_SAMPLE = 2_000  # issues looked at to size the Issues columns
# Past this many cells the sheet XML may pass 2 GiB, which needs Zip64 (Excel is strict
# about Zip64, so it is used only then; the default intake limit, 200,000 rows, stays under).
_ZIP64_CELLS = 20_000_000

log = logging.getLogger(__name__)

__all__ = ["save_outputs", "summary_counts", "write_results", "write_summary_json"]


# ---------------------------------------------------------------- public API


def save_outputs(
    table: RawTable,
    lines: Sequence[ResultLine],
    issues: Sequence[Issue],
    summary: Mapping[str, object],
    *,
    results_path: Path | None,
    summary_json: Path | None,
    include_host_links: bool,
    state_dir: Path,
) -> tuple[Saved, ...]:
    """Write the results (or report) and the summary JSON where asked; a file that cannot be
    written there goes to the state directory's fallback folder instead (paths.py)."""
    saved: list[Saved] = []
    if results_path is not None:
        saved.append(save(lambda path: write_results(
            path, table=table, lines=lines, issues=issues, summary=summary,
            include_host_links=include_host_links,
        ), results_path, state_dir))  # fmt: skip
    if summary_json is not None:
        saved.append(save(
            lambda path: write_summary_json(path, summary, lines=lines, issues=issues),
            summary_json, state_dir,
        ))  # fmt: skip
    for problem in saved:
        if problem.problem:  # the CLI says so to people; this is for the logs
            log.info("could not write %s (%s); written to %s instead",
                     problem.asked, problem.problem, problem.path)  # fmt: skip
    return tuple(saved)


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
    results = Results(table, lines, issues, include_host_links)
    if path.suffix.lower() == ".csv":
        write_csv(path, *results.packed())
        return
    big = len(table) * results.width > _ZIP64_CELLS
    with atomic_path(path) as temp, StreamBook(temp, big=big) as book:
        results.write(book)
        _write_summary(book, summary, lines, issues)
        _write_issues(book, issues, results)


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


# ---------------------------------------------------------------- Summary and Issues sheets


def _write_summary(
    book: StreamBook,
    summary: Mapping[str, object],
    lines: Sequence[ResultLine],
    issues: Sequence[Issue],
) -> None:
    """Label and value per row (times as real dates, in UTC), then the counts; each label
    cell of the summary's values marked with its key (a defined name) for programs."""
    labels = summary_labels()
    rows: list[tuple[object, object, bool, str | None]] = [
        (summary_label(str(key), labels), _summary_value(str(key), value), False, str(key))
        for key, value in summary.items()
    ]
    titles = {
        "outcomes": (_("Outcome"), _("Rows")),
        "issues": (_("Issue code"), _("Issues")),
        "severities": (_("Severity"), _("Issues")),
    }
    words = {
        "outcomes": {o.value: word for o, word in outcome_words().items()},
        "issues": {},
        "severities": {s.value: word for s, word in severity_words().items()},
    }
    for group, counts in summary_counts(lines, issues).items():
        rows.append((None, None, False, None))
        rows.append((*titles[group], True, None))
        rows += [(words[group].get(name, name), n, False, None) for name, n in counts.items()]
    widest = [max([0] + [display_width(row[i]) for row in rows]) for i in range(2)]
    widths = column_widths(widest, _SUMMARY_CAPS, SUMMARY_PAGE)
    name = sheet_titles()["Summary"]
    sheet = book.add_sheet(name, widths=widths, page=SUMMARY_PAGE, wrap=True)
    bold = book.style(bold=True, left=True)
    when, plain = book.style(num=_SUMMARY_TIME, left=True), book.style(left=True)
    for label, value, title, key in rows:
        if key is not None:
            sheet.define_name(key, sheet.rows, 0)
        style = bold if title else when if isinstance(value, datetime) else plain
        sheet.append((label, value), (bold, style))


def _summary_value(key: str, value: object) -> object:
    """Plain values stay typed; times become UTC date cells; structures are JSON text."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, str) and key.endswith("_at"):
        value = _parse_time(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    if isinstance(value, Path):
        return str(value)
    return value


def _parse_time(text: str) -> object:
    """An ISO time with its offset (as the pipeline writes started_at) as a datetime."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return moment if moment.tzinfo is not None else text


def _write_issues(book: StreamBook, issues: Sequence[Issue], results: Results) -> None:
    """One row per issue; its row number links to the cell in Results that shows it."""
    room = MAX_ROWS - 2  # keep one row to say how many did not fit
    shown = issues[:room]
    severities = severity_words()
    cells = [_issue_cells(issue, severities) for issue in shown]
    words = column_headers()
    headers = [words[name] for name in ISSUE_COLUMNS]
    widest = [
        max([len(header)] + [display_width(c[i]) for c in cells[:_SAMPLE]])
        for i, header in enumerate(headers)
    ]
    widths = column_widths(widest, _ISSUE_CAPS, RESULTS_PAGE)
    sheet = book.add_sheet(
        sheet_titles()["Issues"], widths=widths, freeze_header=True, page=RESULTS_PAGE, wrap=True
    )
    header = book.style(bold=True, fill=HEADER_FILL)
    sheet.append(headers, [header] * len(headers))
    for col, name in enumerate(ISSUE_COLUMNS):
        sheet.define_name(name, 0, col)
    for col, note in _ISSUE_NOTES.items():
        sheet.add_note(0, col, _(note).format(sheet=results.sheet))
    fills = {s: book.style(fill=fill) for s, fill in PROBLEM_FILL.items()}
    link = book.link_style()
    for row, (issue, values) in enumerate(zip(shown, cells, strict=True), 1):
        styles: list[int | None] = [None] * 6 + [fills[issue.severity]]
        address = results.address(issue)
        if address is not None and row <= MAX_LINKS:
            styles[0] = link
            sheet.add_link(row, 0, location=address)
        sheet.append(values, styles)
    if len(issues) > room:
        more = len(issues) - room
        words_more = ngettext(
            "{count} more issue is not shown.", "{count} more issues are not shown.", more
        )
        sheet.append((None,) * 6 + (words_more.format(count=more),))
    sheet.autofilter(len(ISSUE_COLUMNS), rows=len(shown) + 1)


def _issue_cells(issue: Issue, severities: Mapping[Severity, str]) -> tuple[object, ...]:
    texts = (issue.column, issue.header, issue.value, issue.code, severities[issue.severity])
    cut = [None if text is None else fit(str(text)) for text in texts]
    return (issue.row, *cut, fit(issue.message))


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
