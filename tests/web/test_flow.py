"""The page's flow over a real sandbox (TestClient): the check is exactly `validate`'s, the
ledger (not the page) keeps everything exactly once, jobs stop and resume cleanly."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import load_workbook

from batch_scheduler.ledger import EntryState, Ledger, LedgerUpdate
from batch_scheduler.pipeline import RunRequest, run
from batch_scheduler.sandbox import RunningSandbox, SandboxConfig
from batch_scheduler.web.context import WebContext
from batch_scheduler.web.worker import interrupted_message
from tests.support.samples_table import documented_invalid_rows, sample_settings
from tests.support.sandbox import seed
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
    shown_counts,
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


def test_a_cli_run_beside_the_job_holds_only_its_own_references(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    """The page and a CLI run share the state directory: no lock stops the job; the one
    reference the CLI run is sending waits until that run lets go of it (issue 13)."""
    context = make_context(tmp_path / "state", sandbox.base_url)
    with signed_in(context) as browser:
        job_id = job_id_of(browser.upload(SAMPLE_BOOK))
        with Ledger.open(tmp_path / "state", base_url=sandbox.base_url) as cli_run:
            assert cli_run.mark_sending("create", ["SQ-1000"], "a-cli-run") == {}
            browser.post(f"/jobs/{job_id}/send")
            wait_for(lambda: len(sandbox.appointments()) == SAMPLE_VALID - 1)
            time.sleep(0.3)  # the job keeps asking for SQ-1000 meanwhile
            assert context.jobs.get(job_id).sending  # type: ignore[union-attr]
            assert "SQ-1000" not in {a["reference"] for a in sandbox.appointments()}
            cli_run.record([LedgerUpdate("create", "SQ-1000", EntryState.NOT_APPLIED)],
                           "a-cli-run")  # fmt: skip
            cli_run.release("a-cli-run")  # it stopped without booking SQ-1000
        assert wait_until_done(context, job_id).outcomes == SAMPLE_BOOKED
    assert len(one_per_reference(sandbox)) == SAMPLE_VALID


def wait_for(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.02)


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


def _rows_done(context: WebContext, job_id: int) -> int:
    job = context.jobs.get(job_id)
    return int(job.progress.get("done", 0)) if job else 0


def test_stopping_the_server_mid_send_stops_the_job_gently_and_resume_finishes_it(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    """The send runs in a child process: stopping the server stops it the gentle way (the
    requests in flight are answered, the rows done so far are counted), and the job waits
    for Resume, which books the rest and nothing twice."""
    context = make_context(tmp_path / "state", sandbox.base_url)
    context.settings = dataclasses.replace(
        context.settings, send=dataclasses.replace(context.settings.send, rate=8, concurrency=2)
    )
    with signed_in(context) as browser:
        job_id = job_id_of(browser.upload(SAMPLE_BOOK))
        browser.post(f"/jobs/{job_id}/send")
        deadline = time.monotonic() + 30
        while _rows_done(context, job_id) < 3:
            assert time.monotonic() < deadline, "the job never got going"
            time.sleep(0.05)
    job = context.jobs.get(job_id)  # the server has stopped
    assert job is not None and (job.state.value, job.message) == ("stopped", interrupted_message())
    assert 0 < job.outcomes.get("created", 0) < SAMPLE_VALID
    assert job.outcomes["created"] == len(sandbox.appointments())
    with signed_in(context) as browser:
        browser.post(f"/jobs/{job_id}/send")  # Resume
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
        checked = context.jobs.get(cancel).check
        assert (checked["invalid"], checked["issues"]) == (0, 0)  # each row names its booking
        confirm = browser.get(f"/jobs/{cancel}/confirm").text
        # the dry run finds the rows that were invalid when booking never booked: only the
        # booked rows are proposed, the others are said to have nothing to cancel
        assert f"To cancel {SAMPLE_VALID} " in text_of(confirm)
        assert f"Cancel {SAMPLE_VALID} appointments" in text_of(confirm)
        assert shown_counts(confirm) == {"nothing_to_cancel": SAMPLE_INVALID}
        browser.post(f"/jobs/{cancel}/send")
        job = wait_until_done(context, cancel)
        assert job.parent_id == booked
        assert job.outcomes == {"cancelled": SAMPLE_VALID, "nothing_to_cancel": SAMPLE_INVALID}
        done = browser.get(f"/jobs/{cancel}").text
        # the same sheet again: its references now belong to cancelled appointments
        rebook = job_id_of(browser.upload(SAMPLE_BOOK))
        again = browser.get(f"/jobs/{rebook}/confirm").text
    assert 'id="failed-rows"' not in done  # a quiet outcome: nothing for anyone to fix
    assert shown_counts(done) == {"cancelled": SAMPLE_VALID, "nothing_to_cancel": SAMPLE_INVALID}
    assert shown_counts(again) == {"conflict": SAMPLE_VALID, "invalid": SAMPLE_INVALID}
    assert "nothing left to send" in text_of(again)
    statuses = Counter(a["status"] for a in sandbox.appointments())
    assert statuses == {"cancelled": SAMPLE_VALID}


def test_a_reference_used_by_a_cancelled_appointment_is_a_conflict_with_its_reason(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    row, reference = 2, "SQ-1000"  # the sample's first row, a valid one
    assert row not in documented_invalid_rows(SAMPLE_BOOK.name)
    taken = seed(sandbox, reference, datetime(2031, 12, 1, 10, tzinfo=UTC), cancelled=True)
    context = make_context(tmp_path / "state", sandbox.base_url)
    with signed_in(context) as browser:
        job_id = job_id_of(browser.upload(SAMPLE_BOOK))
        browser.post(f"/jobs/{job_id}/send")
        job = wait_until_done(context, job_id)
        results = browser.get(f"/jobs/{job_id}").text

    booked = SAMPLE_VALID - 1
    assert job.outcomes == {"created": booked, "conflict": 1, "invalid": SAMPLE_INVALID}
    assert job.progress["outcomes"] == {"created": booked, "conflict": 1}
    assert shown_counts(results) == {"created": booked, "conflict": 1, "invalid": SAMPLE_INVALID}
    assert f"{SAMPLE_INVALID + 1} rows did not go through" in text_of(results)
    reasons = {cells[0]: cells[1:] for cells in table_rows(results, "failed-rows")}
    outcome, reason = reasons[str(row)][1:]
    assert outcome == "conflict"
    assert f"The reference “{reference}” is already used by a cancelled appointment" in reason
    assert taken in reason and "new reference" in reason
    assert one_per_reference(sandbox)[reference] == 1  # the cancelled one: nothing booked


def test_a_results_row_never_booked_is_not_counted_as_an_error(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    context = make_context(tmp_path / "state", sandbox.base_url)
    with signed_in(context) as browser:
        booked = job_id_of(browser.upload(SAMPLE_BOOK))
        browser.post(f"/jobs/{booked}/send")
        wait_until_done(context, booked)
        results = tmp_path / "results.xlsx"
        results.write_bytes(browser.get(f"/jobs/{booked}/files/results.xlsx").content)
        book = load_workbook(results)
        sheet = book["Results"]
        headers = [cell.value for cell in sheet[1]]
        invalid_row = min(documented_invalid_rows(SAMPLE_BOOK.name))
        for cell in sheet[invalid_row]:  # a person blanks both references of an invalid row
            if headers[cell.column - 1] in ("Ref", "reference"):
                cell.value = None
        book.save(results)
        check = browser.upload(results, kind="cancel")
        checked = context.jobs.get(job_id_of(check)).check

    # every row never booked (the blanked one too, invalid for cancel with no reference):
    # nothing to cancel, no error, as `cancel` itself will say
    rows = SAMPLE_VALID + SAMPLE_INVALID
    assert (checked["rows"], checked["valid"], checked["invalid"]) == (rows, SAMPLE_VALID, 0)
    assert checked["outcomes"] == {"valid": SAMPLE_VALID, "nothing_to_cancel": SAMPLE_INVALID}
    page = text_of(check.text)
    assert "Rows with errors, to be skipped 0" in page and "valid rows only" not in page
    assert shown_counts(check.text) == {"nothing_to_cancel": SAMPLE_INVALID}


def table_rows(html: str, table_id: str) -> list[list[str]]:
    """The text of each body row's cells in the table with this id."""
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody", 1)[1]
    return [
        [text_of("<td" + cell).strip() for cell in row.split("<td")[1:]]
        for row in body.split("<tr")[1:]
    ]


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
