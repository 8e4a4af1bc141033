"""The page's flow over a real sandbox (TestClient): the check is exactly `validate`'s, the
ledger (not the page) keeps everything exactly once, jobs stop and resume cleanly."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

from openpyxl import load_workbook

from batch_scheduler.ledger import Ledger
from batch_scheduler.pipeline import RunRequest, run
from batch_scheduler.sandbox import RunningSandbox, SandboxConfig
from batch_scheduler.web.worker import interrupted_message
from tests.samples_table import sample_settings
from tests.web.helpers import (
    SAMPLE_BOOK,
    SAMPLE_BOOKED,
    SAMPLE_CODES,
    SAMPLE_INVALID,
    SAMPLE_NOW,
    SAMPLE_VALID,
    Browser,
    job_id_of,
    make_context,
    signed_in,
    text_of,
    wait_until_done,
)

SAMPLE_ALLOCATE = SAMPLE_BOOK.with_name("allocate_sample.xlsx")


def one_per_reference(sandbox: RunningSandbox) -> Counter[str]:
    counts = Counter(str(a["reference"]) for a in sandbox.appointments())
    assert set(counts.values()) <= {1}, counts
    return counts


def test_the_check_shows_exactly_what_validate_finds(tmp_path: Path) -> None:
    context = make_context(tmp_path / "state", None)
    # `validate` as the samples' README runs it: with their config, on the day they were made
    expected = run(RunRequest("validate", SAMPLE_BOOK), sample_settings(), now=SAMPLE_NOW)
    with signed_in(context) as browser:
        response = browser.upload(SAMPLE_BOOK)
        job = context.jobs.get(job_id_of(response))
        page = text_of(response.text)
    assert job.check["codes"] == SAMPLE_CODES == expected.issue_codes
    assert f"{SAMPLE_INVALID} rows cannot be sent; 1 warning" in page
    for issue in expected.issues:
        assert issue.message.split("“")[0][:40] in response.text.replace("&#39;", "'")
    assert (job.check["valid"], job.check["invalid"]) == (SAMPLE_VALID, SAMPLE_INVALID)
    assert expected.outcomes == {"valid": SAMPLE_VALID, "invalid": SAMPLE_INVALID}


def test_upload_again_says_what_was_fixed_and_what_is_new(tmp_path: Path) -> None:
    fixed = tmp_path / "book-fixed.xlsx"
    book = load_workbook(SAMPLE_BOOK)
    sheet = book.active
    sheet["G18"] = "ffion.hughes@example.org"  # fixed
    sheet["F20"] = "not a phone"  # new
    book.save(fixed)
    context = make_context(tmp_path / "state", None)
    with signed_in(context) as browser:
        first = job_id_of(browser.upload(SAMPLE_BOOK))
        again = browser.upload(fixed, url=f"/jobs/{first}/reupload")
        assert context.jobs.get(job_id_of(again)).previous_id == first
        assert f"Since the previous upload (job {first}): 1 problem fixed, 1 new." in text_of(
            again.text
        )


def test_double_clicks_and_two_people_pressing_book_queue_once(
    tmp_path: Path, sandbox_factory: object
) -> None:
    sandbox = sandbox_factory(SandboxConfig(latency=0.01))  # type: ignore[operator]
    context = make_context(tmp_path / "state", sandbox.base_url)
    context.accounts.add("bob", "correct horse battery staple")
    with signed_in(context) as alice:
        job_id = job_id_of(alice.upload(SAMPLE_BOOK))
        bob = Browser(alice.client.__class__(alice.client.app, base_url="http://127.0.0.1"))
        bob.sign_in("bob")
        presses = [threading.Thread(target=who.post, args=(f"/jobs/{job_id}/send",))
                   for who in (alice, bob, alice, bob)]  # fmt: skip
        for press in presses:
            press.start()
        for press in presses:
            press.join()
        job = wait_until_done(context, job_id)
    assert job.outcomes == SAMPLE_BOOKED
    assert len(one_per_reference(sandbox)) == SAMPLE_VALID
    assert [e.action for e in context.audit.recent()].count("book") == 1


def test_the_same_sheet_in_two_jobs_books_nothing_twice(
    tmp_path: Path, sandbox_factory: object
) -> None:
    sandbox = sandbox_factory(SandboxConfig(seed=3, error_rate=0.2, drop_rate=0.1,  # type: ignore[operator]
                                            duplicate_references="allow"))  # fmt: skip
    context = make_context(tmp_path / "state", sandbox.base_url)
    with signed_in(context) as browser:
        first = job_id_of(browser.upload(SAMPLE_BOOK))
        second = job_id_of(browser.upload(SAMPLE_BOOK))
        browser.post(f"/jobs/{first}/send")
        browser.post(f"/jobs/{second}/send")
        wait_until_done(context, first), wait_until_done(context, second)
        assert context.jobs.get(first).outcomes == SAMPLE_BOOKED
        assert context.jobs.get(second).outcomes == {
            "already_exists": SAMPLE_VALID,
            "invalid": SAMPLE_INVALID,
        }
    assert len(one_per_reference(sandbox)) == SAMPLE_VALID


def test_a_locked_state_directory_stops_the_job_until_resume(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    context = make_context(tmp_path / "state", sandbox.base_url)
    with signed_in(context) as browser:
        job_id = job_id_of(browser.upload(SAMPLE_BOOK))
        with Ledger.open(tmp_path / "state", base_url=sandbox.base_url):  # a CLI run, say
            browser.post(f"/jobs/{job_id}/send")
            job = wait_until_done(context, job_id)
            assert job.state.value == "stopped"
            page = text_of(browser.get(f"/jobs/{job_id}").text)
            assert "Another run is using the state directory" in page and "Resume" in page
        assert sandbox.appointments() == []
        browser.post(f"/jobs/{job_id}/send")  # Resume
        assert wait_until_done(context, job_id).outcomes == SAMPLE_BOOKED
    assert len(one_per_reference(sandbox)) == SAMPLE_VALID


def test_a_job_running_when_the_server_stopped_is_marked_and_resumes(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    context = make_context(tmp_path / "state", sandbox.base_url)
    with signed_in(context) as browser:
        job_id = job_id_of(browser.upload(SAMPLE_BOOK))
    assert context.jobs.claim(job_id, "alice")
    context.jobs.running(job_id)  # the server died here
    with signed_in(context) as browser:  # a new server process, same state directory
        job = context.jobs.get(job_id)
        assert (job.state.value, job.message) == ("stopped", interrupted_message())
        browser.post(f"/jobs/{job_id}/send")
        assert wait_until_done(context, job_id).state.value == "finished"
    assert len(one_per_reference(sandbox)) == SAMPLE_VALID


def test_cancel_a_jobs_appointments_from_its_page(tmp_path: Path, sandbox: RunningSandbox) -> None:
    context = make_context(tmp_path / "state", sandbox.base_url)
    with signed_in(context) as browser:
        booked = job_id_of(browser.upload(SAMPLE_BOOK))
        browser.post(f"/jobs/{booked}/send")
        wait_until_done(context, booked)
        assert "Cancel this job" in browser.get(f"/jobs/{booked}").text
        check = browser.post(f"/jobs/{booked}/cancel")
        cancel = job_id_of(check)
        confirm = text_of(browser.get(f"/jobs/{cancel}/confirm").text)
        assert f"To cancel {SAMPLE_VALID} " in confirm  # the booked rows only
        browser.post(f"/jobs/{cancel}/send")
        job = wait_until_done(context, cancel)
        assert job.outcomes.get("cancelled") == SAMPLE_VALID and job.parent_id == booked
    statuses = Counter(a["status"] for a in sandbox.appointments())
    assert statuses == {"cancelled": SAMPLE_VALID}


def test_allocate_plans_then_books_the_plan(tmp_path: Path, sandbox: RunningSandbox) -> None:
    context = make_context(tmp_path / "state", sandbox.base_url)
    with signed_in(context) as browser:
        response = browser.upload(SAMPLE_ALLOCATE, kind="allocate")
        job = context.jobs.get(job_id_of(response))
        assert job.check["report"] == "plan.xlsx" and job.check["valid"] > 0
        assert "Claimants placed, to book" in response.text
        browser.post(f"/jobs/{job.id}/send")
        done = wait_until_done(context, job.id)
        assert done.outcomes.get("created") == job.check["valid"]
    assert len(one_per_reference(sandbox)) == job.check["valid"]


def test_the_rows_to_fix_keep_the_input_columns(tmp_path: Path, sandbox: RunningSandbox) -> None:
    context = make_context(tmp_path / "state", sandbox.base_url)
    with signed_in(context) as browser:
        job_id = job_id_of(browser.upload(SAMPLE_BOOK))
        browser.post(f"/jobs/{job_id}/send")
        wait_until_done(context, job_id)
        data = browser.get(f"/jobs/{job_id}/files/fix.xlsx").content
    (tmp_path / "fix.xlsx").write_bytes(data)
    fix = load_workbook(tmp_path / "fix.xlsx")["Rows to fix"]
    original = load_workbook(SAMPLE_BOOK).active
    assert [c.value for c in fix[1]] == [c.value for c in original[1]]
    refs = [row[0].value for row in fix.iter_rows(min_row=2)]
    assert len(refs) == SAMPLE_INVALID and "SQ-1016" in refs  # the invalid rows, nothing else
    row18 = next(r for r in original.iter_rows(min_row=2) if r[0].value == "SQ-1016")
    fixed18 = next(r for r in fix.iter_rows(min_row=2) if r[0].value == "SQ-1016")
    assert [c.value for c in fixed18] == [c.value for c in row18]  # dates stay dates
    assert fixed18[0].comment is not None and "invalid" in fixed18[0].comment.text
