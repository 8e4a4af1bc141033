"""Which language is in force: resolved from flag, variable, config and locale; set for the
process or for one context (a request, a thread) without leaking into the others."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from batch_scheduler import i18n
from batch_scheduler.i18n.catalogue import translations


@pytest.fixture(autouse=True)
def english_default() -> Iterator[None]:
    yield
    i18n.set_default_language("en")


@pytest.mark.parametrize(
    ("flag", "config", "environ", "expected"),
    [
        (None, None, {}, "en"),
        ("cy", None, {}, "cy"),
        ("en", "cy", {"BATCH_SCHEDULER_LANG": "cy", "LANG": "cy_GB.UTF-8"}, "en"),
        (None, "en", {"BATCH_SCHEDULER_LANG": "cy"}, "cy"),
        (None, "cy", {"LANG": "en_GB.UTF-8"}, "cy"),
        (None, None, {"LANG": "cy_GB.UTF-8"}, "cy"),
        (None, None, {"LC_ALL": "cy_GB.UTF-8", "LANG": "en_GB.UTF-8"}, "cy"),
        (None, None, {"LC_MESSAGES": "cy_GB", "LANG": "en_GB"}, "cy"),
        (None, None, {"LC_ALL": "en_GB.UTF-8", "LANG": "cy_GB.UTF-8"}, "en"),
        (None, None, {"LANGUAGE": "cy:en", "LANG": "en_GB.UTF-8"}, "cy"),
        (None, None, {"LANG": "fr_FR.UTF-8"}, "en"),  # a locale we have no catalogue for
        (None, None, {"LANG": "C.UTF-8"}, "en"),
        (None, None, {"BATCH_SCHEDULER_LANG": " ", "LANG": "cy"}, "cy"),  # blank: not set
        ("CY", None, {}, "cy"),
        ("cy-GB", None, {}, "cy"),
    ],
)
def test_resolve_language(
    flag: str | None, config: str | None, environ: dict[str, str], expected: str
) -> None:
    assert i18n.resolve_language(flag, config, environ) == expected


@pytest.mark.parametrize(
    ("flag", "config", "environ", "where"),
    [
        ("fr", None, {}, '--lang is "fr"'),
        (None, None, {"BATCH_SCHEDULER_LANG": "welsh"}, 'BATCH_SCHEDULER_LANG is "welsh"'),
        (None, "de", {}, 'lang is "de"'),
    ],
)
def test_a_language_asked_for_by_name_must_exist(
    flag: str | None, config: str | None, environ: dict[str, str], where: str
) -> None:
    with pytest.raises(i18n.UnknownLanguage) as raised:
        i18n.resolve_language(flag, config, environ)
    assert str(raised.value) == f"{where}: use cy (Cymraeg) or en (English)."


def test_welsh_messages_and_plurals() -> None:
    assert i18n.gettext("Sign in") == "Sign in"
    with i18n.use_language("cy"):
        assert i18n.current_language() == "cy"
        assert i18n.gettext("Sign in") == "Mewngofnodi"
        assert i18n.gettext("not a message of ours") == "not a message of ours"
        rows = {
            n: i18n.ngettext("%(num)d row cannot be sent", "%(num)d rows cannot be sent", n)
            % {"num": n}
            for n in (0, 1, 2, 3, 6, 11)
        }
    assert rows == {
        0: "0 o resi na ellir eu hanfon",
        1: "1 rhes na ellir ei hanfon",
        2: "2 o resi na ellir eu hanfon",
        3: "3 o resi na ellir eu hanfon",
        6: "6 o resi na ellir eu hanfon",
        11: "11 o resi na ellir eu hanfon",
    }
    assert i18n.current_language() == "en"


def test_a_lazy_string_is_translated_when_shown() -> None:
    label = i18n.lazy_gettext("History")
    assert str(label) == "History"
    with i18n.use_language("cy"):
        assert str(label) == "Hanes"


def test_one_context_s_language_does_not_leak_into_another_thread() -> None:
    """A request in Welsh while a job runs in English in another thread, and back."""
    seen: dict[str, str] = {}
    in_welsh, english_done = threading.Event(), threading.Event()

    def job() -> None:
        in_welsh.wait(5)
        seen["job"] = i18n.gettext("Sign in")  # the process default: English
        english_done.set()

    worker = threading.Thread(target=job)
    worker.start()
    with i18n.use_language("cy"):
        in_welsh.set()
        english_done.wait(5)
        seen["request"] = i18n.gettext("Sign in")
    worker.join(5)
    assert seen == {"job": "Sign in", "request": "Mewngofnodi"}


def test_the_process_default_reaches_new_threads_and_contexts_override_it() -> None:
    i18n.set_default_language("cy")
    seen: list[str] = []
    thread = threading.Thread(target=lambda: seen.append(i18n.gettext("History")))
    thread.start()
    thread.join(5)
    with i18n.use_language("en"):
        seen.append(i18n.gettext("History"))
    seen.append(i18n.gettext("History"))
    assert seen == ["Hanes", "History", "Hanes"]


def test_unknown_languages_are_english() -> None:
    with i18n.use_language("xx") as language:
        assert language == "en" and i18n.gettext("History") == "History"
    assert i18n.language_code("cy_GB.UTF-8@euro") == "cy"
    assert i18n.language_code("fr") is None


def test_the_welsh_catalogue_is_built_once() -> None:
    assert translations("cy") is translations("cy")
    assert translations("en").gettext("History") == "History"
