"""Where the work happens: off the request's event loop, and out of the page's process.

Every call into the pipeline runs in a child process of its own (child.py says why: the
pipeline's garbage collections and process-wide switches stalled every page for up to
seconds when it ran on a thread here). The threads here only start children and wait:

- Checks (read + validate, or plan an allocation) go one at a time through a small pool of
  their own: they never touch the ledger, so a long send does not hold up the next check.
- Sends go through ONE worker thread with one queue: jobs are sent one after another, like
  CLI runs, against the same ledger. What is sent twice is for the ledger to refuse, not
  for this queue: two jobs of the same sheet just find the second one's rows already done.
  A job's progress comes back from its child and is written to the job store here.
- A housekeeping thread deletes files past the retention period.

Stopping the server stops the children: a job's child drains (requests in flight are
answered, partial results written) and the job is stopped with Resume, as if interrupted.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from batch_scheduler import i18n
from batch_scheduler.i18n import N_
from batch_scheduler.web import pipeline_bridge as bridge
from batch_scheduler.web.child import Child, ChildEnded, Setup, send_job
from batch_scheduler.web.context import WebContext
from batch_scheduler.web.jobs import Job

log = logging.getLogger(__name__)

HOUSEKEEPING_EVERY = 3600.0  # seconds between retention sweeps
STOP_WAIT = 30.0  # seconds a stopping server gives a job to drain and write its results
# A job's child runs at a lower priority: on a busy machine the pages get the CPU first
# (bench_web.py: the page's slowest loads were its process waiting for a CPU), and a send
# paced by the API's rate limit loses nothing by waiting a few milliseconds.
JOB_NICENESS = 10


# The job's own messages are stored in English (N_) and translated when shown (the
# `translate` filter), in the language of whoever reads them, not of this thread. What the
# library says (issue messages, a file refused, rows' reasons, the workbooks) is worded
# when the job runs: a check and a send run in the language of the request that asked for
# them (the page's language of whoever uploaded, or pressed Book).


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


def check_fault_message() -> str:
    return N_(
        "This file could not be checked because of a fault in the server. Tell whoever runs it."
    )


def unexpected_message() -> str:
    return N_(
        "Something went wrong on the server while this job ran. Nothing is sent twice: "
        "press Resume to try again, and tell whoever runs the server if it happens again."
    )


class Worker:
    def __init__(self, context: WebContext) -> None:
        self.context = context
        self._queue: queue.Queue[tuple[int, str] | None] = queue.Queue()
        self._checks = ThreadPoolExecutor(max_workers=1, thread_name_prefix="web-check")
        self._stop = threading.Event()
        self._sender = threading.Thread(target=self._send_loop, name="web-send", daemon=True)
        self._keeper = threading.Thread(target=self._housekeeping, name="web-keep", daemon=True)
        self._children: set[Child] = set()  # running now: stopped with the server
        self._children_lock = threading.Lock()

    def start(self) -> None:
        """Mark what the last server left running, then start the threads (once)."""
        if self._sender.is_alive():
            return
        _sending, checking = self.context.jobs.interrupted_at_start(interrupted_message())
        self._sender.start()
        self._keeper.start()
        self._checks.submit(self.call, os.getpid)  # starts the forkserver: children come quick
        for job_id in checking:
            self.check(job_id)

    def stop(self) -> None:
        """Stop the children (a job's drains gently) and give the job time to record how
        it ended; a check cut short is run again at the next start."""
        self._stop.set()
        self._queue.put(None)
        self._checks.shutdown(wait=False, cancel_futures=True)
        with self._children_lock:
            running = list(self._children)
        for child in running:
            child.stop()
        if self._sender.is_alive():
            self._sender.join(STOP_WAIT)

    # ------------------------------------------------------------ children

    def call(
        self,
        function: Callable[..., Any],
        *,
        on_report: Callable[[Any], None] | None = None,
        niceness: int = 0,
        **kwargs: Any,
    ) -> Any:
        """`function(**kwargs)` in a child process (child.py), in the language in force
        here; blocks until it answers. Raises ChildEnded when the server stops it."""
        setup = Setup(
            language=i18n.current_language(),
            log_format=self.context.log_format,
            secrets=tuple(self.context.settings.secrets()),
            niceness=niceness,
        )
        child = Child(setup, function, reports=on_report is not None, **kwargs)
        with self._children_lock:
            if self._stop.is_set():
                raise ChildEnded(None, stopped=True)
            self._children.add(child)
        try:
            return child.run(on_report)
        finally:
            with self._children_lock:
                self._children.discard(child)

    # ------------------------------------------------------------ checks

    def check(self, job_id: int) -> Future[None]:
        """Check on the pool, in the language in force here (the asking request's)."""
        return self._checks.submit(self._check_in, i18n.current_language(), job_id)

    def _check_in(self, language: str, job_id: int) -> None:
        with i18n.use_language(language):
            self._check(job_id)

    def _check(self, job_id: int) -> None:
        context, jobs = self.context, self.context.jobs
        job = jobs.get(job_id)
        if job is None:
            return
        folder = context.files.folder(job_id)
        try:
            result = self.call(
                bridge.check_upload,
                kind=job.kind,
                path=folder / job.input_name,
                folder=folder,
                sheet=job.sheet,
                settings=context.settings,
                now=context.now(),
            )
        except ChildEnded as ended:
            if not ended.stopped:  # killed (out of memory?): say so, like any fault
                log.error("check of job %d: its process ended (exit code %s)",
                          job_id, ended.exit_code)  # fmt: skip
                jobs.refused(job_id, check_fault_message())
            return  # stopped with the server: checked again at the next start
        except bridge.OutputError as exc:
            log.error("check of job %d: its files cannot be written: %s", job_id, exc.message)
            jobs.refused(job_id, unwritable_message(after_sending=False))
            return
        except bridge.BatchSchedulerError as exc:
            jobs.refused(job_id, exc.message)
            return
        except Exception as exc:  # a bug: say so, keep the traceback's values out of the log
            log.error("check of job %d failed: %s", job_id, type(exc).__name__)
            jobs.refused(job_id, check_fault_message())
            return
        context.files.save(job_id, "issues.json", json.dumps(result.issues).encode())
        context.files.make_private(job_id)
        jobs.checked(job_id, result.counts(), result.sheet)

    # ------------------------------------------------------------ sends

    def send(self, job_id: int) -> None:
        """Queue a job that `JobStore.claim` has just moved to QUEUED, to be sent in the
        language in force here (the asking request's)."""
        self._queue.put((job_id, i18n.current_language()))

    def _send_loop(self) -> None:
        while not self._stop.is_set():
            item = self._queue.get()
            if item is None:
                return
            job_id, language = item
            job = self.context.jobs.get(job_id)
            if job is not None:
                with i18n.use_language(language):
                    self._send(job)

    def _send(self, job: Job) -> None:
        context, jobs = self.context, self.context.jobs
        jobs.running(job.id)
        folder = context.files.folder(job.id)
        path, sheet = bridge.send_input(job.kind, folder, job.input_name, job.sheet)
        try:
            result: bridge.SendResult = self.call(
                send_job,
                on_report=lambda counts: jobs.progress(job.id, counts),
                niceness=JOB_NICENESS,
                command=job.command,
                path=path,
                sheet=sheet,
                folder=folder,
                settings=context.settings,
                now=context.now(),
            )
        except ChildEnded as ended:
            if ended.stopped:  # stopped with the server before it could say how far it got
                jobs.stopped(job.id, interrupted_message())
            else:
                log.error("job %d: its process ended (exit code %s)", job.id, ended.exit_code)
                jobs.stopped(job.id, unexpected_message())
            return
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
