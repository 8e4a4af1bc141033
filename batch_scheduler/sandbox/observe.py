"""Watches every request for the request log and the stats (in flight, per second, statuses)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from batch_scheduler.sandbox.drop import FINISH_KEY
from batch_scheduler.sandbox.store import SandboxState

HELPERS = "/_sandbox"
TOKEN_PATH = "/oauth2/token"


class ObserveMiddleware:
    """Pure ASGI middleware, so it sees drops (no answer at all) as well as answers.

    A request is logged just before its last byte is sent (or its connection is dropped), so
    a client that has its answer always finds the request in the log and stats.
    /_sandbox calls are neither logged nor counted; token calls are logged and counted apart.
    """

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(HELPERS):
            await self.app(scope, receive, send)
            return
        finish, note_status = self._tracker(scope, path)
        scope.setdefault("state", {})[FINISH_KEY] = finish

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                note_status(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                finish()
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            finish()

    def _tracker(
        self, scope: Scope, path: str
    ) -> tuple[Callable[..., None], Callable[[int], None]]:
        """A `finish(dropped=False)` that logs the request once, and a status recorder."""
        token_call = path == TOKEN_PATH
        counted = not token_call
        at = self.state.arrive(counted, token_call)
        seen: dict[str, Any] = {"status": None, "done": False}

        def note_status(status: int) -> None:
            seen["status"] = status

        def finish(dropped: bool = False) -> None:
            if seen["done"]:
                return
            seen["done"] = True
            entry = {
                "method": scope["method"],
                "path": path,
                "query": scope.get("query_string", b"").decode("latin-1"),
                "status": None if dropped else seen["status"],
                "at": round(at, 6),
                "dropped": dropped,
            }
            self.state.depart(counted, entry)

        return finish, note_status
