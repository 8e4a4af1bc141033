"""Where things are: a RawTable seen field by field, and issues put on the cells they are about.

`Sheet` finds a field's column and cells; `Found` collects the issues as the checks find
them, one per cell (the first found wins; a cell the reader already found wrong gets no
second one), and says which rows have errors. `cell_of` finds the cell an API field name
means, for the 422 answers the sending gets back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from batch_scheduler.columns import field_named, fields_for
from batch_scheduler.issues import make_issue
from batch_scheduler.models import Issue, RawTable
from batch_scheduler.validate.cells import Parsed, cell_text, coded, is_blank


@dataclass(frozen=True)
class Sheet:
    """Finds a field's column and cells, and writes Issues located on them."""

    table: RawTable
    frame: pd.DataFrame  # the table's frame with a RangeIndex: positions are labels

    @classmethod
    def of(cls, table: RawTable) -> Sheet:
        return cls(table, table.frame.reset_index(drop=True))

    def has(self, field: str) -> bool:
        return field in self.table.fields

    def raw(self, field: str) -> pd.Series:
        """The field's cells as read; all None when the sheet has no such column."""
        if not self.has(field):
            return pd.Series(None, index=self.frame.index, dtype=object)
        return self.frame[self.table.fields[field]]

    def place(self, field: str) -> tuple[str | None, str | None]:
        """(column letter, header as written); (None, the field's friendly header) when the
        sheet has no such column."""
        if not self.has(field):
            return None, self.friendly(field)
        key = self.table.fields[field]
        return self.table.letter_of(key), self.table.headers[self.table.keys.index(key)]

    def friendly(self, field: str) -> str:
        """The header the templates give `field` on a sheet of this kind, in the current
        language."""
        fields = fields_for(self.table.kind)
        return next((f.shown_header() for f in fields if f.name == field), field)

    def issue(self, code: str, pos: int, field: str, **values: Any) -> Issue:
        """An issue about the cell of `field` at frame position `pos`: its value is the
        cell's, its label the column's header, unless `values` say otherwise."""
        column, header = self.place(field)
        if "value" not in values:
            cell = self.raw(field).iat[pos]
            values["value"] = None if is_blank(cell) else cell_text(cell)
        values.setdefault("label", header or self.friendly(field))
        return make_issue(
            code,
            row=self.table.source_rows[pos],
            column=column,
            header=header,
            field=field,
            **values,
        )


class Found:
    """Issues as they are found; one per cell (the first found wins)."""

    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet
        self.issues: list[Issue] = []
        self.flagged: set[tuple[int, str]] = set()
        # the reader's cell errors (merged cells, formulas never calculated, control
        # characters) come first: their cells get no second issue, and they block the row
        table = sheet.table
        for issue in table.issues:
            pos = table.position_of(issue.row)
            if issue.is_error and pos is not None and issue.field:
                self.flagged.add((pos, issue.field))

    def add(self, code: str, pos: int, field: str, **values: Any) -> None:
        if (pos, field) in self.flagged:
            return
        self.flagged.add((pos, field))
        self.issues.append(self.sheet.issue(code, pos, field, **values))

    def add_beside(self, code: str, pos: int, field: str, **values: Any) -> None:
        """An issue about the whole row, shown on `field`'s cell even when that cell has
        another already (a warning there must not hide it)."""
        self.flagged.add((pos, field))
        self.issues.append(self.sheet.issue(code, pos, field, **values))

    def codes(self, parsed: Parsed, field: str, **values: Any) -> None:
        """An issue for every cell the parser gave a code, with the parser's details."""
        for pos, code in coded(parsed.codes):
            details: Any = parsed.details.iat[pos] if parsed.details is not None else None
            self.add(code, pos, field, **values, **(details or {}))

    def error_positions(self) -> frozenset[int]:
        """The rows with an error, the reader's included: they are not sent."""
        table = self.sheet.table
        every = (*table.issues, *self.issues)
        found = (table.position_of(i.row) for i in every if i.is_error)
        return frozenset(pos for pos in found if pos is not None)

    def all_issues(self) -> tuple[Issue, ...]:
        """The reader's issues and ours, by row then column (the reader's first)."""
        return sorted_issues((*self.sheet.table.issues, *self.issues))


def sorted_issues(issues: Iterable[Issue]) -> tuple[Issue, ...]:
    """By row (file-level first), then column as Excel orders letters; stable."""

    def key(issue: Issue) -> tuple[int, int, str]:
        letter = issue.column or ""
        return (issue.row or 0, len(letter), letter)

    return tuple(sorted(issues, key=key))


# ---------------------------------------------------------------- the API's fields on the sheet


@dataclass(frozen=True)
class SheetCell:
    """A cell an API answer is about, as an Issue names it."""

    row: int  # as Excel numbers it
    column: str | None  # its letter; None when the sheet has no column for the field
    header: str | None  # as written in the sheet
    value: str | None  # the cell as read, as text


def cell_of(table: RawTable, api_field: str, position: int) -> SheetCell:
    """The cell of the row at frame `position` that the API means by `api_field` ("claimant.
    email", "claimant[email]", "department_id"...: columns.API_NAMES), for its 422 answers; an
    appointment time given in two columns is the date's cell."""
    field = field_named(api_field)
    if field == "appointment_at" and field not in table.fields:
        field = "appointment_date"
    row = table.source_rows[position]
    if field is None or field not in table.fields:
        return SheetCell(row, None, None, None)
    key = table.fields[field]
    value = table.frame[key].iat[position]
    return SheetCell(
        row=row,
        column=table.letter_of(key),
        header=table.headers[table.keys.index(key)],
        value=None if value is None else str(value),
    )
