"""Confirm, send, watch, results, downloads; resume, delete files, cancel a job's bookings."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from batch_scheduler.i18n import _
from batch_scheduler.web import pipeline_bridge as bridge
from batch_scheduler.web.jobs import Job, JobState
from batch_scheduler.web.render import page
from batch_scheduler.web.routes_upload import KINDS
from batch_scheduler.web.security import checked_form, current_session
from batch_scheduler.web.storage import DOWNLOADS
from batch_scheduler.web.views import job_or_404, load_json

FAILED_ROWS_SHOWN = 200


def _to_job(job: Job) -> Response:
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


async def confirm(request: Request) -> Response:
    """What pressing the button will do now: a dry run against the ledger."""
    context = request.app.state.context
    job = job_or_404(request)
    if job.state is not JobState.CHECKED or job.files_deleted:
        return (
            _to_job(job)
            if job.state is not JobState.CHECKING
            else RedirectResponse(f"/jobs/{job.id}/check", status_code=303)
        )
    path, sheet = bridge.send_input(
        job.kind, context.files.folder(job.id), job.input_name, job.sheet
    )
    try:
        preview = await run_in_threadpool(
            request.app.state.worker.call,
            bridge.preview,
            command=job.command,
            path=path,
            sheet=sheet,
            settings=context.settings,
            now=context.now(),
        )
    except bridge.BatchSchedulerError as exc:
        return page(request, "job.html", _job_context(request, job, problem=exc.message), 409)
    return page(request, "confirm.html", {"job": job, "preview": preview, "kinds": KINDS})


async def send(request: Request) -> Response:
    """Book (or cancel): queue the job once, however many times the button is pressed."""
    context = request.app.state.context
    job = job_or_404(request)
    await checked_form(request)
    user = current_session(request).user_name
    if context.booking_off:
        raise HTTPException(409, context.booking_off)
    if context.jobs.claim(job.id, user):
        action = (
            "resume"
            if job.state is JobState.STOPPED
            else ("book" if job.command == "book" else "cancel-appointments")
        )
        context.audit.record(action, user=user, job_id=job.id, rows=job.check.get("valid", 0))
        request.app.state.worker.send(job.id)
    return _to_job(job)


def _job_context(request: Request, job: Job, problem: str | None = None) -> dict[str, object]:
    context = request.app.state.context
    failed = load_json(context.files.path(job.id, "failed.json")) or []
    return {
        "job": job,
        "kinds": KINDS,
        "problem": problem,
        "progress": job.progress,
        "failed_rows": failed[:FAILED_ROWS_SHOWN],
        "failed_total": len(failed),
        "downloads": context.files.available(job.id),
        "parent": context.jobs.get(job.parent_id) if job.parent_id else None,
    }


async def job_page(request: Request) -> Response:
    job = job_or_404(request)
    if job.state in (JobState.CHECKING, JobState.CHECKED) and not job.files_deleted:
        return RedirectResponse(f"/jobs/{job.id}/check", status_code=303)
    return page(request, "job.html", _job_context(request, job))


async def progress_fragment(request: Request) -> Response:
    """The progress panel alone, polled by the page's script (no long-lived connection)."""
    job = job_or_404(request)
    response = page(request, "_progress.html", _job_context(request, job))
    response.headers["x-job-state"] = job.state.value
    return response


async def download(request: Request) -> Response:
    context = request.app.state.context
    job = job_or_404(request)
    name = request.path_params["name"]
    item = DOWNLOADS.get(name)
    path = context.files.path(job.id, name)
    if item is None or not path.is_file():
        raise HTTPException(404)
    context.audit.record(
        "download", user=current_session(request).user_name, job_id=job.id, file=name
    )
    stem = f"job-{job.id}-{name}"
    return FileResponse(path, media_type=item.media_type, filename=stem)


async def delete_files(request: Request) -> Response:
    context = request.app.state.context
    job = job_or_404(request)
    await checked_form(request)
    if job.sending:
        raise HTTPException(409, _("The job is sending: its files are in use."))
    context.files.delete(job.id)
    context.jobs.files_deleted(job.id)
    context.audit.record("delete-files", user=current_session(request).user_name, job_id=job.id)
    return _to_job(job)


async def cancel_form(request: Request) -> Response:
    job = job_or_404(request)
    return page(request, "cancel_job.html", {"job": job})


async def cancel_appointments(request: Request) -> Response:
    """A new cancel job whose input is this job's results workbook; it is checked, then
    confirmed on its own page like any other upload."""
    context = request.app.state.context
    job = job_or_404(request)
    await checked_form(request)
    results = context.files.path(job.id, "results.xlsx")
    if job.command != "book" or not results.is_file():
        raise HTTPException(409, _("This job has no results workbook to cancel from."))
    user = current_session(request).user_name
    new_id = context.jobs.create(
        kind="cancel",
        file_name=_("results of job %(id)d") % {"id": job.id},
        input_name="input.xlsx",
        uploaded_by=user,
        parent_id=job.id,
    )
    context.files.copy_in(new_id, "input.xlsx", results)
    context.audit.record("upload", user=user, job_id=new_id, kind="cancel", parent=job.id)
    future = request.app.state.worker.check(new_id)
    await run_in_threadpool(future.result)
    return RedirectResponse(f"/jobs/{new_id}/check", status_code=303)


routes = [
    Route("/jobs/{job_id:int}", job_page, methods=["GET"]),
    Route("/jobs/{job_id:int}/confirm", confirm, methods=["GET"]),
    Route("/jobs/{job_id:int}/send", send, methods=["POST"]),
    Route("/jobs/{job_id:int}/progress", progress_fragment, methods=["GET"]),
    Route("/jobs/{job_id:int}/files/{name}", download, methods=["GET"]),
    Route("/jobs/{job_id:int}/delete-files", delete_files, methods=["POST"]),
    Route("/jobs/{job_id:int}/cancel", cancel_form, methods=["GET"]),
    Route("/jobs/{job_id:int}/cancel", cancel_appointments, methods=["POST"]),
]
