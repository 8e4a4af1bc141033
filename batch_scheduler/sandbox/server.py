"""Serving the sandbox with uvicorn: in a background thread for tests, or in the foreground.

uvicorn is used through its public API (Config, Server.run / serve, should_exit), with one
seam, `_QuickServer`, kept because uvicorn has no public way to stop promptly (see there).
A dropped connection needs no seam: it is plain ASGI (drop.py).

The process-wide switch: while any in-process sandbox runs (`start_sandbox`), the thread
switch interval is lowered to 1 ms, and restored when the last one stops. The sandbox then
shares the process (and the GIL) with the client under test; at the default 5 ms a busy
client thread starves the server thread, and each answer takes 5-30 ms instead of about 1.
The foreground server (`batch-scheduler sandbox`) has its own process and leaves it alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette

from batch_scheduler.sandbox.app import create_app
from batch_scheduler.sandbox.config import SandboxConfig
from batch_scheduler.sandbox.drop import quiet_drops
from batch_scheduler.sandbox.store import Closing, SandboxState

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
GRACEFUL_TIMEOUT = 1.0  # requests still running this long after stop() are cancelled
SWITCH_INTERVAL = 0.001  # seconds; see the module docstring


class _SwitchInterval:
    """Lowers sys.setswitchinterval while any in-process sandbox runs (a reference count)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved = sys.getswitchinterval()

    def acquire(self) -> None:
        with self._lock:
            if self._users == 0:
                self._saved = sys.getswitchinterval()
                sys.setswitchinterval(min(self._saved, SWITCH_INTERVAL))
            self._users += 1

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0:
                sys.setswitchinterval(self._saved)


_switch_interval = _SwitchInterval()


class _QuickServer(uvicorn.Server):
    """uvicorn's Server, stopping as soon as it is asked (`request_exit`).

    Why a subclass: uvicorn's main_loop looks at should_exit every 0.1 s, and its shutdown
    sleeps 0.1 s before it even looks at the connections, then polls every 0.1 s. The suite
    starts ~250 sandboxes, so that was ~50 s of waiting. These two overrides keep uvicorn's
    own steps (close the listeners, ask each connection to shut down, wait for them within
    GRACEFUL_TIMEOUT, cancel what is left), without the fixed sleeps.
    """

    def __init__(self, config: uvicorn.Config, state: SandboxState) -> None:
        super().__init__(config)
        self._state = state
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        self._state.closing.set()  # requests waiting out their latency end without answer
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GRACEFUL_TIMEOUT
        state = self.server_state
        while (state.connections or state.tasks) and loop.time() < deadline:
            await asyncio.sleep(0.005)
        for task in list(state.tasks):
            task.cancel()
        for server in self.servers:
            await server.wait_closed()

    def request_exit(self) -> None:
        """Ask the server to stop; safe from any thread."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(wake.set)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only then; without it every answer waits
    # ~40 ms for a delayed ACK (uvicorn writes headers and body separately).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _server(app: Starlette, state: SandboxState) -> _QuickServer:
    config = uvicorn.Config(
        app,
        http="httptools",  # a C parser: about half h11's CPU per request
        loop="auto",  # uvloop when installed: less CPU per request than asyncio's loop
        proxy_headers=False,  # on loopback there is no proxy to believe
        lifespan="off",
        log_config=None,
        log_level="warning",
        access_log=False,
    )
    return _QuickServer(config, state)


def build_server(
    config: SandboxConfig, host: str, port: int
) -> tuple[_QuickServer, socket.socket, SandboxState, str]:
    """A ready-to-run uvicorn server on a bound socket, its state and its base URL."""
    quiet_drops()
    state = SandboxState(config)
    sock = _bind(host, port)
    return _server(create_app(config, state), state), sock, state, _base_url(host, sock)


def _base_url(host: str, sock: socket.socket) -> str:
    return f"http://{_url_host(host)}:{sock.getsockname()[1]}"


class RunningSandbox:
    """A sandbox serving in a background thread. Use as a context manager, or call stop()."""

    def __init__(self, config: SandboxConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        quiet_drops()
        self.state = SandboxState(config)
        self._app = create_app(config, self.state)
        self._sock = _bind(host, port)
        self._address = (host, int(self._sock.getsockname()[1]))
        self.base_url = _base_url(host, self._sock)
        self.token_url = self.base_url + "/oauth2/token"
        self._server = _server(self._app, self.state)
        self._thread: threading.Thread | None = None
        self._holds_interval = False

    def start(self) -> None:
        """Serve in a background thread; returns once it accepts connections."""
        if not self._holds_interval:
            _switch_interval.acquire()  # the process-wide switch: see the module docstring
            self._holds_interval = True
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name=f"sandbox {self.base_url}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the sandbox did not start on {self.base_url}")
            time.sleep(0.002)

    @property
    def config(self) -> SandboxConfig:
        return self.state.config

    def stop(self) -> None:
        """Stop serving and wait for the thread; idempotent."""
        self._halt()
        if self._holds_interval:
            self._holds_interval = False
            _switch_interval.release()

    def _halt(self) -> None:
        self._server.request_exit()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(STOP_TIMEOUT)
        self._sock.close()

    def stop_listening(self) -> None:
        """The server goes away: connections are cut and new ones refused, until resume().

        The store, tokens and counters are kept, as for a server restarting behind a load
        balancer; requests waiting out their latency end without an answer."""
        if self._thread is None or not self._thread.is_alive():
            return
        self._halt()

    def resume(self) -> None:
        """Listen again on the same port, with the same store (after stop_listening())."""
        if self._thread is not None and self._thread.is_alive():
            return
        host, port = self._address
        self._sock = _bind(host, port)
        self.state.closing = Closing()
        self._server = _server(self._app, self.state)
        self.start()

    def reconfigure(self, **changes: Any) -> None:
        """Change knobs while serving, e.g. reconfigure(error_rate=0.5)."""
        self.state.reconfigure(changes)

    def reset(self) -> None:
        """Forget appointments, tokens, the request log and the stats."""
        self.state.reset()

    def appointments(self) -> list[dict[str, Any]]:
        """Every stored appointment as the API renders it, in creation order."""
        return self.state.all_rendered(self.base_url)

    def stats(self) -> dict[str, Any]:
        return self.state.stats()

    def requests(self) -> list[dict[str, Any]]:
        return self.state.requests()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RunningSandbox({self.base_url!r})"


def start_sandbox(
    config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> RunningSandbox:
    """Start a sandbox in a background thread; returns once it accepts connections.

    While it runs, the process's thread switch interval is 1 ms (see the module docstring).
    """
    sandbox = RunningSandbox(config or SandboxConfig(), host, port)
    sandbox.start()
    return sandbox
