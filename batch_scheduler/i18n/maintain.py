"""Keeping the catalogues in step with the code: `make i18n` (extract, update, check).

    python -m batch_scheduler.i18n.maintain            extract, update every .po, check
    python -m batch_scheduler.i18n.maintain check      change nothing; exit 1 on a problem

Extraction follows babel.cfg (Python, and the web page's Jinja2 templates), and takes the
help of every command and option from the command tree itself (`cli_messages`: Click's
`help=` and docstrings are not calls Babel can see). The `.pot` keeps
file names but no line numbers, and is rewritten only when a message changed, so moving code
does not churn it. Updating a `.po` adds new messages untranslated, marks changed ones fuzzy
(with the old translation as a guess) and drops those gone from the code. The check is the
one the tests run: every message translated, none fuzzy, the same placeholders as the
English, and the `.pot` the same as a fresh extraction.
"""

from __future__ import annotations

import inspect
import io
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from batch_scheduler.i18n.catalogue import DOMAIN, LOCALES, SOURCE_LANGUAGE, po_path
from batch_scheduler.i18n.catalogue import template_path as _template_path

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "babel.cfg"
PACKAGE = "batch_scheduler"
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None}
COMMENT_TAGS = ("Translators:",)
HEADER_COMMENT = (
    "# The messages of batch_scheduler, extracted from the code by make i18n: do not edit.\n#"
)
_DATES = re.compile(rb'^"(?:POT-Creation-Date|PO-Revision-Date): .*\\n"\n', re.MULTILINE)
# printf-style conversions, named or not ("%(num)d", "%s"); "%%" is a literal per cent
_PERCENT = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<type>[a-zA-Z%])"
)
# str.format fields ("{name}", "{0}", "{count:,}"); "{{" and "}}" are literal braces
_BRACE = re.compile(r"\{\{|\}\}|\{(?P<field>[^{}]*)\}")


def template_path() -> Path:
    return _template_path()


def languages() -> list[str]:
    """The languages with a catalogue in the repository (English needs none)."""
    return sorted(p.parent.parent.name for p in LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


# ---------------------------------------------------------------- extract


def _in_package(root: Path) -> Callable[[str], bool]:
    """Walk only the package's folders (not .venv, tests, __pycache__...)."""

    def wanted(path: str) -> bool:
        parts = Path(path).resolve().relative_to(root.resolve()).parts
        return not parts or (
            parts[0] == PACKAGE and not any(p.startswith((".", "_")) for p in parts[1:])
        )

    return wanted


def extract(root: Path = ROOT) -> Catalog:
    """Every message of the code, as babel.cfg says where to look."""
    with MAPPING.open(encoding="utf-8") as mapping:
        method_map, options_map = parse_mapping_cfg(mapping, str(MAPPING))
    catalog = Catalog(
        project=PACKAGE,
        header_comment=HEADER_COMMENT,
        copyright_holder="the batch_scheduler authors",
        domain=DOMAIN,
        fuzzy=False,
    )
    found = extract_from_dir(
        root,
        method_map,
        options_map,
        keywords=KEYWORDS,
        comment_tags=COMMENT_TAGS,
        strip_comment_tags=True,
        directory_filter=_in_package(root),
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    if root.resolve() == ROOT.resolve():  # the command tree is this checkout's own
        for message, location in cli_messages():
            catalog.add(message, None, [location], auto_comments=[CLI_COMMENT])
    return catalog


CLI_COMMENT = "The --help of a command or option (cli/language.py)."


def cli_messages() -> list[tuple[str, tuple[str, int]]]:
    """The help of every command and option, with where its command is defined."""
    from batch_scheduler.cli import cli
    from batch_scheduler.cli.language import help_texts, walk

    found = []
    for command, ctx in walk(cli, "batch-scheduler"):
        # the function as written: Click's @pass_context/@pass_obj wrap it in one of theirs
        callback = inspect.unwrap(command.callback) if command.callback else None
        source = inspect.getsourcefile(callback) if callback else None
        where = Path(source).resolve().relative_to(ROOT) if source else Path(PACKAGE)
        line = inspect.getsourcelines(callback)[1] if callback else 0
        found += [(text, (where.as_posix(), line)) for _, text in help_texts(command, ctx)]
    return found


def render(catalog: Catalog) -> bytes:
    """A catalogue as a .po/.pot file: sorted, file names without line numbers."""
    out = io.BytesIO()
    write_po(out, catalog, sort_output=True, include_lineno=False, ignore_obsolete=True)
    return out.getvalue()


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write unless only the header's dates differ; True when the file changed."""
    if path.exists() and _DATES.sub(b"", path.read_bytes()) == _DATES.sub(b"", data):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def read(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, locale=language, domain=DOMAIN)


# ---------------------------------------------------------------- update


def updated(language: str, template: Catalog) -> Catalog:
    """The language's catalogue brought in step with `template` (created if missing)."""
    path = po_path(language)
    if path.exists():
        catalog = read(path, language)
    else:
        catalog = Catalog(locale=language, domain=DOMAIN, project=PACKAGE, fuzzy=False)
    catalog.update(template, update_creation_date=False)
    return catalog


# ---------------------------------------------------------------- check


def placeholders(text: str) -> Counter[str]:
    """The format fields of a message: "%(num)d", "%s", "{name}" (literals left out)."""
    found: Counter[str] = Counter()
    for match in _PERCENT.finditer(text):
        if match["type"] != "%":
            found[f"%({match['name'] or ''}){match['type']}"] += 1
    for match in _BRACE.finditer(text):
        if match["field"] is not None:
            found["{" + match["field"] + "}"] += 1
    return found


def _label(message: Message) -> str:
    msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
    return repr(msgid if len(msgid) <= 70 else msgid[:69] + "…")


def _forms(message: Message) -> list[str]:
    if isinstance(message.string, tuple | list):
        return [str(s or "") for s in message.string]
    return [str(message.string or "")]


def _expected(message: Message) -> Counter[str]:
    """What each translation must carry: the plural's fields if plural, else the msgid's."""
    source = message.id[-1] if isinstance(message.id, tuple | list) else message.id
    return placeholders(source)


def translation_problems(catalog: Catalog, template: Catalog) -> list[str]:
    """Messages of `template` missing, untranslated, fuzzy or with other placeholders in
    `catalog`; messages of `catalog` the template no longer has."""
    problems: list[str] = []
    language = str(catalog.locale)
    for wanted in template:
        if not wanted.id:
            continue
        message = catalog.get(wanted.id, wanted.context)
        if message is None:
            problems.append(f"{language}: {_label(wanted)} is missing; run make i18n")
            continue
        forms = _forms(message)
        if not all(form.strip() for form in forms):
            problems.append(f"{language}: {_label(wanted)} has no translation")
        elif message.fuzzy:
            problems.append(f"{language}: {_label(wanted)} is fuzzy: check it, drop the flag")
        else:
            expected = _expected(message)
            for form in forms:
                if placeholders(form) != expected:
                    problems.append(
                        f"{language}: {_label(wanted)}: the translation {form!r} has "
                        f"{sorted(placeholders(form).elements())}, the English "
                        f"{sorted(expected.elements())}"
                    )
    for message in catalog:
        if message.id and template.get(message.id, message.context) is None:
            problems.append(f"{language}: {_label(message)} is not in the code any more")
    return problems


def message_keys(catalog: Iterable[Message]) -> set[tuple[object, str | None]]:
    """What identifies each message (header, comments and locations left out)."""
    return {
        (tuple(m.id) if isinstance(m.id, list | tuple) else m.id, m.context)
        for m in catalog
        if m.id
    }


def template_problems(template: Catalog, fresh: Catalog) -> list[str]:
    """How the `.pot` differs from a fresh extraction."""
    have, want = message_keys(template), message_keys(fresh)
    lacks = [f"messages.pot lacks {key[0]!r}: run make i18n" for key in want - have]
    stale = [f"messages.pot still has {key[0]!r}: run make i18n" for key in have - want]
    problems = sorted(lacks) + sorted(stale)
    return problems


def check() -> list[str]:
    """Every problem `make i18n-check` and the tests report."""
    template = read(template_path())
    problems = template_problems(template, extract())
    for language in languages():
        problems += translation_problems(read(po_path(language), language), template)
    return problems


# ---------------------------------------------------------------- make i18n


def main(argv: list[str]) -> int:
    if argv[:1] != ["check"]:
        template = extract()
        if write_if_changed(template_path(), render(template)):
            print(f"updated {template_path().relative_to(ROOT)}")
        template = read(template_path())
        for language in languages() or ["cy"]:
            if language == SOURCE_LANGUAGE:
                continue
            if write_if_changed(po_path(language), render(updated(language, template))):
                print(f"updated {po_path(language).relative_to(ROOT)}")
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in the catalogues", file=sys.stderr)
        return 1
    print("the catalogues are complete and in step with the code")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
