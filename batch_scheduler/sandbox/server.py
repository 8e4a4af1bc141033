"""Serving the sandbox with uvicorn: in a background thread for tests, or in the foreground."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import threading
import time
from collections.abc import Coroutine
from types import TracebackType
from typing import Any

import uvicorn

from batch_scheduler.sandbox.app import create_app
from batch_scheduler.sandbox.config import SandboxConfig
from batch_scheduler.sandbox.drop import DroppingProtocol
from batch_scheduler.sandbox.store import SandboxState

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
GRACEFUL_TIMEOUT = 1.0  # requests still running this long after stop() are cancelled
# The sandbox usually shares the process (and the GIL) with the client under test. With the
# default 5 ms switch interval a busy client thread starves the server thread, and each answer
# can take 5-30 ms; 1 ms keeps loopback round trips near a millisecond. Restored on last stop.
SWITCH_INTERVAL = 0.001


class _SwitchInterval:
    """Lowers sys.setswitchinterval while any in-process sandbox runs."""

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


class _Server(uvicorn.Server):
    """uvicorn's server, woken at once by `request_exit` instead of polling every 0.1 s."""

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
        """uvicorn's graceful shutdown, polling every 5 ms instead of sleeping 0.1 s first."""
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
        await self.lifespan.shutdown()

    async def pause(self) -> None:
        """Stop listening (new connections are refused) and cut every open connection."""
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        for server in self.servers:
            await server.wait_closed()

    async def resume(self, sock: socket.socket) -> None:
        """Listen again on `sock`, with the same app and state."""
        config = self.config

        def protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state
            )

        loop = asyncio.get_running_loop()
        self.servers = [await loop.create_server(protocol, sock=sock, backlog=config.backlog)]

    def call(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` on the server's loop from another thread and wait for it."""
        if self._loop is None:
            work.close()
            raise RuntimeError("the sandbox is not running")
        asyncio.run_coroutine_threadsafe(work, self._loop).result(STOP_TIMEOUT)

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


def build_server(
    config: SandboxConfig, host: str, port: int
) -> tuple[_Server, socket.socket, SandboxState, str]:
    """A ready-to-run uvicorn server on a bound socket, its state and its base URL."""
    state = SandboxState(config)
    sock = _bind(host, port)
    uconfig = uvicorn.Config(
        create_app(config, state),
        http=DroppingProtocol,
        loop="auto",  # uvloop when installed: less CPU per request than asyncio's loop
        proxy_headers=False,  # on loopback there is no proxy to believe
        lifespan="off",
        log_config=None,
        log_level="warning",
        access_log=False,
    )
    bound_port = sock.getsockname()[1]
    return _Server(uconfig, state), sock, state, f"http://{_url_host(host)}:{bound_port}"


class RunningSandbox:
    """A sandbox serving in a background thread. Use as a context manager, or call stop()."""

    def __init__(self, config: SandboxConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server, self._sock, self.state, self.base_url = build_server(config, host, port)
        self.token_url = self.base_url + "/oauth2/token"
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name=f"sandbox {self.base_url}",
            daemon=True,
        )
        self._holds_interval = False
        self._address = (host, int(self._sock.getsockname()[1]))
        self._paused = False

    def _start(self) -> None:
        _switch_interval.acquire()
        self._holds_interval = True
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
        self._server.request_exit()
        if self._thread.is_alive():
            self._thread.join(STOP_TIMEOUT)
        self._sock.close()
        if self._holds_interval:
            self._holds_interval = False
            _switch_interval.release()

    def stop_listening(self) -> None:
        """The server goes away: connections are cut and new ones refused, until resume().

        The store, tokens and counters are kept, as for a server restarting behind a load
        balancer; requests already being worked on finish, but their answers are lost."""
        if self._paused:
            return
        self._server.call(self._server.pause())
        self._sock.close()
        self._paused = True

    def resume(self) -> None:
        """Listen again on the same port, with the same store (after stop_listening())."""
        if not self._paused:
            return
        host, port = self._address
        self._sock = _bind(host, port)
        self._server.call(self._server.resume(self._sock))
        self._paused = False

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
    """Start a sandbox in a background thread; returns once it accepts connections."""
    sandbox = RunningSandbox(config or SandboxConfig(), host, port)
    sandbox._start()
    return sandbox
