"""`batch-scheduler users ...` and `serve --help`; the i18n seam; the audit log line."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from batch_scheduler import i18n
from batch_scheduler.cli import cli
from batch_scheduler.web.audit import AuditLog
from batch_scheduler.web.db import WebDb
from tests.web.helpers import PASSWORD


def users(state: Path, *args: str, stdin: str = "") -> object:
    return CliRunner().invoke(cli, ["users", "--state-dir", str(state), *args], input=stdin)


def test_users_add_list_set_password_remove(tmp_path: Path) -> None:
    state = tmp_path / "state"
    added = users(state, "add", "Alice", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.exit_code == 0 and "Added alice" in added.output  # type: ignore[attr-defined]
    again = users(state, "add", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    assert again.exit_code == 2 and "already a user" in again.output  # type: ignore[attr-defined]
    short = users(state, "add", "bob", "--password-stdin", stdin="short\n")
    assert short.exit_code == 2 and "too short" in short.output  # type: ignore[attr-defined]
    prompted = users(state, "add", "carol", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output  # type: ignore[attr-defined]
    listed = users(state, "list").output  # type: ignore[attr-defined]
    assert "alice" in listed and "carol" in listed and PASSWORD not in listed
    changed = users(
        state, "set-password", "alice", "--password-stdin", stdin="a new long password\n"
    )
    assert changed.exit_code == 0  # type: ignore[attr-defined]
    assert users(state, "remove", "carol").exit_code == 0  # type: ignore[attr-defined]
    assert users(state, "remove", "carol").exit_code == 2  # type: ignore[attr-defined]
    assert "carol" not in users(state, "list").output  # type: ignore[attr-defined]
    assert (state / "web" / "web.sqlite3").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("command", [["serve"], ["users"], ["users", "add"], ["demo"]])
def test_help(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0 and len(result.output) > 100


def test_i18n_is_english_unless_told_otherwise() -> None:
    assert i18n.gettext("Sign in") == "Sign in"
    assert i18n.ngettext("%(num)d row", "%(num)d rows", 2) % {"num": 2} == "2 rows"
    lazy = i18n.lazy_gettext("History")
    assert str(lazy) == "History" and lazy == "History"
    i18n.set_language("xx")
    assert i18n.current_language() == "en"


def test_one_json_log_line_per_action_without_personal_data(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    audit = AuditLog(WebDb(tmp_path))
    with caplog.at_level(logging.INFO, logger="batch_scheduler.web.audit"):
        audit.record("book", user="alice", job_id=7, rows=31)
    (record,) = caplog.records
    assert json.loads(record.getMessage()) == {
        "event": "audit", "action": "book", "user": "alice", "job": 7, "rows": 31
    }  # fmt: skip
    with pytest.raises(ValueError):
        audit.record("made-up", user="alice")
