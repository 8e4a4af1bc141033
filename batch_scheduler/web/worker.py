"""Where the work happens, off the request's event loop.

- Checks (read + validate, or plan an allocation) run on a small pool of their own: they
  never touch the ledger, so a long send does not hold up the next upload's check.
- Sends run on ONE worker thread with one queue: jobs are sent one after another, like CLI
  runs, against the same ledger. What is sent twice is for the ledger to refuse, not for
  this queue: two jobs of the same sheet just find the second one's rows already done.
- A housekeeping thread deletes files past the retention period.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

from batch_scheduler.i18n import N_
from batch_scheduler.web import pipeline_bridge as bridge
from batch_scheduler.web.context import WebContext
from batch_scheduler.web.jobs import Job

log = logging.getLogger(__name__)

HOUSEKEEPING_EVERY = 3600.0  # seconds between retention sweeps


# The job's messages are stored in English (N_) and translated when shown (the `translate`
# filter), in the language of whoever reads them, not of this thread.


def interrupted_message() -> str:
    return N_(
        "The server stopped while this job was running. Press Resume to finish it: rows "
        "already booked are found in the ledger and not booked again."
    )


def unwritable_message(after_sending: bool) -> str:
    """An output the job's folder cannot take (the page picks its paths, so the CLI's
    advice, give another --out, does not apply)."""
    if after_sending:
        return N_(
            "What was sent is recorded, but the server could not save this job's results "
            "anywhere. Tell whoever runs the server; when it can write files again, press "
            "Resume to get the results (nothing is sent twice)."
        )
    return N_(
        "The server cannot write this job's files (its folder is missing or cannot be "
        "written to), so nothing was sent. Tell whoever runs the server."
    )


def unsaved_message() -> str:
    """Outputs kept in the state directory's unsaved/ folder instead of the job's (the log
    says which and where): the page cannot offer them."""
    return N_(
        "Some of this job's files could not be saved with it, so they are not offered below: "
        "the server kept them in the unsaved folder of its state directory. Ask whoever runs "
        "the server for them."
    )


def unexpected_message() -> str:
    return N_(
        "Something went wrong on the server while this job ran. Nothing is sent twice: "
        "press Resume to try again, and tell whoever runs the server if it happens again."
    )


class Worker:
    def __init__(self, context: WebContext) -> None:
        self.context = context
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._checks = ThreadPoolExecutor(max_workers=1, thread_name_prefix="web-check")
        self._stop = threading.Event()
        self._sender = threading.Thread(target=self._send_loop, name="web-send", daemon=True)
        self._keeper = threading.Thread(target=self._housekeeping, name="web-keep", daemon=True)

    def start(self) -> None:
        """Mark what the last server left running, then start the threads (once)."""
        if self._sender.is_alive():
            return
        _sending, checking = self.context.jobs.interrupted_at_start(interrupted_message())
        self._sender.start()
        self._keeper.start()
        for job_id in checking:
            self.check(job_id)

    def stop(self) -> None:
        self._stop.set()
        self._queue.put(None)
        self._checks.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------ checks

    def check(self, job_id: int) -> Future[None]:
        return self._checks.submit(self._check, job_id)

    def _check(self, job_id: int) -> None:
        context, jobs = self.context, self.context.jobs
        job = jobs.get(job_id)
        if job is None:
            return
        folder = context.files.folder(job_id)
        try:
            result = bridge.check_upload(
                job.kind,
                folder / job.input_name,
                folder,
                sheet=job.sheet,
                settings=context.settings,
                now=context.now(),
            )
        except bridge.OutputError as exc:
            log.error("check of job %d: its files cannot be written: %s", job_id, exc.message)
            jobs.refused(job_id, unwritable_message(after_sending=False))
            return
        except bridge.BatchSchedulerError as exc:
            jobs.refused(job_id, exc.message)
            return
        except Exception as exc:  # a bug: say so, keep the traceback's values out of the log
            log.error("check of job %d failed: %s", job_id, type(exc).__name__)
            jobs.refused(
                job_id,
                N_(
                    "This file could not be checked because of a fault in the "
                    "server. Tell whoever runs it."
                ),
            )
            return
        context.files.save(job_id, "issues.json", json.dumps(result.issues).encode())
        context.files.make_private(job_id)
        jobs.checked(job_id, result.counts(), result.sheet)

    # ------------------------------------------------------------ sends

    def send(self, job_id: int) -> None:
        """Queue a job that `JobStore.claim` has just moved to QUEUED."""
        self._queue.put(job_id)

    def _send_loop(self) -> None:
        while not self._stop.is_set():
            job_id = self._queue.get()
            if job_id is None:
                return
            job = self.context.jobs.get(job_id)
            if job is not None:
                self._send(job)

    def _send(self, job: Job) -> None:
        context, jobs = self.context, self.context.jobs
        jobs.running(job.id)
        folder = context.files.folder(job.id)
        path, sheet = bridge.send_input(job.kind, folder, job.input_name, job.sheet)
        stats = bridge.SendStats()
        progress = bridge.CountingProgress(
            lambda counts: jobs.progress(job.id, counts), stats, context.monotonic
        )
        try:
            result = bridge.send(
                job.command,
                path,
                sheet,
                folder,
                settings=context.settings,
                now=context.now(),
                progress=progress,
                stats=stats,
            )
        except bridge.OutputError as exc:
            log.error("job %d: its files cannot be written: %s", job.id, exc.message)
            # exit 2: refused before sending (check_outputs); exit 1: after, no fallback either
            jobs.stopped(job.id, unwritable_message(after_sending=exc.exit_code == 1))
            return
        except bridge.BatchSchedulerError as exc:
            jobs.stopped(job.id, exc.message)
            return
        except Exception as exc:
            log.error("job %d stopped by a fault: %s", job.id, type(exc).__name__)
            jobs.stopped(job.id, unexpected_message())
            return
        finally:
            context.files.make_private(job.id)
        context.files.save(job.id, "failed.json", json.dumps(result.failed_rows).encode())
        for item in result.unsaved:  # Resume (a stopped job) writes them again
            log.warning("job %d: %s could not be saved (%s); kept as %s",
                        job.id, item.name, item.problem, item.kept_at)  # fmt: skip
        if result.unreachable:
            jobs.stopped(
                job.id,
                N_(
                    "The API stopped answering, so the job stopped. Press "
                    "Resume later to finish it."
                ),
                result.outcomes,
            )
        elif result.interrupted:
            jobs.stopped(job.id, interrupted_message(), result.outcomes)
        else:
            jobs.finished(job.id, result.outcomes, unsaved_message() if result.unsaved else None)
        state = jobs.get(job.id)
        context.audit.record(
            "job-finished",
            user=None,
            job_id=job.id,
            state=str(state.state if state else ""),
            **result.outcomes,
        )

    # ------------------------------------------------------------ retention

    def _housekeeping(self) -> None:
        while not self._stop.is_set():
            self.purge()
            self._stop.wait(HOUSEKEEPING_EVERY)

    def purge(self) -> int:
        """Delete the files of jobs older than the retention period; how many jobs."""
        context = self.context
        cutoff = context.clock() - timedelta(days=context.web.retention_days)
        old = context.jobs.older_than(cutoff)
        for job in old:
            context.files.delete(job.id)
            context.jobs.files_deleted(job.id)
            context.audit.record("files-expired", user=None, job_id=job.id)
        context.sessions.purge_expired()
        return len(old)
