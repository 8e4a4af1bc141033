"""History of jobs, the audit log, and the blank templates."""

from __future__ import annotations

import tempfile
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from batch_scheduler.web import pipeline_bridge as bridge
from batch_scheduler.web.render import page
from batch_scheduler.web.routes_upload import KINDS
from batch_scheduler.web.storage import XLSX

AUDIT_PER_PAGE = 100


async def history(request: Request) -> Response:
    context = request.app.state.context
    days = context.web.history_days
    jobs = context.jobs.recent(days)
    return page(request, "history.html", {"jobs": jobs, "days": days, "kinds": KINDS})


async def audit(request: Request) -> Response:
    context = request.app.state.context
    page_number = max(1, int(request.query_params.get("page", "1") or 1))
    entries = context.audit.recent(AUDIT_PER_PAGE, (page_number - 1) * AUDIT_PER_PAGE)
    return page(
        request,
        "audit.html",
        {
            "entries": entries,
            "page_number": page_number,
            "total": context.audit.count(),
            "per_page": AUDIT_PER_PAGE,
        },
    )


async def template(request: Request) -> Response:
    kind = request.path_params["kind"]
    if kind not in KINDS:
        raise HTTPException(404)
    settings = request.app.state.context.settings

    def make() -> bytes:
        with tempfile.TemporaryDirectory() as folder:
            return bridge.template_bytes(kind, settings, Path(folder))

    data = await run_in_threadpool(make)
    headers = {"content-disposition": f'attachment; filename="{kind}-template.xlsx"'}
    return Response(data, media_type=XLSX, headers=headers)


routes = [
    Route("/jobs", history, methods=["GET"]),
    Route("/audit", audit, methods=["GET"]),
    Route("/templates/{kind}.xlsx", template, methods=["GET"]),
]
