"""Logging set-up: text or JSON lines, on stderr, with secrets masked as a last line of defence.

Modules log references, ids, codes and counts only: never names, dates of birth, phones,
emails or credentials. The mask is a safety net for secrets, not a licence to log them: every
value registered with `add_secret` (config.Secret registers itself, so the static token, the
client secret and each access token issued to us are all covered) is replaced by *** in the
finished log line, message, extra fields and traceback alike.
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

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def add_secret(value: str) -> None:
    """Mask `value` in every log line this process writes from now on."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _secrets_lock:
            _secrets.add(value)


def mask_secrets(text: str) -> str:
    """`text` with every registered secret replaced by ***."""
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)  # longest first: no partial leftovers
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


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

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self._inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(self._inner.format(record))


class PlainFormatter(logging.Formatter):
    """For people: the sentence alone, "Warning: " or "Error: " in front when it is one."""

    def format(self, record: logging.LogRecord) -> str:
        label = {logging.WARNING: "Warning: ", logging.ERROR: "Error: "}.get(record.levelno, "")
        return label + record.getMessage()


LOG_LINE = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(
    *, verbose: bool = False, quiet: bool = False, fmt: str = "text", secrets: Iterable[str] = ()
) -> None:
    """Configure the package's logger once per process (the CLI calls this).

    Default: for people, warnings and errors as plain sentences. --quiet: errors only.
    --verbose (debug detail) and --log-format json (info and up, debug with --verbose) are
    for logs: timestamps, levels, logger names. On stderr always: stdout is the report's.
    """
    for secret in secrets:
        add_secret(secret)
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
    handler.setFormatter(MaskingFormatter(inner))
    logger = logging.getLogger(ROOT)
    for old in list(logger.handlers):
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    # httpx logs every request URL at INFO; ours are enough, and its DEBUG shows headers.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
