"""Keep Python's cycle collector from walking a run's data again and again.

`collector_paused`: while a stage makes a great many objects at once.

Reading and validating 100,000 rows makes millions of objects, hundreds of thousands of them
containers (rows, tuples, dicts, requests). Every 700 new containers set off a collection,
and the periodic full ones walk every live container and touch every cell it holds: 0.3-0.5 s
of a 100,000-row intake spent finding nothing, since these objects form no reference cycles.
The collector resumes as it was afterwards; any cycle made meanwhile is collected then.

`heap_frozen`: while sending. The rows read, validated and planned live until the run ends;
frozen (gc.freeze), the collections that sending's own objects set off no longer walk them.
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


@contextmanager
def heap_frozen() -> Iterator[None]:
    """Move every object alive now out of the collector's sight for the block (gc.freeze);
    they are back in its oldest generation after."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
