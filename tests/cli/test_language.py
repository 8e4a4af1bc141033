"""The command line in either language: `--lang` on every command (and the group), the
language's precedence, every command's --help and Click's own words in Welsh, the exit codes
the same in both languages, and what programs read (JSON, CSV) the same in both."""

from __future__ import annotations

import csv
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from batch_scheduler import i18n
from batch_scheduler.cli import cli
from batch_scheduler.cli.language import help_texts, walk
from batch_scheduler.sandbox import RunningSandbox
from tests.cli.test_template import commands
from tests.support.cli import NO_LANGUAGE, invoke
from tests.support.sheets import book_row, book_sheet, write_xlsx
from tests.support.welsh import english_left

CONFIG = (
    "[departments]\nBenefits = 1\nHousing = 2\n\n"
    "[send]\nbackoff_initial = 0.02\nbackoff_max = 0.1\nretry_after_floor = 0.05\n"
)
LANGUAGES = pytest.mark.parametrize("language", ["en", "cy"])
# what a missing input file makes `validate` say, in each language
MISSING = {"en": "does not exist", "cy": "yn bodoli"}


def speaking(env: dict[str, str], language: str) -> dict[str, str]:
    return {**env, "BATCH_SCHEDULER_LANG": language}


def squeezed(text: str) -> str:
    """Text without its whitespace: Click wraps help at any space (and after hyphens)."""
    return "".join(text.split())


# ---------------------------------------------------------------- --help in Welsh


@pytest.mark.parametrize(("name", "command"), commands(cli), ids=[n for n, _ in commands(cli)])
def test_every_command_and_option_helps_in_welsh(name: str, command: click.Command) -> None:
    shown = invoke({}, *name.split(), "--help", "--lang", "cy")
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("Defnydd: ") and "Opsiynau:" in shown.output
    assert "Dangos y neges hon a gadael." in shown.output  # Click's own help option
    context = click.Context(command, info_name=name)
    with i18n.use_language("cy"):
        for _item, english in help_texts(command, context):
            welsh = i18n.gettext(english)
            assert welsh != english, english
            # the summary of a command is cut short in its group's list, never in its own help
            assert squeezed(welsh) in squeezed(shown.output), english
    english_help = invoke({}, *name.split(), "--help")
    assert english_help.output.startswith("Usage: "), english_help.output


def test_the_group_helps_in_welsh_with_its_commands_summed_up() -> None:
    shown = invoke({}, "--lang", "cy", "--help")
    assert "Gorchmynion:" in shown.output
    assert "Trefnu a chanslo apwyntiadau fideo SQOD" in squeezed(shown.output) or (
        "Trefnu a chanslo" in shown.output
    )
    assert "book      Trefnu un apwyntiad" in shown.output


def test_every_help_text_is_in_the_catalogue() -> None:
    """maintain.py finds the help by walking the tree: the same walk the CLI translates."""
    from batch_scheduler.i18n import maintain

    messages = {message for message, _where in maintain.cli_messages()}
    for command, context in walk(cli, "batch-scheduler"):
        for _item, english in help_texts(command, context):
            assert english in messages


# ---------------------------------------------------------------- which language


def _said(env: dict[str, str], *args: Any) -> str:
    """What `validate` says about a file that does not exist: its language is the run's."""
    result = invoke(env, *args, catch_exceptions=True)
    assert result.exit_code == 2, result.output
    return next(language for language, words in MISSING.items() if words in result.output)


@pytest.mark.parametrize(
    ("variables", "config", "flags", "expected"),
    [
        ({}, None, (), "en"),
        ({"LANG": "cy_GB.UTF-8"}, None, (), "cy"),  # the locale
        ({"LANG": "cy_GB.UTF-8"}, "en", (), "en"),  # config lang beats the locale
        ({"BATCH_SCHEDULER_LANG": "cy"}, "en", (), "cy"),  # the variable beats config lang
        ({"BATCH_SCHEDULER_LANG": "cy"}, "en", ("--lang", "en"), "en"),  # the flag beats all
        ({}, "cy", (), "cy"),
        ({}, None, ("--lang", "cy"), "cy"),
    ],
)
def test_the_language_is_the_flag_then_the_variable_then_config_then_the_locale(
    tmp_path: Path,
    variables: dict[str, str],
    config: str | None,
    flags: tuple[str, ...],
    expected: str,
) -> None:
    args: list[Any] = ["validate", tmp_path / "missing.xlsx", *flags]
    if config is not None:
        (tmp_path / "c.toml").write_text(f'lang = "{config}"\n')
        args += ["--config", tmp_path / "c.toml"]
    assert _said(variables, *args) == expected


def test_the_group_takes_lang_too_and_the_command_s_own_wins(tmp_path: Path) -> None:
    missing = tmp_path / "missing.xlsx"
    assert _said({}, "--lang", "cy", "validate", missing) == "cy"
    assert _said({}, "--lang", "cy", "validate", missing, "--lang", "en") == "en"
    assert _said({}, "validate", "--lang", "cy", missing) == "cy"


def test_a_language_we_do_not_have_is_refused_in_a_language_we_do(tmp_path: Path) -> None:
    flag = invoke({}, "validate", tmp_path / "x.xlsx", "--lang", "fr", catch_exceptions=True)
    assert flag.exit_code == 2 and "'fr' is not one of 'cy', 'en'" in flag.output
    variable = invoke({"BATCH_SCHEDULER_LANG": "fr"}, "validate", "x.xlsx")
    assert variable.exit_code == 3
    assert 'BATCH_SCHEDULER_LANG is "fr": use cy (Cymraeg) or en (English).' in variable.output
    (tmp_path / "c.toml").write_text('lang = "de"\n')
    config = invoke({}, "validate", "x.xlsx", "--config", tmp_path / "c.toml")
    assert config.exit_code == 3 and 'lang is "de"' in config.output


def test_click_s_own_words_are_welsh(tmp_path: Path) -> None:
    env = {"BATCH_SCHEDULER_LANG": "cy"}
    missing = invoke(env, "book", catch_exceptions=True)
    assert missing.exit_code == 2
    assert missing.output.splitlines() == [
        "Defnydd: cli book [OPTIONS] INPUT",  # the test runner calls the program "cli"
        "Rhowch gynnig ar 'cli book --help' i gael help.",
        "",
        "Gwall: Dadl ar goll 'INPUT'.",
    ]
    typo = invoke(env, "boook", catch_exceptions=True)
    assert "Gwall: Nid oes gorchymyn 'boook'. Ai 'book' oedd dan sylw?" in typo.output
    choice = invoke(env, "validate", "x.csv", "--kind", "move", catch_exceptions=True)
    assert "Gwerth annilys ar gyfer '--kind': Nid yw 'move' yn un o 'book', 'cancel'." in (
        choice.output
    )
    assert "[gofynnol]" in invoke(env, "book", "--help").output  # --out's "required"


# ---------------------------------------------------------------- exit codes, both languages


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port nothing listens on: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    yield port


@LANGUAGES
def test_exit_codes_are_the_same_in_both_languages(
    tmp_path: Path, env: dict[str, str], language: str, closed_port: int
) -> None:
    env = speaking(env, language)
    config = ("--config", tmp_path / "config.toml")
    good = book_sheet(tmp_path / "good.xlsx", 2)
    rows = [book_row(0), {**book_row(1), "Email": "not-an-email"}]
    bad = write_xlsx(tmp_path / "bad.xlsx", rows)
    headless = write_xlsx(tmp_path / "headless.xlsx", [{"Reference": "R1"}], headers=("Reference",))
    no_api = {k: v for k, v in env.items() if k != "BATCH_SCHEDULER_TOKEN"}
    unreachable = f"http://127.0.0.1:{closed_port}"
    cases = [
        (0, env, ("validate", good, *config)),  # each case as the README's exit code table
        (1, env, ("validate", bad, *config)),
        (2, env, ("validate", headless, *config)),
        (2, env, ("book", good, "--out", tmp_path / "no" / "r.xlsx", "--dry-run")),
        (3, no_api, ("book", good, "--out", tmp_path / "r.xlsx", "--base-url", unreachable)),
        (4, env, ("book", good, "--out", tmp_path / "r4.xlsx", "--base-url", unreachable,
                  *config)),
    ]  # fmt: skip
    for code, environment, args in cases:
        result = invoke(environment, *args, catch_exceptions=True)
        assert result.exit_code == code, (args, result.output)


# ---------------------------------------------------------------- what programs read


def _without_words(document: Any) -> Any:
    """A JSON document with the words for people (messages) taken out: what must not change."""
    if isinstance(document, dict):
        return {k: None if k == "message" else _without_words(v) for k, v in document.items()}
    if isinstance(document, list):
        return [_without_words(v) for v in document]
    return document


def test_validate_json_has_the_same_keys_and_codes_in_both_languages(
    tmp_path: Path, env: dict[str, str]
) -> None:
    rows = [book_row(i) for i in range(3)]
    rows[1]["Phone"] = 7400900123
    rows[2]["Email"] = "@"
    sheet = write_xlsx(tmp_path / "in.xlsx", rows)
    found = {}
    for language in ("en", "cy"):
        result = invoke(speaking(env, language), "validate", sheet, "--json", "--config",
                        tmp_path / "config.toml")  # fmt: skip
        assert result.exit_code == 1
        found[language] = json.loads(result.stdout)
    en, cy = found["en"], found["cy"]
    assert en["issues"][0]["message"] != cy["issues"][0]["message"]  # people read Welsh
    for document in (en, cy):
        for moment in ("started_at", "finished_at", "duration_seconds"):
            document["summary"].pop(moment)
    assert _without_words(en) == _without_words(cy)
    assert json.dumps(_without_words(en)) == json.dumps(_without_words(cy))  # key order too
    assert en["outcomes"] == {"valid": 1, "invalid": 2}


def test_summary_json_and_csv_keep_the_stable_names_in_both_languages(
    sandbox: RunningSandbox, tmp_path: Path, env: dict[str, str]
) -> None:
    rows = [book_row(i) for i in range(3)]
    rows[2]["Email"] = "not-an-email"
    sheet = write_xlsx(tmp_path / "in.xlsx", rows)
    summaries, tables = {}, {}
    for language in ("en", "cy"):
        out, summary = tmp_path / f"{language}.csv", tmp_path / f"{language}.json"
        result = invoke(speaking(env, language), "book", sheet, "--out", out, "--summary-json",
                        summary, "--base-url", sandbox.base_url, "--config",
                        tmp_path / "config.toml")  # fmt: skip
        assert result.exit_code == 1, result.output
        summaries[language] = json.loads(summary.read_text())
        with out.open(encoding="utf-8-sig", newline="") as handle:
            tables[language] = list(csv.reader(handle))
    en, cy = summaries["en"], summaries["cy"]
    assert list(en) == list(cy) and en["counts"]["issues"] == cy["counts"]["issues"]
    assert en["counts"]["outcomes"] == {"created": 2, "invalid": 1}
    assert cy["counts"]["outcomes"] == {"already_exists": 2, "invalid": 1}
    header = tables["en"][0]
    assert tables["cy"][0] == header  # byte for byte: the stable names
    assert header[-9:] == ["source_row", "outcome", "reference", "appointment_id", "status",
                           "appointment_at_utc", "error", "attempts", "meeting_url"]  # fmt: skip
    outcome = header.index("outcome")
    assert [r[outcome] for r in tables["en"][1:]] == ["created", "created", "invalid"]
    # the second run finds the first one's bookings: still the stable names
    assert [r[outcome] for r in tables["cy"][1:]] == ["already_exists", "already_exists", "invalid"]
    error = header.index("error")
    assert tables["en"][3][error] != tables["cy"][3][error]  # the reason is for people


# ---------------------------------------------------------------- what the web's admin reads


def test_the_web_page_s_accounts_and_settings_are_refused_in_welsh(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """`users` and `serve` say what is wrong with an account or the [web] settings in the
    language of the run (they are CLI errors like any other)."""
    env = speaking({**NO_LANGUAGE, **env}, "cy")
    state = ("--state-dir", tmp_path / "state")
    said = []
    stdin = ("--password-stdin",)
    for args in (("remove", "bob"), ("set-password", "bob", *stdin), ("add", "bob bob", *stdin),
                 ("add", "bob", *stdin)):  # fmt: skip
        result = CliRunner().invoke(cli, ["users", *map(str, state), *args], env=env, input="byr\n")
        assert result.exit_code == 2, result.output
        said.append(result.output)
    added = CliRunner().invoke(cli, ["users", *map(str, state), "add", "bob", "--password-stdin"],
                               env=env, input="cyfrinair hir iawn\n")  # fmt: skip
    assert added.exit_code == 0, added.output
    again = CliRunner().invoke(cli, ["users", *map(str, state), "add", "bob", "--password-stdin"],
                               env=env, input="cyfrinair hir iawn\n")  # fmt: skip
    assert again.exit_code == 2
    said.append(again.output)
    for table in ("web = 3\n", "[web]\nfoo = 1\n", "[web]\nsecure_cookies = 3\n",
                  "[web]\nmax_upload_mb = 0\n"):  # fmt: skip
        (tmp_path / "c.toml").write_text(table)
        served = invoke(
            {**env, "BATCH_SCHEDULER_STATE_DIR": str(tmp_path / "state")},
            "serve",
            "--config",
            tmp_path / "c.toml",
        )
        assert served.exit_code == 3, served.output
        said.append(served.output)
    for text in said:
        assert text.startswith("Gwall: "), text
        quoted = ["bob bob", "bob", "web.foo", "web.secure_cookies", "web.max_upload_mb",
                  "[web]", "@", "true", "false"]  # fmt: skip
        assert english_left(text, quoted) == set(), text


def test_the_sandbox_s_knobs_are_refused_in_welsh(env: dict[str, str]) -> None:
    env = speaking(env, "cy")
    for knob in (("--error-rate", "2"), ("--latency", "-1"), ("--rate-limit", "0")):
        result = invoke(env, "sandbox", "--port", "0", *knob)
        assert result.exit_code == 2, result.output
        said = result.output.splitlines()[-1]
        assert said.startswith("Gwall: "), said
        quoted = ["error_rate", "latency", "rate_limit", "None", "2.0"]
        assert english_left(said, quoted) == set(), said
