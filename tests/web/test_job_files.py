"""A job's folder that cannot take an output: before sending the job stops with nothing sent
(the page picks the paths, so the words are not the CLI's "give another --out"); after
sending the results go to the state directory and the job's page says so. Real sandbox,
real files: a folder standing where the results workbook goes is what fails the write."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from openpyxl import load_workbook

from batch_scheduler.sandbox import RunningSandbox
from batch_scheduler.web import WebContext
from tests.web.helpers import (
    SAMPLE_BOOK,
    SAMPLE_BOOKED,
    SAMPLE_VALID,
    job_id_of,
    make_context,
    signed_in,
    text_of,
    wait_until_done,
)


def test_a_results_path_the_job_folder_cannot_take_stops_before_sending(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    context = make_context(tmp_path / "state", sandbox.base_url)
    with signed_in(context) as browser:
        job_id = job_id_of(browser.upload(SAMPLE_BOOK))
        in_the_way = context.files.path(job_id, "results.xlsx")
        in_the_way.mkdir()
        browser.post(f"/jobs/{job_id}/send")
        job = wait_until_done(context, job_id)
        page = text_of(browser.get(f"/jobs/{job_id}").text)
        assert job.state.value == "stopped" and sandbox.appointments() == []
        assert "The server cannot write this job's files" in page and "nothing was sent" in page
        assert "--out" not in page and str(in_the_way) not in page
        in_the_way.rmdir()
        browser.post(f"/jobs/{job_id}/send")  # Resume
        assert wait_until_done(context, job_id).outcomes == SAMPLE_BOOKED


def test_results_the_job_folder_cannot_take_after_sending_are_kept_and_said_where(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    context = make_context(tmp_path / "state", sandbox.base_url)
    slow = dataclasses.replace(context.settings.send, rate=15.0)  # a couple of seconds
    context.settings = dataclasses.replace(context.settings, send=slow)
    with signed_in(context) as browser:
        job_id = job_id_of(browser.upload(SAMPLE_BOOK))
        browser.post(f"/jobs/{job_id}/send")
        wait_for_rows_done(context, job_id)  # the outputs were checked: sending has begun
        context.files.path(job_id, "results.xlsx").mkdir()
        job = wait_until_done(context, job_id)
        page = browser.get(f"/jobs/{job_id}").text

    assert (job.state.value, job.outcomes) == ("finished", SAMPLE_BOOKED)
    kept = sorted((tmp_path / "state" / "unsaved").glob("*-results.xlsx"))
    assert len(kept) == 1
    message = text_of(page.split('id="finished-message"', 1)[1].split("</div>", 1)[0])
    assert "could not be saved with it" in message and "unsaved folder" in message
    assert str(kept[0]) not in message  # a server path: in the log, for whoever runs it
    assert "/files/results.xlsx" not in page  # not offered: it is not in the job's folder
    assert "/files/summary.json" in page and "/files/fix.xlsx" in page
    rows = list(load_workbook(kept[0])["Results"].iter_rows(values_only=True))
    outcome = rows[0].index("outcome")
    assert sum(row[outcome] == "created" for row in rows[1:]) == SAMPLE_VALID


def wait_for_rows_done(context: WebContext, job_id: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = context.jobs.get(job_id)
        assert job is not None and job.state.value != "finished", "finished before any row"
        if job.progress.get("done", 0) > 0:
            return
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} sent nothing in {timeout} s")
