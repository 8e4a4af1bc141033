"""Closing a connection without answering, which an ASGI app cannot normally do.

The sandbox's HTTP protocol puts each connection's transport into the ASGI scope's state under
TRANSPORT_KEY; `DropConnection` aborts it. An exception would not do: uvicorn turns it into a
500 answer, and a 500 is not a lost answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

TRANSPORT_KEY = "sandbox.transport"
FINISH_KEY = "sandbox.finish"  # set by ObserveMiddleware: logs the request as dropped


class DroppingProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol (a C parser: about half h11's CPU per request),
    exposing the connection's transport to the app."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.app_state = {**self.app_state, TRANSPORT_KEY: transport}


class DropConnection(Response):
    """A 'response' that sends nothing and aborts the connection.

    Served by anything but the sandbox's protocol (e.g. a TestClient), it falls back to a 502,
    which a client must also treat as an unknown outcome.
    """

    def __init__(self) -> None:
        super().__init__(status_code=502)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: dict[str, Any] = scope.setdefault("state", {})
        transport = state.get(TRANSPORT_KEY)
        if transport is None:
            await JSONResponse({"message": "Server Error"}, status_code=502)(scope, receive, send)
            return
        finish = state.get(FINISH_KEY)
        if finish is not None:
            finish(dropped=True)
        transport.abort()
        # Let uvicorn see the disconnect, so it neither logs nor answers for us.
        try:
            async with asyncio.timeout(1.0):
                while (await receive())["type"] != "http.disconnect":
                    pass
        except TimeoutError:
            pass
