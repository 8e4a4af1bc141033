"""How a command talks and stops: settings, logging, the pinned clock, and run-stopping
errors turned into a message, JSON where asked, and the exit code."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from batch_scheduler.cli.console import Voice, dumps, error, error_json, say_error
from batch_scheduler.cli.progress import CliProgress
from batch_scheduler.config import Settings, load_settings, pinned_now
from batch_scheduler.errors import BatchSchedulerError, ConfigError
from batch_scheduler.i18n import _
from batch_scheduler.logs import SECRETS, setup_logging
from batch_scheduler.output import JSON_SUFFIXES, Output, check_outputs, write_bytes_atomic
from batch_scheduler.pipeline import RunRequest, run
from batch_scheduler.report import RunReport

T = TypeVar("T")


class Session:
    """One command's way of talking (voice, logging) and of turning a run-stopping error
    into its message, its JSON (for --json and --summary-json) and its exit code."""

    def __init__(self, command: str, opts: Mapping[str, Any], *, as_json: bool = False) -> None:
        self.command = command
        self.opts = opts
        self.as_json = as_json
        log_json = opts.get("log_format") == "json"
        self.voice = Voice(quiet=bool(opts.get("quiet")), log_json=log_json)
        setup_logging(verbose=bool(opts.get("verbose")), quiet=self.voice.quiet,
                      fmt=opts.get("log_format") or "text")  # fmt: skip

    def settings(self, *, need_api: bool) -> Settings:
        settings = self.guard(lambda: _load_settings(self.opts, need_api=need_api))
        SECRETS.add(*settings.secrets())  # logging was set up before the settings were known
        return settings

    def progress(self) -> CliProgress:
        """A bar only for people at a terminal; logs get progress records instead."""
        people = not (self.voice.quiet or self.voice.log_json or self.opts.get("verbose"))
        return CliProgress(bar=None if people else False)

    def run(self, request: RunRequest, settings: Settings, **kwargs: Any) -> RunReport:
        at = now()
        return self.guard(lambda: run(request, settings, now=at, **kwargs))

    def guard(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except BatchSchedulerError as exc:
            self._stopped(exc)
            sys.exit(exc.exit_code)

    def _stopped(self, exc: BatchSchedulerError) -> None:
        """Say why the run stopped: on stderr, and as JSON wherever JSON was asked for."""
        file = self.opts.get("input_path")
        document = error_json(self.command, exc, file)
        if self.as_json:
            click.echo(dumps(document))
        error(exc.message, self.voice, code=exc.code, exit_code=exc.exit_code)
        summary = self.opts.get("summary_json")
        if summary is not None:  # a scheduler must not read last week's summary as this run's
            with contextlib.suppress(BatchSchedulerError, OSError):
                check_outputs([Output("--summary-json", summary, JSON_SUFFIXES)])
                write_bytes_atomic(summary, (dumps(document) + "\n").encode("utf-8"))


def plain_settings(opts: Mapping[str, Any], *, need_api: bool) -> Settings:
    """Settings and logging for a command that has no Session (template)."""
    settings = guard(lambda: _load_settings(opts, need_api=need_api))
    setup_logging(
        verbose=bool(opts.get("verbose")),
        quiet=bool(opts.get("quiet")),
        fmt=opts.get("log_format") or "text",
        secrets=settings.secrets(),
    )
    return settings


def _load_settings(opts: Mapping[str, Any], *, need_api: bool) -> Settings:
    overrides = {
        "api": {"base_url": opts.get("base_url"), "timeout": opts.get("timeout")},
        "send": {
            "rate": opts.get("rate"),
            "concurrency": opts.get("concurrency"),
            "max_retries": opts.get("max_retries"),
            "check_existing": opts.get("check_existing"),
        },
        "intake": {"timezone": opts.get("timezone")},
        "root": {"state_dir": opts.get("state_dir")},
    }

    def load(need: bool) -> Settings:
        return load_settings(
            config_path=opts.get("config_path"), env=os.environ, overrides=overrides, need_api=need
        )

    settings = load(need_api)
    if not need_api:
        # a dry run still plans against the ledger when it knows which API it is about
        with contextlib.suppress(ConfigError):
            settings = load(True)
    return settings


def now() -> datetime:
    """Now, or the time BATCH_SCHEDULER_NOW pins (config.pinned_now); a usage error (exit 2)
    when it is not a time."""
    try:
        return pinned_now() or datetime.now(UTC)
    except ConfigError as exc:
        raise click.UsageError(exc.message) from None


def guard(action: Callable[[], T]) -> T:
    """Run a library call; turn a run-stopping error into a message and its exit code."""
    try:
        return action()
    except BatchSchedulerError as exc:
        say_error(exc.message)
        sys.exit(exc.exit_code)


def write_or_fail(action: Callable[[], T], where: Path) -> T:
    """Run a file-writing call; a folder we cannot write to is a one-line error, exit 2."""
    try:
        return action()
    except OSError as exc:
        say_error(_("cannot write to {where}: {why}").format(where=where, why=exc.strerror or exc))
        sys.exit(2)
