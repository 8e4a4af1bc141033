"""The command-line side of the page: `serve`, `users add|remove|list|set-password`, and the
web demo. Thin: options in, library calls, words out."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import uvicorn

from batch_scheduler.i18n import _
from batch_scheduler.web.accounts import AccountError
from batch_scheduler.web.context import WebContext, accounts_for, web_folder
from batch_scheduler.web.db import WebDb
from batch_scheduler.web.pipeline_bridge import (
    ConfigError,
    load_library_settings,
    pinned_now,
    web_section,
)
from batch_scheduler.web.server import RunningWeb, ServeOptions, build_context, uvicorn_config
from batch_scheduler.web.settings import WebSettings, web_settings


def _fail(message: str, code: int) -> None:
    click.echo(_("Error: {message}").format(message=message), err=True)
    sys.exit(code)


@click.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Off loopback, put HTTPS in front (cookies are Secure).",
)
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path), help="A TOML config file."
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="json",
    show_default=True,
    help="json: log lines as JSON, for log collectors.",
)
def serve_command(host: str, port: int, config_path: Path | None, log_format: str) -> None:
    """Serve the web page for ops: upload, check, book, watch, download (sign-in required)."""
    from batch_scheduler.logs import setup_logging

    try:
        now = pinned_now()
    except ConfigError as exc:  # as the CLI's commands say it
        raise click.UsageError(exc.message) from None
    try:
        context = build_context(
            ServeOptions(host, port, config_path), now=(lambda: now) if now else None
        )
    except ConfigError as exc:
        _fail(exc.message, exc.exit_code)
        return
    setup_logging(fmt=log_format, secrets=context.settings.secrets())
    context.log_format = log_format
    if not context.accounts.names():
        click.echo(_("No accounts yet: add one with `batch-scheduler users add NAME`."), err=True)
    if context.booking_off:
        click.echo(_("Booking is off: {why}").format(why=context.booking_off), err=True)
    page = _("The page is at {url} (state directory {folder})")
    click.echo(page.format(url=f"http://{host}:{port}/", folder=context.settings.state_dir))
    uvicorn.Server(uvicorn_config(context, host, port)).run()


# ---------------------------------------------------------------- users


@click.group("users")
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path), help="A TOML config file."
)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    help="Where the page keeps its accounts (or BATCH_SCHEDULER_STATE_DIR).",
)
@click.pass_context
def users_command(ctx: click.Context, config_path: Path | None, state_dir: Path | None) -> None:
    """Manage the web page's local accounts."""
    env = dict(os.environ)
    if state_dir is not None:
        env["BATCH_SCHEDULER_STATE_DIR"] = str(state_dir)
    try:
        settings, _off = load_library_settings(config_path, env)
        web = web_settings(web_section(config_path))
    except ConfigError as exc:
        _fail(exc.message, exc.exit_code)
        return
    ctx.obj = accounts_for(WebDb(web_folder(settings.state_dir)), web)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt(_("Password"), hide_input=True, confirmation_prompt=True))


def _account_action(action: Any) -> None:
    try:
        action()
    except AccountError as exc:
        _fail(str(exc), 2)


@users_command.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def users_add(accounts: Any, name: str, password_stdin: bool) -> None:
    """Add an account (asks for its password twice)."""
    _account_action(lambda: accounts.add(name, _password(password_stdin)))
    click.echo(_("Added {name}.").format(name=name.strip().casefold()))


@users_command.command("remove")
@click.argument("name")
@click.pass_obj
def users_remove(accounts: Any, name: str) -> None:
    """Remove an account and sign it out everywhere."""
    _account_action(lambda: accounts.remove(name))
    click.echo(_("Removed {name}.").format(name=name))


@users_command.command("list")
@click.pass_obj
def users_list(accounts: Any) -> None:
    """List the accounts (names and when they were added; never passwords)."""
    for name, created in accounts.names():
        click.echo(f"{name}\t{created[:16].replace('T', ' ')}")


@users_command.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def users_set_password(accounts: Any, name: str, password_stdin: bool) -> None:
    """Give an account a new password; signs it out everywhere and lifts a lock-out."""
    _account_action(lambda: accounts.set_password(name, _password(password_stdin)))
    click.echo(_("New password set for {name}; its sessions have ended.").format(name=name))


# ---------------------------------------------------------------- demo --web


def run_web_demo(out_dir: Path, port: int) -> None:
    """The sandbox (with seeded faults) and the page, a demo account, fresh sample sheets."""
    from batch_scheduler.demo import DEMO_FAULTS, demo_settings, write_samples
    from batch_scheduler.sandbox import start_sandbox

    today = datetime.now(UTC).date()
    samples = write_samples(out_dir / "demo-input", today)
    state_dir = out_dir / "web-demo-state"
    shutil.rmtree(state_dir, ignore_errors=True)
    password = secrets.token_urlsafe(12)
    with start_sandbox(DEMO_FAULTS) as sandbox:
        # slow enough that the progress page has something to show
        settings = demo_settings(sandbox.base_url, state_dir, rate=20, concurrency=4)
        context = WebContext(
            settings=settings, web=WebSettings(), booking_off=None, secure_cookies=False
        )
        context.accounts.add("demo", password)
        with RunningWeb(context, port=port) as web:
            folder = samples["book.xlsx"].resolve().parent
            click.echo(_("The page:     {url}").format(url=f"{web.url}/"))
            click.echo(_("User name:    {name}").format(name="demo"))
            click.echo(_("Password:     {password}").format(password=password))
            click.echo(_("Sample sheets to upload: {folder}").format(folder=folder))
            click.echo(_("Sandbox API:  {url} (seeded faults on)").format(url=sandbox.base_url))
            click.echo(_("Press Ctrl-C to stop."))
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                click.echo("\n" + _("Stopped."))
