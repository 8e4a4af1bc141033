"""The cross-field rules: what no single cell shows wrong, but a row or two rows together do.

An interpreter needed without a language (or a language without the need), a redirect
address without the redirect, and two rows that are one appointment (the same reference, or
the same claimant at the same time).
"""

from __future__ import annotations

import pandas as pd

from batch_scheduler.i18n import _
from batch_scheduler.validate.cells import positions
from batch_scheduler.validate.sheet import Found

REDIRECT_URLS = ("custom_user_post_call_redirect_url", "custom_agent_post_call_redirect_url")


def interpreter_rules(found: Found, values: pd.DataFrame) -> None:
    """language-required (an error) and language-not-needed (a warning: it is not sent)."""
    needed = values["is_interpreter_needed"].fillna(False).astype(bool)
    language = values["interpreter_language"].notna()
    has_language = found.sheet.has("interpreter_language")
    target = "interpreter_language" if has_language else "is_interpreter_needed"
    for pos in positions(needed & ~language):
        found.add("language-required", pos, target)
    for pos in positions(~needed & language):
        found.add("language-not-needed", pos, "interpreter_language")


def redirect_rules(found: Found, values: pd.DataFrame, *, redirect_by_default: bool) -> None:
    """A redirect address where the redirect is not on: a warning (it will not be used)."""
    flag = values["use_custom_post_call_redirect"].fillna(redirect_by_default).astype(bool)
    for name in REDIRECT_URLS:
        for pos in positions(values[name].notna() & ~flag):
            found.add("redirect-without-flag", pos, name)


def duplicate_references(found: Found, given: pd.Series, references: list[str | None]) -> None:
    """Rows that share a reference: duplicate-reference when it was given, duplicate-row when
    it was made (the same claimant at the same time), naming the other rows."""
    refs = pd.Series(references, index=given.index, dtype=object)
    repeated = refs[refs.notna() & refs.duplicated(keep=False)]
    rows = found.sheet.table.source_rows
    for _ref, group in repeated.groupby(repeated, sort=False):
        group_positions = [int(p) for p in group.index]
        for pos in group_positions:
            others = row_list([rows[p] for p in group_positions if p != pos])
            if isinstance(given.iat[pos], str):
                found.add("duplicate-reference", pos, "reference", others=others)
            else:
                found.add("duplicate-row", pos, "claimant_name", others=others)


def row_list(rows: list[int], shown: int = 5) -> str:
    """'row 4', 'rows 4 and 9', 'rows 4, 9, 12, 15, 20 and 3 more' (in the current language)."""
    words = [str(r) for r in rows[:shown]]
    if len(rows) > shown:
        more = _("rows {rows} and {more} more")
        return more.format(rows=", ".join(words), more=len(rows) - shown)
    if len(words) == 1:
        return _("row {row}").format(row=words[0])
    return _("rows {rows} and {last}").format(rows=", ".join(words[:-1]), last=words[-1])
