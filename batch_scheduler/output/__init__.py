"""Output: what a run hands back to people and scripts, as files written whole or not at all.

Takes the run's result lines, issues and summary (or an allocation, or a sheet kind for a
template); writes workbooks, CSV and JSON. Every file is written atomically (a temporary
file renamed into place), and a path that cannot be written after sending goes to the state
directory's fallback folder instead, so results are never lost.

    results.py        the results (or report) workbook: Results, Summary, Issues; summary JSON
    results_sheet.py  the Results sheet: input cells at their own letters, then our columns
    results_csv.py    the Results sheet as .csv (formula-looking text neutralised)
    fix_sheet.py      the failed and invalid rows only, in the input's own columns
    allocation.py     the allocation workbook (Book, Unplaced, Slots, Issues, Summary)
    templates.py      the empty sheets to fill in, with their Instructions
    xlsx/             writing .xlsx: the streaming writer behind the big workbooks, cell
                      formats, notes, page setup; xlsxwriter helpers for the small ones
    atomic.py         write-then-rename, private (0600) files
    paths.py          output paths checked before sending; the fallback after
"""

from batch_scheduler.output.allocation import plan_summary, write_plan
from batch_scheduler.output.atomic import atomic_path, write_bytes_atomic
from batch_scheduler.output.fix_sheet import rows_to_fix, write_fix_sheet
from batch_scheduler.output.paths import (
    JSON_SUFFIXES,
    PLAN_SUFFIXES,
    RESULTS_SUFFIXES,
    Output,
    Saved,
    check_outputs,
    save,
)
from batch_scheduler.output.results import (
    save_outputs,
    summary_counts,
    write_results,
    write_summary_json,
)
from batch_scheduler.output.templates import write_template

__all__ = [
    "JSON_SUFFIXES",
    "PLAN_SUFFIXES",
    "RESULTS_SUFFIXES",
    "Output",
    "Saved",
    "atomic_path",
    "check_outputs",
    "plan_summary",
    "rows_to_fix",
    "save",
    "save_outputs",
    "summary_counts",
    "write_bytes_atomic",
    "write_fix_sheet",
    "write_plan",
    "write_results",
    "write_summary_json",
    "write_template",
]
