"""The page's library calls in child processes (web/child.py): what comes back, what a stop
does, and that a child never outlives its server. Real processes, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from batch_scheduler import i18n
from batch_scheduler.errors import OutputError
from batch_scheduler.web.child import Child, ChildEnded, ChildFault, Setup

EN = Setup(language="en")

# The functions below run in the child: module level, so that it can import them.


def pid_and_language() -> tuple[int, str]:
    return os.getpid(), i18n.current_language()


def refuse() -> None:
    raise OutputError("The results cannot be written.", exit_code=1)


class Unpicklable(Exception):
    def __init__(self, a: str, b: str) -> None:  # pickling calls it with one argument
        super().__init__(a)


def fail_oddly() -> None:
    raise Unpicklable("a claimant's name, say", "b")


def count_to(n: int, report: Callable[[int], None]) -> str:
    for i in range(1, n + 1):
        report(i)
    return "done"


def wait_for_stop(marker: Path) -> None:
    marker.write_text(str(os.getpid()))
    time.sleep(60)


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_call_runs_in_another_process_in_the_language_asked() -> None:
    pid, language = Child(Setup(language="cy"), pid_and_language).run()
    assert pid != os.getpid() and language == "cy"


def test_what_the_call_raised_is_raised_here_with_its_exit_code() -> None:
    with pytest.raises(OutputError) as raised:
        Child(EN, refuse).run()
    assert (raised.value.message, raised.value.exit_code) == ("The results cannot be written.", 1)


def test_an_exception_that_cannot_cross_comes_back_as_its_type_only() -> None:
    with pytest.raises(ChildFault) as raised:
        Child(EN, fail_oddly).run()
    assert raised.value.kind == "Unpicklable" and "claimant" not in str(raised.value)


def test_reports_arrive_in_order_before_the_answer() -> None:
    seen: list[int] = []
    assert Child(EN, count_to, reports=True, n=5).run(seen.append) == "done"
    assert seen == [1, 2, 3, 4, 5]


def test_stop_ends_the_child_and_says_it_was_stopped(tmp_path: Path) -> None:
    marker = tmp_path / "pid"
    child = Child(EN, wait_for_stop, marker=marker)
    stopper = _after(lambda: marker.exists(), child.stop)
    with pytest.raises(ChildEnded) as ended:
        child.run()
    stopper.join()
    assert ended.value.stopped and ended.value.exit_code == -signal.SIGTERM


def test_a_child_stopped_before_it_starts_never_starts() -> None:
    child = Child(EN, die)
    child.stop()
    with pytest.raises(ChildEnded) as ended:
        child.run()
    assert ended.value.stopped and ended.value.exit_code is None


def test_a_child_killed_by_something_else_is_not_a_stop() -> None:
    with pytest.raises(ChildEnded) as ended:
        Child(EN, die).run()
    assert not ended.value.stopped and ended.value.exit_code == -signal.SIGKILL


SERVER = """
import sys
from pathlib import Path
from batch_scheduler.web.child import Child, Setup
from tests.web.test_child import wait_for_stop
if __name__ == "__main__":
    Child(Setup(language="en"), wait_for_stop, marker=Path(sys.argv[1])).run()
"""


def test_a_child_exits_at_once_when_its_server_is_killed(tmp_path: Path) -> None:
    """kill -9 of the server: its child must not go on sending (nor hold the ledger)."""
    script, marker = tmp_path / "server.py", tmp_path / "pid"
    script.write_text(SERVER)
    root = Path(__file__).resolve().parents[2]
    server = subprocess.Popen([sys.executable, str(script), str(marker)], cwd=root,
                              env=dict(os.environ, PYTHONPATH=str(root)))  # fmt: skip
    try:
        _wait(lambda: marker.exists() and marker.read_text() != "", "the child did not start")
        child_pid = int(marker.read_text())
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        _wait(lambda: not _alive(child_pid), "the child outlived its server")
    finally:
        server.kill()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def _wait(condition: Callable[[], bool], message: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.02)


def _after(condition: Callable[[], bool], action: Callable[[], Any]) -> threading.Thread:
    def run() -> None:
        _wait(condition, "never came")
        action()

    thread = threading.Thread(target=run)
    thread.start()
    return thread
