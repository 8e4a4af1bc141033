"""Jobs: one upload and what became of it, persisted so a reload, another tab or a server
restart shows the same thing.

    CHECKING -> CHECKED -> QUEUED -> RUNNING -> FINISHED
        |          ^          ^         |
        v          |          |         v
    REFUSED     (sheet)       +---- STOPPED   (interrupted, locked, API unreachable...)

Only `claim` moves CHECKED (or STOPPED, to resume) to QUEUED, in one UPDATE: a double click or
two people pressing Book on the same job queue it once. That is a courtesy, not the
guarantee: the ledger is what keeps two runs of the same sheet from booking anything twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from batch_scheduler.web.db import WebDb


class JobState(StrEnum):
    CHECKING = "checking"
    REFUSED = "refused"  # the file cannot be used; message says why
    CHECKED = "checked"
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"  # may be resumed: the re-run is the ordinary exactly-once run


SENDING_STATES = (JobState.QUEUED, JobState.RUNNING)


@dataclass(frozen=True)
class Job:
    id: int
    kind: str  # book | cancel | allocate
    state: JobState
    file_name: str
    input_name: str
    sheet: str | None
    uploaded_by: str
    created_at: datetime
    booked_by: str | None
    booked_at: datetime | None
    finished_at: datetime | None
    previous_id: int | None
    parent_id: int | None
    message: str | None
    check: Mapping[str, Any] = field(default_factory=dict)
    progress: Mapping[str, Any] = field(default_factory=dict)
    outcomes: Mapping[str, int] = field(default_factory=dict)
    files_deleted: bool = False

    @property
    def command(self) -> str:
        """What pressing the button does: cancel for cancel sheets, else book."""
        return "cancel" if self.kind == "cancel" else "book"

    @property
    def sending(self) -> bool:
        return self.state in SENDING_STATES


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _json(text: str | None) -> dict[str, Any]:
    return json.loads(text) if text else {}


def _job(row: Any) -> Job:
    return Job(
        id=row["id"],
        kind=row["kind"],
        state=JobState(row["state"]),
        file_name=row["file_name"],
        input_name=row["input_name"],
        sheet=row["sheet"],
        uploaded_by=row["uploaded_by"],
        created_at=datetime.fromisoformat(row["created_at"]),
        booked_by=row["booked_by"],
        booked_at=_time(row["booked_at"]),
        finished_at=_time(row["finished_at"]),
        previous_id=row["previous_id"],
        parent_id=row["parent_id"],
        message=row["message"],
        check=_json(row["check_json"]),
        progress=_json(row["progress_json"]),
        outcomes=_json(row["outcomes_json"]),
        files_deleted=bool(row["files_deleted"]),
    )


class JobStore:
    def __init__(self, db: WebDb, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._db, self._clock = db, clock

    def now(self) -> datetime:
        return self._clock()

    def create(
        self,
        *,
        kind: str,
        file_name: str,
        input_name: str,
        uploaded_by: str,
        sheet: str | None = None,
        previous_id: int | None = None,
        parent_id: int | None = None,
    ) -> int:
        with self._db.connect() as conn:
            cursor = conn.execute(
                "INSERT INTO jobs (kind, state, file_name, input_name, sheet, uploaded_by, "
                "created_at, previous_id, parent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    kind,
                    JobState.CHECKING.value,
                    file_name,
                    input_name,
                    sheet,
                    uploaded_by,
                    self._clock().isoformat(),
                    previous_id,
                    parent_id,
                ),
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    def get(self, job_id: int) -> Job | None:
        with self._db.connect() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def recent(self, days: int, limit: int = 500) -> list[Job]:
        since = (self._clock() - timedelta(days=days)).isoformat()
        with self._db.connect() as conn:
            rows = conn.execute(
                "SELECT * FROM jobs WHERE created_at >= ? ORDER BY id DESC LIMIT ?",
                (since, limit),
            ).fetchall()
        return [_job(row) for row in rows]

    def older_than(self, cutoff: datetime) -> list[Job]:
        """Jobs created before `cutoff` whose files are still kept (and are not sending)."""
        with self._db.connect() as conn:
            rows = conn.execute(
                "SELECT * FROM jobs WHERE created_at < ? AND files_deleted = 0 "
                "AND state NOT IN (?, ?)",
                (cutoff.isoformat(), *SENDING_STATES),
            ).fetchall()
        return [_job(row) for row in rows]

    # ------------------------------------------------------------ transitions

    def _set(self, job_id: int, where: str, args: tuple[Any, ...], **values: Any) -> bool:
        names = ", ".join(f"{key} = ?" for key in values)
        with self._db.connect() as conn:
            cursor = conn.execute(
                f"UPDATE jobs SET {names} WHERE id = ? {where}",
                (*values.values(), job_id, *args),
            )
        return cursor.rowcount == 1

    def checking(self, job_id: int, sheet: str | None) -> None:
        self._set(job_id, "", (), state=JobState.CHECKING.value, sheet=sheet, message=None)

    def checked(self, job_id: int, check: Mapping[str, Any], sheet: str | None) -> None:
        self._set(
            job_id,
            "",
            (),
            state=JobState.CHECKED.value,
            check_json=json.dumps(check),
            sheet=sheet,
            message=None,
        )

    def refused(self, job_id: int, message: str) -> None:
        self._set(job_id, "", (), state=JobState.REFUSED.value, message=message)

    def claim(self, job_id: int, user: str) -> bool:
        """CHECKED or STOPPED -> QUEUED, once; False if someone (or a double click) got there
        first or the job cannot be sent."""
        return self._set(
            job_id,
            "AND state IN (?, ?) AND files_deleted = 0",
            (JobState.CHECKED.value, JobState.STOPPED.value),
            state=JobState.QUEUED.value,
            booked_by=user,
            booked_at=self._clock().isoformat(),
            message=None,
        )

    def running(self, job_id: int) -> None:
        self._set(job_id, "", (), state=JobState.RUNNING.value)

    def progress(self, job_id: int, progress: Mapping[str, Any]) -> None:
        self._set(job_id, "", (), progress_json=json.dumps(progress))

    def finished(self, job_id: int, outcomes: Mapping[str, int], message: str | None) -> None:
        self._set(
            job_id,
            "",
            (),
            state=JobState.FINISHED.value,
            outcomes_json=json.dumps(outcomes),
            finished_at=self._clock().isoformat(),
            message=message,
        )

    def stopped(self, job_id: int, message: str, outcomes: Mapping[str, int] | None = None) -> None:
        values: dict[str, Any] = {"state": JobState.STOPPED.value, "message": message}
        if outcomes is not None:
            values["outcomes_json"] = json.dumps(outcomes)
        self._set(job_id, "", (), **values)

    def files_deleted(self, job_id: int) -> None:
        self._set(job_id, "", (), files_deleted=1)

    def interrupted_at_start(self, message: str) -> tuple[list[int], list[int]]:
        """After a restart: jobs that were sending become STOPPED (with Resume); checks that
        were running are returned to be run again. (sending ids, checking ids)"""
        with self._db.connect() as conn:
            sending = [
                row[0]
                for row in conn.execute("SELECT id FROM jobs WHERE state IN (?, ?)", SENDING_STATES)
            ]
            conn.execute(
                "UPDATE jobs SET state = ?, message = ? WHERE state IN (?, ?)",
                (JobState.STOPPED.value, message, *SENDING_STATES),
            )
            checking = [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM jobs WHERE state = ?", (JobState.CHECKING.value,)
                )
            ]
        return sending, checking
