"""The library's work in child processes, so that the page's own process only serves pages.

Why (bench/bench_web.py, 2 cores, a 100,000-row job): while jobs were sent on a thread of
the server, every page slower than 200 ms coincided with a full collection of the garbage
collector on that thread, walking the send's own objects and finding nothing: 27 of them,
growing from 6 ms to 1.2 s as the rows sent piled up, each holding the GIL, so the event loop
that serves the pages stood still as long. Checks and the confirm page's dry run did the
same in small, and the pipeline flips the collector for the whole process around its stages
(runtime.py). In a child, the collector, the GIL and those switches are the child's own.

- `Child(setup, function, **kwargs).run()`: one library call (a check, a dry run, a job's
  send) in a fresh child; its return value, or the exception it raised. A job's send also
  reports its progress through the same pipe (`on_report`): the parent writes it to the job
  store, which stays the one source of truth for the pages.
- `Child.stop()` sends SIGTERM. While sending, the pipeline's `runtime.stop_on_signals`
  turns it into a gentle stop (requests in flight are waited for, partial results written);
  before or after the send the child just ends (outputs are written atomically).
- A child whose server is gone (even kill -9) exits at once, as the worker thread it
  replaces did: the job is interrupted, and Resume is the ordinary exactly-once re-run.
- A child is in a process group of its own: a Ctrl-C in the server's terminal reaches the
  server, which stops its children itself.

Children are forked from a forkserver that imported the library once (~2 s, at the first
child), then cost a fork each; where there is no forkserver they are spawned. They get
everything through their arguments (settings, "now", language, log format), never from the
environment, which is the forkserver's from when it started.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from batch_scheduler import i18n, logs
from batch_scheduler.web import pipeline_bridge as bridge

log = logging.getLogger(__name__)

REAP_WAIT = 10.0  # seconds a child may take to exit after its answer before it is killed
ORPHANED_EXIT = 75  # a child's exit code when its server went away
_PRELOAD = [__name__]  # what the forkserver imports once: this module, and the library


def _mp_context() -> ForkServerContext | SpawnContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class Setup:
    """What a child needs to speak and log as the server does."""

    language: str  # the messages it makes (issues, refusals): i18n.current_language()
    log_format: str | None = None  # as `serve --log-format`; None: no logging set up
    secrets: tuple[str, ...] = field(default=(), repr=False)  # masked in its log lines
    niceness: int = 0  # > 0: the pages get the CPU first (a job's send is in no hurry)

    def apply(self) -> None:
        if self.niceness:
            os.nice(self.niceness)
        i18n.set_default_language(self.language)
        if self.log_format is not None:
            logs.setup_logging(fmt=self.log_format, secrets=self.secrets)


class ChildEnded(Exception):
    """The child ended without an answer: stopped (`stopped`), or killed by something else
    (out of memory, a crash); `exit_code` as the OS gave it."""

    def __init__(self, exit_code: int | None, *, stopped: bool) -> None:
        super().__init__(f"child ended with exit code {exit_code}")
        self.exit_code, self.stopped = exit_code, stopped


class ChildFault(Exception):
    """An exception the child could not hand back as it was (it does not pickle): its type."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class Child:
    """One call of `function(**kwargs)` in a child process; run() once, stop() from any
    thread."""

    def __init__(
        self, setup: Setup, function: Callable[..., Any], *, reports: bool = False, **kwargs: Any
    ) -> None:
        context = _mp_context()
        self._reader, self._writer = context.Pipe(duplex=False)
        # The child's end reads EOF when this end closes: after the answer, or when this
        # process dies however it dies (multiprocessing.parent_process() cannot tell: from
        # a forkserver, its sentinel is a pipe closed as soon as the child has started).
        self._alive_child, self._alive = context.Pipe(duplex=False)
        self._process: BaseProcess = context.Process(
            target=_child_main,
            args=(setup, self._writer, self._alive_child, function, kwargs, reports),
            daemon=True,  # a server that exits normally takes its children with it
        )
        self._lock = threading.Lock()
        self._stopping = False

    def run(self, on_report: Callable[[Any], None] | None = None) -> Any:
        """Start the child and wait for its answer, handing each report to `on_report`.
        Returns what the function returned; raises what it raised, or ChildEnded."""
        with self._lock:
            if self._stopping:
                raise ChildEnded(None, stopped=True)
            self._process.start()
        self._writer.close()
        self._alive_child.close()
        answer = None
        try:
            while answer is None:
                try:
                    kind, payload = self._reader.recv()
                except EOFError:
                    break
                if kind == "report":
                    if on_report is not None:
                        on_report(payload)
                else:
                    answer = (kind, payload)
        finally:
            self._reader.close()
            self._reap()
            self._alive.close()
        if answer is None:
            raise ChildEnded(self._process.exitcode, stopped=self._stopping)
        kind, payload = answer
        if kind == "raised":
            raise payload
        return payload

    def stop(self) -> None:
        """Ask the child to stop (SIGTERM); a child not started yet never starts."""
        with self._lock:
            self._stopping = True
            if self._process.pid is not None and self._process.exitcode is None:
                self._process.terminate()

    def _reap(self) -> None:
        self._process.join(REAP_WAIT)
        if self._process.exitcode is None:
            log.error("a child process did not exit after its answer; killed")
            self._process.kill()
            self._process.join()


# ---------------------------------------------------------------- in the child


def _child_main(
    setup: Setup,
    conn: Connection,
    alive: Connection,
    function: Callable[..., Any],
    kwargs: dict[str, Any],
    reports: bool,
) -> None:
    _exit_with_parent(alive)
    os.setpgrp()  # signals come from the server, not from its terminal
    setup.apply()
    if reports:
        kwargs = kwargs | {"report": lambda payload: conn.send(("report", payload))}
    try:
        result = function(**kwargs)
    except Exception as exc:
        conn.send(("raised", _portable(exc)))
    else:
        conn.send(("returned", result))
    finally:
        conn.close()


def _portable(exc: Exception) -> Exception:
    """`exc` if it survives pickling, else a ChildFault naming its type (the values in an
    arbitrary exception may be claimants' data: they stay out of the log)."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return ChildFault(type(exc).__name__)
    return exc


def _exit_with_parent(alive: Connection) -> None:
    """Exit at once when the server that started this child is gone: `alive` reads EOF
    when the server's end of the pipe closes, which the OS does when it dies."""

    def watch() -> None:
        wait([alive])
        os._exit(ORPHANED_EXIT)

    threading.Thread(target=watch, name="exit-with-server", daemon=True).start()


def send_job(
    *,
    command: str,
    path: Path,
    sheet: str | None,
    folder: Path,
    settings: bridge.Settings,
    now: datetime,
    report: Callable[[dict[str, Any]], None],
) -> bridge.SendResult:
    """A job's send, in its child: the pipeline with Ctrl-C/SIGTERM handled (this is the
    child's main thread), its progress reported at most every 0.3 s."""
    stats = bridge.SendStats()
    progress = bridge.CountingProgress(report, stats, time.monotonic)
    return bridge.send(command, path, sheet, folder, settings=settings, now=now,
                       progress=progress, stats=stats, handle_signals=True)  # fmt: skip
