"""Everything a page needs, made once when the app starts: settings, stores and the worker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from batch_scheduler.web.accounts import Accounts
from batch_scheduler.web.audit import AuditLog
from batch_scheduler.web.db import WebDb, make_private_dir
from batch_scheduler.web.jobs import JobStore
from batch_scheduler.web.pipeline_bridge import Settings
from batch_scheduler.web.sessions import Sessions
from batch_scheduler.web.settings import WebSettings
from batch_scheduler.web.sso import SingleSignOn
from batch_scheduler.web.storage import JobFiles


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class WebContext:
    settings: Settings  # the library's (API credentials included: never rendered)
    web: WebSettings
    booking_off: str | None  # why booking is off (no API settings), or None
    secure_cookies: bool
    clock: Callable[[], datetime] = _utc_now  # wall clock: sessions, jobs, retention
    now: Callable[[], datetime] = _utc_now  # "now" for validation (BATCH_SCHEDULER_NOW)
    log_format: str | None = None  # `serve --log-format`: the children log the same way
    sso: SingleSignOn | None = None  # single sign-on, when configured
    db: WebDb = field(init=False)
    accounts: Accounts = field(init=False)
    sessions: Sessions = field(init=False)
    jobs: JobStore = field(init=False)
    files: JobFiles = field(init=False)
    audit: AuditLog = field(init=False)

    def __post_init__(self) -> None:
        if not self.settings.state_dir.exists():
            make_private_dir(self.settings.state_dir)  # like the ledger: 0700
        folder = web_folder(self.settings.state_dir)
        self.db = WebDb(folder)
        self.accounts = accounts_for(self.db, self.web, self.clock)
        self.sessions = Sessions(
            self.db,
            idle=timedelta(minutes=self.web.idle_minutes),
            lifetime=timedelta(hours=self.web.session_hours),
            clock=self.clock,
        )
        self.jobs = JobStore(self.db, clock=self.clock)
        self.files = JobFiles(folder / "jobs")
        self.audit = AuditLog(self.db, clock=self.clock)


def web_folder(state_dir: Path) -> Path:
    """The page's own files live beside the ledger, in the same state directory."""
    return Path(state_dir) / "web"


def accounts_for(db: WebDb, web: WebSettings, clock: Callable[[], datetime] = _utc_now) -> Accounts:
    return Accounts(
        db,
        max_failures=web.lockout_failures,
        lockout=timedelta(minutes=web.lockout_minutes),
        clock=clock,
    )
