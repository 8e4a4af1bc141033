"""`ledger status` and `ledger prune`: what the ledger holds, and forgetting old entries.

The same for the SQLite file in the state directory and for a shared PostgreSQL ledger
(state_url); the work is ledger/housekeeping.py's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from batch_scheduler.cli.session import guard, now, plain_settings
from batch_scheduler.config import Settings
from batch_scheduler.i18n import gettext as _
from batch_scheduler.ledger import IndexedLedger, Ledger, open_ledger
from batch_scheduler.ledger.housekeeping import Status, prune, status

ANY_BASE_URL = "*"  # status and prune look at the entries of every base URL
_AGE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}

_where = click.option("--state-dir", type=click.Path(path_type=Path),
                      help="The state directory whose ledger to use (or "
                      "BATCH_SCHEDULER_STATE_DIR); a state_url, if set, is used "
                      "instead.")  # fmt: skip
_config = click.option("--config", "config_path", type=click.Path(path_type=Path),
                       help="A TOML config file (it may set state_dir or state_url).")  # fmt: skip


@click.group("ledger")
def ledger_command() -> None:
    """Look after the ledger: what it holds, and forgetting old entries."""


@ledger_command.command("status")
@_config
@_where
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON.")
def status_command(**opts: Any) -> None:
    """Where the ledger is, its entries by state, the oldest one, and claims held now."""
    settings = plain_settings(opts, need_api=False)
    found = guard(lambda: _with_ledger(settings, lambda ledger: status(ledger, now())))
    if found is None:
        click.echo(_("No ledger yet at %(where)s: nothing was booked with it.")
                   % {"where": _location(settings)})  # fmt: skip
        return
    click.echo(json.dumps(_status_json(found), indent=2) if opts["as_json"] else _words(found))


@ledger_command.command("prune")
@_config
@_where
@click.option("--older-than", required=True, metavar="AGE",
              help="Forget entries last written longer ago than this: 90d, 12w or "
              "36h.")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Say how many would go; forget nothing.")
def prune_command(older_than: str, dry_run: bool, **opts: Any) -> None:
    """Forget old entries (retention). Entries still to be checked with the API, and those a
    running run holds, are kept."""
    age = _age(older_than)
    settings = plain_settings(opts, need_api=False)
    moment = now()
    before = moment - age
    pruned = guard(lambda: _with_ledger(
        settings, lambda ledger: prune(ledger, before, moment, dry_run=dry_run)))  # fmt: skip
    if pruned is None:
        click.echo(_("No ledger yet at %(where)s: nothing to forget.")
                   % {"where": _location(settings)})  # fmt: skip
        return
    words = {"count": pruned.deleted, "when": f"{before:%Y-%m-%d %H:%M} UTC",
             "where": _location(settings)}  # fmt: skip
    if dry_run:
        click.echo(_("Dry run: %(count)d entries last written before %(when)s would be "
                     "forgotten (%(where)s); nothing was.") % words)  # fmt: skip
    else:
        click.echo(_("Forgot %(count)d entries last written before %(when)s (%(where)s).")
                   % words)  # fmt: skip
    if pruned.kept_unresolved:
        click.echo(_("Kept %(count)d older entries whose outcome is still to be checked with "
                     "the API: run their sheets again to settle them.")
                   % {"count": pruned.kept_unresolved})  # fmt: skip
    if pruned.kept_held:
        click.echo(_("Kept %(count)d older entries a running run holds now.")
                   % {"count": pruned.kept_held})  # fmt: skip


def _age(text: str) -> timedelta:
    match = _AGE.match(text)
    if match is None or int(match.group(1)) == 0:
        raise click.BadParameter(
            _("give a number of days, weeks or hours, such as 90d, 12w or 36h, not %(text)r.")
            % {"text": text},
            param_hint="--older-than",
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _with_ledger(settings: Settings, use: Callable[[IndexedLedger], Any]) -> Any:
    """Open the ledger the settings name (every base URL), use it, close it. None when
    there is no ledger there yet (nothing is created just to look; an older schema is
    brought up to date, as any run would)."""
    url = settings.state_url.reveal() if settings.state_url else None
    if url is not None:
        from batch_scheduler.ledger import postgres

        if not postgres.has_schema(url):
            return None
    elif not (settings.state_dir / Ledger.FILE_NAME).is_file():
        return None
    with open_ledger(settings.state_dir, url, base_url=ANY_BASE_URL) as ledger:
        return use(ledger)


def _location(settings: Settings) -> str:
    if settings.state_url:
        from batch_scheduler.ledger import postgres

        return postgres.where(settings.state_url.reveal())
    return str(settings.state_dir / Ledger.FILE_NAME)


def _words(found: Status) -> str:
    lines = [
        _("Ledger: %(backend)s, %(where)s (schema version %(version)d)")
        % {"backend": found.backend, "where": found.location, "version": found.schema_version},
        _("Entries: %(count)d") % {"count": found.entries},
    ]
    if found.oldest is not None and found.newest is not None:
        lines.append(_("Oldest written %(oldest)s, newest %(newest)s")
                     % {"oldest": f"{found.oldest:%Y-%m-%d %H:%M} UTC",
                        "newest": f"{found.newest:%Y-%m-%d %H:%M} UTC"})  # fmt: skip
    for (base_url, operation, state), count in found.counts.items():
        lines.append(f"  {base_url}  {operation:<7} {state:<12} {count:>9}")
    lines.append(_("Held by a run now: %(count)d") % {"count": found.held})
    lines.append(_("Account index: %(count)d appointments seen") % {"count": found.indexed})
    return "\n".join(lines)


def _status_json(found: Status) -> dict[str, Any]:
    return {
        "backend": found.backend,
        "location": found.location,
        "schema_version": found.schema_version,
        "entries": found.entries,
        "counts": [
            {"base_url": base_url, "operation": operation, "state": state, "count": count}
            for (base_url, operation, state), count in found.counts.items()
        ],
        "oldest": found.oldest.isoformat() if found.oldest else None,
        "newest": found.newest.isoformat() if found.newest else None,
        "held": found.held,
        "indexed": found.indexed,
    }
