"""The catalogues are complete and in step with the code: a message added without `make
i18n`, left untranslated or fuzzy, or translated with other placeholders fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from batch_scheduler.i18n import maintain
from batch_scheduler.i18n.catalogue import po_path, template_path


def test_every_message_has_a_reviewed_welsh_translation_with_the_same_placeholders() -> None:
    assert maintain.languages() == ["cy"]
    template = maintain.read(template_path())
    assert len(template) > 150  # the web page's messages at least
    welsh = maintain.read(po_path("cy"), "cy")
    assert maintain.translation_problems(welsh, template) == []


def test_the_pot_is_what_the_code_says_now(tmp_path: Path) -> None:
    """Extract afresh into a temporary file and compare the messages (not the header, the
    comments or the locations) with the .pot in the repository."""
    fresh = tmp_path / "messages.pot"
    fresh.write_bytes(maintain.render(maintain.extract()))
    committed = maintain.read(template_path())
    assert maintain.template_problems(committed, maintain.read(fresh)) == []


def test_every_command_s_help_is_placed_in_the_package() -> None:
    """A command's help is located where its command is written (a function of ours, not
    Click's wrapper of it), so `make i18n` works wherever the virtualenv lives."""
    locations = {where for _, (where, _line) in maintain.cli_messages()}
    outside = sorted(where for where in locations if not where.startswith("batch_scheduler/"))
    assert locations and outside == []
    assert "batch_scheduler/web/commands.py" in locations  # `users`, behind @pass_context


def _package(root: Path, python: str, template: str) -> Path:
    (root / "batch_scheduler" / "web" / "templates").mkdir(parents=True)
    (root / "batch_scheduler" / "mod.py").write_text(python, encoding="utf-8")
    (root / "batch_scheduler" / "web" / "templates" / "t.html").write_text(template, "utf-8")
    return root


def test_extraction_finds_every_way_the_code_marks_a_message(tmp_path: Path) -> None:
    python = (
        "from batch_scheduler import i18n\nfrom batch_scheduler.i18n import _, N_\n"
        "A = i18n.lazy_gettext('lazy')\nB = N_('marked')\n"
        "def f(n):\n    return _('plain'), i18n.gettext('dotted'), "
        "i18n.ngettext('%(num)d row', '%(num)d rows', n), i18n.pgettext('verb', 'Book')\n"
    )
    template = "{{ _('in a template') }} {{ ngettext('%(num)d day', '%(num)d days', n) }}"
    catalog = maintain.extract(_package(tmp_path, python, template))
    assert maintain.message_keys(catalog) == {
        ("lazy", None),
        ("marked", None),
        ("plain", None),
        ("dotted", None),
        (("%(num)d row", "%(num)d rows"), None),
        ("Book", "verb"),
        ("in a template", None),
        (("%(num)d day", "%(num)d days"), None),
    }


def test_a_message_added_without_extracting_makes_the_pot_out_of_date(tmp_path: Path) -> None:
    committed = maintain.read(template_path())
    code = _package(tmp_path, "from batch_scheduler.i18n import _\nX = _('Brand new')\n", "")
    problems = maintain.template_problems(committed, maintain.extract(code))
    assert "messages.pot lacks 'Brand new': run make i18n" in problems
    assert any("still has 'Sign in'" in p for p in problems)  # gone from this tiny "code"


def _catalogs(*pairs: tuple[object, object], fuzzy: object = None) -> tuple[Catalog, Catalog]:
    template, welsh = Catalog(), Catalog(locale="cy")
    for msgid, msgstr in pairs:
        template.add(msgid)
        if msgstr is not None:
            flags = ["fuzzy"] if msgid == fuzzy else []
            welsh.add(msgid, msgstr, flags=flags)
    return welsh, template


@pytest.mark.parametrize(
    ("msgid", "msgstr", "problem"),
    [
        ("Sign in", None, "is missing"),
        ("Sign in", "", "has no translation"),
        ("Row %(row)d", "Rhes %(rhes)d", "the translation 'Rhes %(rhes)d' has ['%(rhes)d']"),
        ("Row %(row)d", "Rhes %(row)s", "has ['%(row)s'], the English ['%(row)d']"),
        ("Row %(row)d", "Rhes", "has [], the English ['%(row)d']"),
        ("Row {row}", "Rhes {rhes}", "has ['{rhes}'], the English ['{row}']"),
        (
            "Done",
            "100% wedi'u gwneud",
            "has ['%()w'], the English []",
        ),  # a bare % breaks the formatting
        (
            ("%(num)d row", "%(num)d rows"),
            ("%(num)d rhes", "", "", "", "", "%(num)d o resi"),
            "has no translation",
        ),
        (
            ("%(num)d row", "%(num)d rows"),
            ("%(num)d rhes", "rhesi", "%(num)d o resi", "", "", ""),
            "has no translation",
        ),
        (
            ("%(num)d row", "%(num)d rows"),
            ("%(num)d rhes",) + ("rhesi",) * 5,
            "the translation 'rhesi' has []",
        ),
    ],
)
def test_the_check_finds_each_kind_of_problem(msgid: object, msgstr: object, problem: str) -> None:
    if msgstr is None:
        welsh, template = _catalogs(("Other", "Arall"))
        template.add(msgid)
    else:
        welsh, template = _catalogs((msgid, msgstr))
    problems = maintain.translation_problems(welsh, template)
    assert len(problems) >= 1 and problem in " ".join(problems), problems


def test_the_check_refuses_fuzzy_and_stale_translations() -> None:
    welsh, template = _catalogs(("Sign in", "Mewngofnodi"), fuzzy="Sign in")
    assert maintain.translation_problems(welsh, template) == [
        "cy: 'Sign in' is fuzzy: check it, drop the flag"
    ]
    welsh, template = _catalogs(("Sign in", "Mewngofnodi"))
    welsh.add("Gone", "Wedi mynd")
    assert maintain.translation_problems(welsh, template) == [
        "cy: 'Gone' is not in the code any more"
    ]


def test_a_good_translation_passes() -> None:
    welsh, template = _catalogs(
        ("Row %(row)d of %(total)d: {name}", "Rhes %(row)d o %(total)d: {name}"),
        ("50%% done", "50%% wedi'u gwneud"),
        (("%(num)d row", "%(num)d rows"), ("%(num)d rhes",) + ("%(num)d o resi",) * 5),
    )
    assert maintain.translation_problems(welsh, template) == []


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("%(num)d rows", ["%(num)d"]),
        ("%s and %d", ["%()d", "%()s"]),
        ("100%% sure", []),
        ("{name} {{literal}} {0} {count:,}", ["{0}", "{count:,}", "{name}"]),
        ("%(a)s %(a)s", ["%(a)s", "%(a)s"]),
    ],
)
def test_placeholders(text: str, fields: list[str]) -> None:
    assert sorted(maintain.placeholders(text).elements()) == fields


def test_make_i18n_changes_nothing_when_all_is_in_step(tmp_path: Path) -> None:
    """Rendering what is committed gives it back (dates aside): no churn in git."""
    for path in (template_path(), po_path("cy")):
        assert not maintain.write_if_changed(path, maintain.render(maintain.read(path, None)))
