"""Upload a sheet (book, cancel or allocate), pick its sheet, see every problem in it."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from batch_scheduler.i18n import _, lazy_gettext
from batch_scheduler.web.jobs import Job, JobState
from batch_scheduler.web.render import page
from batch_scheduler.web.security import checked_form, current_session
from batch_scheduler.web.views import job_or_404, load_json

KINDS = {
    "book": lazy_gettext("Book appointments"),
    "cancel": lazy_gettext("Cancel appointments"),
    "allocate": lazy_gettext("Allocate claimants to free slots, then book them"),
}
CHECK_WAIT = 25.0  # seconds an upload waits for its check before showing "checking"
ISSUES_PER_PAGE = 200
_ZIP_MAGIC = b"PK\x03\x04"
_CHUNK = 1 << 20


def upload_page(
    request: Request,
    errors: list[dict[str, str]] | None = None,
    status: int = 200,
    kind: str = "book",
) -> Response:
    return page(
        request, "upload.html", {"kinds": KINDS, "errors": errors or [], "kind": kind}, status
    )


async def home(request: Request) -> Response:
    return upload_page(request)


def _clean_name(name: str | None) -> str:
    """The file's own name, for people to recognise: no folders, no control characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip()
    return base[:200] or "upload"


async def _read_upload(upload: UploadFile, limit: int) -> bytes | None:
    """The file's bytes, or None when it is larger than `limit`."""
    parts, size = [], 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)


async def _store_and_check(request: Request, kind: str, previous_id: int | None) -> Response:
    context = request.app.state.context
    session = current_session(request)
    limit = min(context.web.max_upload_mb << 20, context.settings.intake.max_file_bytes)
    if int(request.headers.get("content-length") or 0) > limit + (1 << 16):
        return _too_big(request, kind, limit)
    form = await checked_form(request)
    kind = str(form.get("kind") or kind)
    upload = form.get("file")
    if kind not in KINDS:
        return upload_page(
            request, [{"href": "#kind", "text": _("Choose what the sheet is for")}], 400
        )
    if not isinstance(upload, UploadFile) or not upload.filename:
        return upload_page(
            request,
            [{"href": "#file", "text": _("Choose a CSV or Excel file to upload")}],
            400,
            kind,
        )
    data = await _read_upload(upload, limit)
    await form.close()
    if data is None:
        return _too_big(request, kind, limit)
    name = _clean_name(upload.filename)
    stored = "input.xlsx" if data[:4] == _ZIP_MAGIC else "input.csv"
    job_id = context.jobs.create(
        kind=kind,
        file_name=name,
        input_name=stored,
        uploaded_by=session.user_name,
        previous_id=previous_id,
    )
    context.files.save(job_id, stored, data)
    context.audit.record(
        "upload", user=session.user_name, job_id=job_id, kind=kind, size_bytes=len(data)
    )
    job = await _check_now(request, job_id)
    if job.state is JobState.REFUSED:
        context.files.delete(job_id)
        context.jobs.files_deleted(job_id)
        text = _(job.message) if job.message else ""  # stored in English: see worker.py
        return upload_page(request, [{"href": "#file", "text": text}], 400, kind)
    return RedirectResponse(f"/jobs/{job_id}/check", status_code=303)


async def _check_now(request: Request, job_id: int) -> Job:
    """Check on the check pool; wait for it a while (small files go straight to the page)."""
    context = request.app.state.context
    future = request.app.state.worker.check(job_id)
    await asyncio.wait([asyncio.wrap_future(future)], timeout=CHECK_WAIT)
    job = context.jobs.get(job_id)
    assert job is not None
    return job


def _too_big(request: Request, kind: str, limit: int) -> Response:
    text = _(
        "The file is larger than %(mb)d MB, the most this page takes. Split it into "
        "smaller files and upload them one by one."
    ) % {"mb": limit >> 20}
    return upload_page(request, [{"href": "#file", "text": text}], 413, kind)


async def upload(request: Request) -> Response:
    return await _store_and_check(request, "book", None)


async def reupload(request: Request) -> Response:
    job = job_or_404(request)
    return await _store_and_check(request, job.kind, job.id)


async def choose_sheet(request: Request) -> Response:
    context = request.app.state.context
    job = job_or_404(request)
    form = await checked_form(request)
    sheet = str(form.get("sheet") or "")
    if job.state is JobState.CHECKED and sheet in job.check.get("sheets", []):
        context.jobs.checking(job.id, sheet)
        context.audit.record("check-sheet", user=current_session(request).user_name, job_id=job.id)
        await _check_now(request, job.id)
    return RedirectResponse(f"/jobs/{job.id}/check", status_code=303)


def _issue_key(issue: dict[str, Any]) -> tuple[Any, ...]:
    """What a problem is, wherever its row went: rows move when a sheet is fixed (the rows
    to fix come back on rows 2, 3, ...), the column, code and offending value do not."""
    return (issue.get("sheet"), issue["code"], issue["header"], issue["value"])


def compare(previous: list[dict[str, Any]], current: list[dict[str, Any]]) -> dict[str, int]:
    """Problems fixed since the previous upload, and new ones."""
    before = Counter(_issue_key(i) for i in previous)
    after = Counter(_issue_key(i) for i in current)
    return {"fixed": sum((before - after).values()), "new": sum((after - before).values())}


async def check(request: Request) -> Response:
    context = request.app.state.context
    job = job_or_404(request)
    if job.state is JobState.CHECKING:
        response = page(request, "checking.html", {"job": job})
        response.headers["x-job-state"] = job.state.value
        return response
    issues = load_json(context.files.path(job.id, "issues.json")) or []
    code = request.query_params.get("code")
    shown = [i for i in issues if not code or i["code"] == code]
    page_number = max(1, int(request.query_params.get("page", "1") or 1))
    first = (page_number - 1) * ISSUES_PER_PAGE
    comparison = None
    if job.previous_id is not None:
        previous = load_json(context.files.path(job.previous_id, "issues.json"))
        if previous is not None:
            comparison = compare(previous, issues)
    return page(
        request,
        "check.html",
        {
            "job": job,
            "counts": job.check,
            "issues": shown[first : first + ISSUES_PER_PAGE],
            "shown_total": len(shown),
            "page_number": page_number,
            "per_page": ISSUES_PER_PAGE,
            "code": code,
            "comparison": comparison,
            "kinds": KINDS,
            "downloads": context.files.available(job.id),
        },
    )


routes = [
    Route("/", home, methods=["GET"]),
    Route("/upload", upload, methods=["POST"]),
    Route("/jobs/{job_id:int}/reupload", reupload, methods=["POST"]),
    Route("/jobs/{job_id:int}/sheet", choose_sheet, methods=["POST"]),
    Route("/jobs/{job_id:int}/check", check, methods=["GET"]),
]

__all__ = ["KINDS", "compare", "routes"]
