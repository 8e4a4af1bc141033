"""Progress while sending: a tqdm bar on a terminal, periodic one-line log records otherwise."""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

from tqdm import tqdm

from batch_scheduler.i18n import _
from batch_scheduler.models import RowResult

log = logging.getLogger(__name__)


class CliProgress:
    """Implements pipeline.Progress. Counts rows done and failed; never shows row contents."""

    def __init__(
        self, *, stream: TextIO | None = None, interval: float = 5.0, bar: bool | None = None
    ) -> None:
        self._stream = stream or sys.stderr
        self._bar_wanted = self._stream.isatty() if bar is None else bar
        self._interval = interval
        self._bar: tqdm | None = None
        self.total = self.done = self.failed = 0
        self._started = self._last_log = 0.0

    def start(self, total: int, description: str) -> None:
        self.total, self.done, self.failed = total, 0, 0
        self._started = self._last_log = time.monotonic()
        if self._bar_wanted:
            words = {"booking": _("booking"), "cancelling": _("cancelling")}
            self._bar = tqdm(
                total=total, desc=words.get(description, description), unit=_("row"),
                file=self._stream,
            )  # fmt: skip

    def advance(self, result: RowResult) -> None:
        self.done += 1
        if not result.outcome.is_success:
            self.failed += 1
        if self._bar is not None:
            self._bar.update(1)
            if not result.outcome.is_success:
                self._bar.set_postfix_str(_("{failed} not ok").format(failed=self.failed),
                                          refresh=False)  # fmt: skip
            return
        now = time.monotonic()
        if now - self._last_log >= self._interval:
            self._last_log = now
            log.info("progress: %s", self.line(now))

    def line(self, now: float | None = None) -> str:
        elapsed = max((now or time.monotonic()) - self._started, 1e-9)
        rate = self.done / elapsed
        left = self.total - self.done
        eta = f"{left / rate:.0f} s" if rate > 0 else "unknown"
        return (
            f"{self.done}/{self.total} rows done, {self.failed} not ok, "
            f"{rate:.1f} rows/s, about {eta} left"
        )

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.total:
            log.info("progress: %s", self.line())
