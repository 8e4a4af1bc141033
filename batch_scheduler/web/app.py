"""The Starlette app: routes, the sign-in middleware, the worker's life with the server's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from batch_scheduler.web import routes_auth, routes_history, routes_jobs, routes_upload
from batch_scheduler.web.context import WebContext
from batch_scheduler.web.render import page
from batch_scheduler.web.security import SignInRequired
from batch_scheduler.web.worker import Worker

STATIC = Path(__file__).parent / "static"


async def _favicon(request: Request) -> Response:
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")


async def _error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else ""
    return page(request, "error.html", {"status": status, "detail": detail}, status)


def create_app(context: WebContext, *, start_worker: bool = True) -> Starlette:
    """The page over `context`. The worker starts and stops with the server (lifespan)."""
    worker = Worker(context)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if start_worker:
            worker.start()
        try:
            yield
        finally:
            worker.stop()

    routes = [
        *routes_auth.routes,
        *routes_upload.routes,
        *routes_jobs.routes,
        *routes_history.routes,
        Route("/favicon.ico", _favicon, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SignInRequired)],
        exception_handlers={HTTPException: _error, 500: _error},
        lifespan=lifespan,
    )
    app.state.context = context
    app.state.worker = worker
    return app
