"""The template's "Allowed values" text for each column, from the rules that check it.

Limits come from the pandera checks' own statistics (checks.py), so the Instructions sheet
cannot say one thing while validation checks another. The words are in the language in
force (a Welsh template's Instructions sheet), looked up when a template is written.
"""

from __future__ import annotations

from datetime import UTC, datetime

from batch_scheduler.columns import CANCEL_FIELDS, OPTION_FIELDS, Field, Kind
from batch_scheduler.config import IntakeSettings
from batch_scheduler.i18n import N_, _, pgettext
from batch_scheduler.validate.book import BOOLEAN_FIELDS, book_schema
from batch_scheduler.validate.cancel import cancel_schema
from batch_scheduler.validate.checks import choice_words, rule_text, rule_words
from batch_scheduler.validate.readers import NO_WHEN_BLANK
from batch_scheduler.validate.rules import REDIRECT_URLS

_FIXED_NOW = datetime(2000, 1, 1, tzinfo=UTC)  # for describing rules that do not depend on now
EXAMPLE_ID = "8f14e45f-ceea-4e7a-9c1b-2f1d3c4b5a69"

_FORMATS = {  # translated when shown
    Kind.DATETIME: N_(
        "A date and time in the future, day first: 03/12/2032 14:30 (also 3/12/2032 2:30pm, 3 "
        "Dec 2032 14:30, 2032-12-03 14:30, or an Excel date cell). Clock time in {tz}; a time "
        "the clocks skip or repeat when they change is refused. An offset "
        "(2032-12-03T14:30+00:00) gives an exact instant."
    ),
    Kind.DATE: N_(
        "A date, day first: 14/02/1985 (also 1985-02-14, 14 Feb 1985, or an Excel date cell)."
    ),
    Kind.TIME: N_(
        "A time of day on the 24-hour clock: 14:30 (also 2:30pm, or an Excel time cell)."
    ),
    Kind.INTEGER: N_("A whole number."),
    Kind.BOOLEAN: N_("Yes or No (also Y/N, True/False, 1/0, any case)."),
    Kind.PHONE: N_(
        "A phone number: UK numbers like 020 7946 0123, others with their country code (+33 1 "
        "99 00 12 34). Format the column as Text so Excel keeps the leading 0."
    ),
    Kind.EMAIL: N_("An email address."),
    Kind.URL: N_("A full https address (https://...)."),
    Kind.BANDWIDTH: N_("One of {allowed}."),
    Kind.TEXT: N_("Text."),
    Kind.DEPARTMENT: N_("A department id (a whole number){names}."),
}


def describe_rules(field: Field, settings: IntakeSettings) -> str:
    """The "Allowed values" text for the template's Instructions sheet, from the same rules
    the schema enforces (limits come from the pandera checks' own statistics)."""
    cancel = field in CANCEL_FIELDS
    schema = cancel_schema() if cancel else book_schema(settings, _FIXED_NOW)
    parts = [_("Required.") if field.required else _("Optional.")]
    names = ", ".join(settings.departments)
    listed = _(", or one of these names: {names}").format(names=names) if names else ""
    parts.append(
        _(_FORMATS[field.kind]).format(
            tz=settings.timezone,
            allowed=rule_text(
                book_schema(settings, _FIXED_NOW), "features_bandwidth", "not-in-list"
            ),
            names=listed,
        )
    )
    column = schema.columns.get(field.name)
    for check in column.checks if column is not None else ():
        if check.name in ("out-of-range", "too-long"):
            rule = rule_text(schema, field.name, str(check.name))
            parts.append(f"{rule_words(field.name, rule)}.".capitalize())
    parts.extend(_cancel_notes(field) if cancel else _extra_notes(field, settings))
    return " ".join(parts)


def _cancel_notes(field: Field) -> list[str]:
    if field.name == "appointment_id":
        return [_("An id like {id}. Give this or the reference.").format(id=EXAMPLE_ID)]
    if field.name == "reference":
        return [_("Give this or the appointment id.")]
    return [_("Blank: the --reason given, if any.")]


def _extra_notes(field: Field, settings: IntakeSettings) -> list[str]:
    name = field.name
    blank = _("Blank: {value}.")
    yes, no = pgettext("answer", "Yes"), pgettext("answer", "No")
    if name == "reference":
        return [_("Unique in the sheet. Blank: one is made from the claimant and slot.")]
    if name == "duration_in_minutes":
        return [blank.format(value=settings.default_duration)]
    if name == "claimant_date_of_birth":
        return [_("Must be in the past.")]
    if name == "interpreter_language":
        return [_("Required when an interpreter is needed.")]
    if name in OPTION_FIELDS or name in BOOLEAN_FIELDS:
        default = settings.defaults.get(name)
        if isinstance(default, bool):
            return [blank.format(value=yes if default else no)]
        if default is not None:
            return [blank.format(value=choice_words().get(str(default), default))]
        if name in NO_WHEN_BLANK:
            return [blank.format(value=no)]
        if name in REDIRECT_URLS:
            return [_("Blank: none.")]
        return [_("Blank: the platform's default.")]
    return []
