"""Who did what: a row in the audit table and one JSON log line per action.

Both hold the staff user name, the action, the job number and counts or codes only: never a
claimant's name, date of birth, phone, email or a file's contents (file names are left out
too: ops sometimes name files after people).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from batch_scheduler.web.db import WebDb

log = logging.getLogger("batch_scheduler.web.audit")

ACTIONS = (
    "sign-in",
    "sign-in-failed",
    "sign-in-locked",
    "sign-out",
    "sign-out-everywhere",
    "upload",
    "check-sheet",
    "book",
    "resume",
    "cancel-appointments",
    "delete-files",
    "download",
    "files-expired",
    "job-finished",
)


@dataclass(frozen=True)
class AuditEntry:
    at: str
    user_name: str | None
    action: str
    job_id: int | None
    detail: str


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AuditLog:
    def __init__(self, db: WebDb, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._db, self._clock = db, clock

    def record(
        self,
        action: str,
        *,
        user: str | None,
        job_id: int | None = None,
        **detail: int | str,
    ) -> None:
        """Store and log one action. `detail`: counts, codes, states; no personal data."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        at = self._clock().isoformat(timespec="seconds")
        text = " ".join(f"{key}={value}" for key, value in sorted(detail.items()))
        with self._db.connect() as conn:
            conn.execute(
                "INSERT INTO audit (at, user_name, action, job_id, detail) VALUES (?, ?, ?, ?, ?)",
                (at, user, action, job_id, text),
            )
        line = {"event": "audit", "action": action, "user": user, "job": job_id, **detail}
        log.info(json.dumps(line, sort_keys=True), extra={"audit": True})

    def recent(self, limit: int = 200, offset: int = 0) -> list[AuditEntry]:
        with self._db.connect() as conn:
            rows = conn.execute(
                "SELECT at, user_name, action, job_id, detail FROM audit "
                "ORDER BY id DESC LIMIT ? OFFSET ?",
                (limit, offset),
            ).fetchall()
        return [
            AuditEntry(r["at"], r["user_name"], r["action"], r["job_id"], r["detail"]) for r in rows
        ]

    def count(self) -> int:
        with self._db.connect() as conn:
            return int(conn.execute("SELECT count(*) FROM audit").fetchone()[0])
