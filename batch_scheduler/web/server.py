"""Serving the page with uvicorn: in the foreground (`serve`), or in a background thread
(tests, `demo --web`), like the sandbox."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

import uvicorn

from batch_scheduler.config import is_loopback_url
from batch_scheduler.web.app import create_app
from batch_scheduler.web.context import WebContext
from batch_scheduler.web.pipeline_bridge import load_library_settings, web_section
from batch_scheduler.web.settings import WebSettings, sso_settings, web_settings
from batch_scheduler.web.sso import SingleSignOn

START_TIMEOUT = 15.0


def is_loopback_host(host: str) -> bool:
    return is_loopback_url(f"http://{host if ':' not in host else f'[{host}]'}/")


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    config_path: Path | None = None


def build_context(
    options: ServeOptions,
    *,
    env: dict[str, str] | None = None,
    now: Callable[[], datetime] | None = None,
) -> WebContext:
    """Settings from the config file and environment; Secure cookies unless on loopback."""
    env = dict(os.environ) if env is None else env
    settings, booking_off = load_library_settings(options.config_path, env)
    web: WebSettings = web_settings(web_section(options.config_path))
    secure = web.secure_cookies
    if secure is None:
        secure = not is_loopback_host(options.host)
    context = WebContext(settings=settings, web=web, booking_off=booking_off, secure_cookies=secure)
    sso = sso_settings(web, env)
    if sso is not None:
        context.sso = SingleSignOn(sso)
    if now is not None:
        context.now = now
    return context


def uvicorn_config(context: WebContext, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(context),
        host=host,
        port=port,
        lifespan="on",
        log_config=None,
        access_log=False,  # paths hold job numbers only, but keep the log for actions
        proxy_headers=False,
        server_header=False,
    )


class RunningWeb:
    """The page served from a background thread. Use as a context manager, or call stop()."""

    def __init__(self, context: WebContext, host: str = "127.0.0.1", port: int = 0) -> None:
        self.context = context
        config = uvicorn_config(context, host, port)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="web", daemon=True)

    def start(self) -> RunningWeb:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web page did not start")
            time.sleep(0.01)
        return self

    @property
    def url(self) -> str:
        server = self._server.servers[0]
        host, port = server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    def __enter__(self) -> RunningWeb:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
