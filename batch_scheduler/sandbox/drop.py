"""Closing a connection without an answer, with nothing but ASGI.

`DropConnection` starts a 502 answer, then raises `ConnectionDropped` before any byte of the
body. The ASGI server must then close the connection (uvicorn does), so the client has a
status line and headers but never a whole answer: a lost answer to every client (aiohttp's
ClientPayloadError, httpx's RemoteProtocolError). The status is 502 so that a client reading
the headers alone also sees an unknown outcome. Raising before the start would not do:
uvicorn would answer 500, and a 500 is an answer.

uvicorn logs an exception raised after the start as an error, with its traceback; a drop
is on purpose, so `quiet_drops` filters exactly those records out of uvicorn's error log.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from batch_scheduler.errors import ConnectionDropped

FINISH_KEY = "sandbox.finish"  # set by ObserveMiddleware: logs the request as dropped
UVICORN_ERRORS = "uvicorn.error"  # the logger uvicorn reports application exceptions to


class DropConnection(Response):
    """A 'response' that starts a 502, then drops the connection (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(status_code=502)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: dict[str, Any] = scope.setdefault("state", {})
        finish = state.get(FINISH_KEY)
        if finish is not None:
            finish(dropped=True)
        await send({"type": "http.response.start", "status": 502, "headers": []})
        raise ConnectionDropped


class _QuietDrops(logging.Filter):
    """Leaves out the records of on-purpose drops; every other error is still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


_QUIET = _QuietDrops()


def quiet_drops() -> None:
    """Keep uvicorn from logging the sandbox's drops as errors (idempotent)."""
    logger = logging.getLogger(UVICORN_ERRORS)
    if _QUIET not in logger.filters:
        logger.addFilter(_QUIET)
