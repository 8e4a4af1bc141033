"""The checked-in templates (templates/), and what a person sees in a template workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl.workbook.workbook import Workbook

CHECKED_IN = Path(__file__).resolve().parents[2] / "templates"
REGENERATE = "regenerate with: .venv/bin/python templates/make_templates.py"


def snapshot(book: Workbook) -> dict[str, Any]:
    """Everything a person sees in a template: values, notes, dropdowns, formats, panes."""
    out: dict[str, Any] = {}
    for ws in book.worksheets:
        out[ws.title] = {
            "state": ws.sheet_state,
            "cells": [[c.value for c in row] for row in ws.iter_rows()],
            "comments": {
                c.coordinate: c.comment.text for row in ws.iter_rows() for c in row if c.comment
            },
            "validations": sorted(
                (str(v.sqref), v.type, v.formula1, v.errorStyle, v.allow_blank)
                for v in ws.data_validations.dataValidation
            ),
            "formats": {k: d.number_format for k, d in ws.column_dimensions.items()},
            "freeze": ws.freeze_panes,
            "heights": {k: d.height for k, d in ws.row_dimensions.items() if d.height},
            "merged": sorted(str(m) for m in ws.merged_cells.ranges),
            "print": (ws.page_setup.orientation, ws.page_setup.fitToWidth, ws.print_title_rows),
        }
    return out
