"""Logging set-up: text or JSON lines, on stderr, with secrets masked as a last line of defence.

Modules log references, ids, codes and counts only: never names, dates of birth, phones,
emails or credentials. The mask is a safety net for secrets, not a licence to log them: every
value in `SECRETS` is replaced by *** in the finished log line, message, extra fields and
traceback alike.

`SECRETS` is filled explicitly, never as a side effect of making a `config.Secret`: where a
process starts (the CLI's commands, `serve`), the boundary gives `setup_logging` the
configured token and client secret (`Settings.secrets()`); api/auth.py adds each access
token the API issues to us, as it arrives.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime

ROOT = "batch_scheduler"
MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words and numbers
_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class SecretMask:
    """The secret values this process's log lines never show (thread-safe)."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *values: str) -> None:
        """Mask these values in every log line written from now on."""
        with self._lock:
            self._values.update(v for v in values if v and len(v) >= MIN_SECRET_LENGTH)

    def mask(self, text: str) -> str:
        """`text` with every secret replaced by ***."""
        with self._lock:
            known = sorted(self._values, key=len, reverse=True)  # longest first: no leftovers
        for secret in known:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


SECRETS = SecretMask()  # the process's one mask: its log handler reads it


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["error_type"] = record.exc_info[0].__name__
        return json.dumps(entry, default=str, ensure_ascii=False)


class MaskingFormatter(logging.Formatter):
    """Wrap a formatter and mask secrets in its finished text (extras and tracebacks included)."""

    def __init__(self, inner: logging.Formatter, mask: SecretMask) -> None:
        super().__init__()
        self._inner = inner
        self._mask = mask

    def format(self, record: logging.LogRecord) -> str:
        return self._mask.mask(self._inner.format(record))


class PlainFormatter(logging.Formatter):
    """For people: the sentence alone, "Warning: " or "Error: " in front when it is one."""

    def format(self, record: logging.LogRecord) -> str:
        label = {logging.WARNING: "Warning: ", logging.ERROR: "Error: "}.get(record.levelno, "")
        return label + record.getMessage()


LOG_LINE = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(
    *, verbose: bool = False, quiet: bool = False, fmt: str = "text", secrets: Iterable[str] = ()
) -> None:
    """Configure the package's logger once per process (the CLI and `serve` call this), its
    lines masking `secrets` and whatever else SECRETS is given later.

    Default: for people, warnings and errors as plain sentences. --quiet: errors only.
    --verbose (debug detail) and --log-format json (info and up, debug with --verbose) are
    for logs: timestamps, levels, logger names. On stderr always: stdout is the report's.
    """
    SECRETS.add(*secrets)
    for_logs = verbose or fmt == "json"
    if quiet:
        level = logging.ERROR
    else:
        level = logging.DEBUG if verbose else logging.INFO if for_logs else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    inner: logging.Formatter = PlainFormatter()
    if fmt == "json":
        inner = JsonFormatter()
    elif verbose:
        inner = logging.Formatter(LOG_LINE)
    handler.setFormatter(MaskingFormatter(inner, SECRETS))
    logger = logging.getLogger(ROOT)
    for old in list(logger.handlers):
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    # httpx logs every request URL at INFO; ours are enough, and its DEBUG shows headers.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
