"""Pause Python's cycle collector while a stage makes a great many objects at once.

Reading and validating 100,000 rows makes millions of objects, hundreds of thousands of them
containers (rows, tuples, dicts, requests). Every 700 new containers set off a collection,
and the periodic full ones walk every live container and touch every cell it holds: 0.3-0.5 s
of a 100,000-row intake spent finding nothing, since these objects form no reference cycles.
The collector resumes as it was afterwards; any cycle made meanwhile is collected then.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


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
