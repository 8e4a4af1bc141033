"""Process-wide switches, flipped in one place: `pipeline.run`, around its stages.

The garbage collector and the signal handlers belong to the whole process, not to a stage:
a library function that flipped them would surprise whoever called it (the web server runs
jobs on a worker thread beside its own). So the stages never touch them; `pipeline.run`,
the run boundary that the CLI, the web worker, the demo and `allocate --book` all call,
wraps its stages in them, visibly and in order:

    with collector_paused():      read the sheet, validate it
    with heap_frozen():           triage, send
        with stop_on_signals():   (only when the caller asks: the CLI does, the web does not)

`collector_paused`: while reading and validating make a great many objects at once.
Reading and validating 100,000 rows makes millions of objects, hundreds of thousands of them
containers (rows, tuples, dicts, requests). Every 700 new containers set off a collection,
and the periodic full ones walk every live container and touch every cell it holds: 0.3-0.5 s
of a 100,000-row intake spent finding nothing, since these objects form no reference cycles.
The collector resumes as it was afterwards; any cycle made meanwhile is collected then.

`heap_frozen`: while sending. The rows read, validated and triaged live until the run ends;
frozen (gc.freeze), the collections that sending's own objects set off no longer walk them.

`stop_on_signals`: Ctrl-C and SIGTERM stop the send the gentle way (requests in flight are
waited for, the ledger stays consistent, partial results are written) instead of killing it.

Two more process-wide settings live elsewhere, each at its own boundary: logging and the
secrets its lines mask are set up where a process starts (the CLI's commands, `serve`), and
the sandbox lowers `sys.setswitchinterval` while it serves in-process (sandbox/).
"""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cycle collector for the block; restore its previous state after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def heap_frozen() -> Iterator[None]:
    """Move every object alive now out of the collector's sight for the block (gc.freeze);
    they are back in its oldest generation after."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def stop_on_signals(stop: asyncio.Event, *, enabled: bool = True) -> Iterator[None]:
    """While the block runs (inside the running event loop), SIGINT and SIGTERM set `stop`
    instead of ending the process; the default handlers are back after. `enabled` False:
    nothing changes (a caller that is not the process's main thread, such as the web's
    worker, must leave signals alone)."""
    if not enabled:
        yield
        return
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    try:
        yield
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
