"""Request-level rules of the web page (Starlette's TestClient): sign-in everywhere, CSRF,
lock-out, sessions, cookies, permissions, file modes, retention, secrets never shown."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from batch_scheduler.sandbox import RunningSandbox
from batch_scheduler.web import create_app
from batch_scheduler.web.settings import WebSettings
from tests.support.hostile_files import old_xls, zip_bomb_xlsx
from tests.web.helpers import (
    PASSWORD,
    SAMPLE_BOOK,
    SAMPLE_NOW,
    SAMPLE_VALID,
    Browser,
    job_id_of,
    make_context,
    signed_in,
    text_of,
    wait_until_done,
)

PAGES = ["/", "/jobs", "/audit", "/jobs/1", "/jobs/1/check", "/jobs/1/confirm",
         "/jobs/1/progress", "/jobs/1/files/results.xlsx", "/templates/book.xlsx"]  # fmt: skip
FORMS = ["/upload", "/sign-out", "/jobs/1/send", "/jobs/1/sheet", "/jobs/1/reupload",
         "/jobs/1/delete-files", "/jobs/1/cancel"]  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = SAMPLE_NOW

    def __call__(self) -> Any:
        return self.now


def test_every_page_but_the_health_check_needs_sign_in(tmp_path: Path) -> None:
    context = make_context(tmp_path / "state", None)
    with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/static/app.css").status_code == 200
        for url in PAGES:
            response = client.get(url, follow_redirects=False)
            assert response.status_code == 303, url
            assert response.headers["location"].startswith("/sign-in?next=")
        for url in FORMS:
            assert client.post(url, data={}).status_code == 403, url


def test_every_form_refuses_a_missing_or_wrong_csrf_token(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    context = make_context(tmp_path / "state", sandbox.base_url)
    with signed_in(context) as browser:
        job_id = job_id_of(browser.upload(SAMPLE_BOOK))
        for url in [u.replace("/1/", f"/{job_id}/") for u in FORMS]:
            for token in ("", "forged"):
                response = browser.client.post(url, data={"csrf_token": token})
                assert response.status_code == 403, url
                assert "did not come from this site" in text_of(response.text)
        files = {"file": ("book.xlsx", SAMPLE_BOOK.read_bytes())}
        refused = browser.client.post(
            "/upload", data={"csrf_token": "x", "kind": "book"}, files=files
        )
        assert refused.status_code == 403  # multipart too
        cross_site = browser.client.post(
            f"/jobs/{job_id}/send", data={"csrf_token": browser.token},
            headers={"origin": "http://evil.example"},
        )  # fmt: skip
        assert cross_site.status_code == 403
        assert context.jobs.get(job_id).state.value == "checked"  # nothing queued
        assert sandbox.appointments() == []
        assert len(context.jobs.recent(1)) == 1  # the refused upload made no job


def test_sign_in_form_needs_its_own_token(tmp_path: Path) -> None:
    context = make_context(tmp_path / "state", None)
    context.accounts.add("alice", PASSWORD)
    with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
        response = client.post("/sign-in", data={"name": "alice", "password": PASSWORD})
        assert response.status_code == 403


def test_lock_out_after_repeated_failures_then_unlock(tmp_path: Path) -> None:
    clock = Clock()
    context = make_context(tmp_path / "state", None, clock=clock)
    context.accounts.add("alice", PASSWORD)
    with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
        browser = Browser(client)
        for _ in range(4):
            assert browser.sign_in(password="wrong password!").status_code == 400
        locked = browser.sign_in(password="wrong password!")
        assert locked.status_code == 429 and "too many failed attempts" in locked.text
        assert browser.sign_in().status_code == 429  # even the right password, while locked
        ghost = [browser.sign_in(name="nobody", password="x" * 12).status_code for _ in range(5)]
        assert ghost == [400, 400, 400, 400, 429]  # unknown names lock the same way: no hint
        clock.now += timedelta(minutes=16)
        assert browser.sign_in().status_code == 200
        assert "Signed in as alice" in client.get("/").text
    actions = [entry.action for entry in context.audit.recent()]
    assert actions.count("sign-in-failed") == 8 and "sign-in-locked" in actions


def test_session_cookie_flags_and_idle_timeout(tmp_path: Path) -> None:
    clock = Clock()
    context = make_context(tmp_path / "state", None, clock=clock)
    with signed_in(context) as browser:
        cookie = next(c for c in browser.client.cookies.jar if c.name == "bs_session")
        assert cookie.has_nonstandard_attr("HttpOnly") and not cookie.secure
        assert cookie.get_nonstandard_attr("SameSite").lower() == "lax"
        assert browser.get("/", follow_redirects=False).status_code == 200
        clock.now += timedelta(minutes=29)
        assert browser.get("/", follow_redirects=False).status_code == 200
        clock.now += timedelta(minutes=31)
        assert browser.get("/", follow_redirects=False).status_code == 303  # idle too long


def test_secure_cookie_off_loopback(tmp_path: Path) -> None:
    context = make_context(tmp_path / "state", None)
    context.secure_cookies = True
    context.accounts.add("alice", PASSWORD)
    with TestClient(create_app(context), base_url="https://batch.example") as client:
        Browser(client).sign_in()
        cookie = next(c for c in client.cookies.jar if "bs_session" in c.name)
        assert cookie.name == "__Host-bs_session" and cookie.secure


def test_sign_out_everywhere_and_new_password_end_other_sessions(tmp_path: Path) -> None:
    context = make_context(tmp_path / "state", None)
    context.accounts.add("alice", PASSWORD)
    app = create_app(context)
    with TestClient(app, base_url="http://127.0.0.1") as one:
        first, second = Browser(one), Browser(TestClient(app, base_url="http://127.0.0.1"))
        first.sign_in(), second.sign_in()
        first.post("/sign-out", {"everywhere": "1"})
        assert second.get("/", follow_redirects=False).status_code == 303
        first.sign_in()
        context.accounts.set_password("alice", "another long password")
        assert first.get("/", follow_redirects=False).status_code == 303


def test_a_team_sees_every_job_and_the_audit_names_who_did_what(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    context = make_context(tmp_path / "state", sandbox.base_url)
    context.accounts.add("bob", PASSWORD)
    with signed_in(context, "alice") as alice:
        job_id = job_id_of(alice.upload(SAMPLE_BOOK))
        bob = Browser(TestClient(alice.client.app, base_url="http://127.0.0.1"))
        bob.sign_in("bob")
        assert f"/jobs/{job_id}" in bob.get("/jobs").text
        bob.post(f"/jobs/{job_id}/send")
        job = wait_until_done(context, job_id)
        assert (job.uploaded_by, job.booked_by) == ("alice", "bob")
        page = text_of(alice.get("/audit").text)
        assert "alice upload" in page and "bob book" in page
    for entry in context.audit.recent():
        assert "Claimant" not in entry.detail and "@" not in entry.detail


def test_files_are_private_and_secrets_never_shown(tmp_path: Path, sandbox: RunningSandbox) -> None:
    context = make_context(tmp_path / "state", sandbox.base_url)
    with signed_in(context) as browser:
        job_id = job_id_of(browser.upload(SAMPLE_BOOK))
        browser.post(f"/jobs/{job_id}/send")
        wait_until_done(context, job_id)
        pages = [browser.get(u).text for u in ("/", f"/jobs/{job_id}", "/jobs", "/audit",
                                              f"/jobs/{job_id}/check")]  # fmt: skip
    folder = context.files.folder(job_id)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in [*folder.iterdir(), context.db.path]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert {"input.xlsx", "report.xlsx", "results.xlsx", "summary.json", "fix.xlsx"} <= {
        p.name for p in folder.iterdir()
    }
    assert not any("sandbox-token" in html for html in pages)


def test_files_deleted_after_retention_or_at_once(tmp_path: Path, sandbox: RunningSandbox) -> None:
    clock = Clock()
    context = make_context(tmp_path / "state", sandbox.base_url, WebSettings(retention_days=30),
                           clock=clock)  # fmt: skip
    with signed_in(context) as browser:
        old = job_id_of(browser.upload(SAMPLE_BOOK))
        clock.now += timedelta(days=20)
        browser.sign_in()  # the session itself timed out long ago
        recent = job_id_of(browser.upload(SAMPLE_BOOK))
        clock.now += timedelta(days=11)
        browser.sign_in()
        assert browser.client.app.state.worker.purge() == 1
        assert not context.files.folder(old).exists() and context.files.folder(recent).exists()
        assert "files have been deleted" in browser.get(f"/jobs/{old}").text
        browser.post(f"/jobs/{recent}/delete-files")
        assert not context.files.folder(recent).exists()
        assert browser.get(f"/jobs/{recent}/files/report.xlsx").status_code == 404
        assert context.jobs.get(recent).check["valid"] == SAMPLE_VALID  # counts stay


@pytest.mark.parametrize("make, words", [
    (old_xls, "Excel 97-2003"),
    (lambda folder: zip_bomb_xlsx(folder, lie=True), "unpack"),
])  # fmt: skip
def test_hostile_file_refused_with_its_message(tmp_path: Path, make: Any, words: str) -> None:
    context = make_context(tmp_path / "state", None)
    with signed_in(context) as browser:
        response = browser.upload(make(tmp_path))
        assert response.status_code == 400
        assert "There is a problem" in response.text and words in text_of(response.text)
        job = context.jobs.recent(1)[0]
        assert job.state.value == "refused" and not context.files.folder(job.id).exists()


def test_security_headers(tmp_path: Path) -> None:
    context = make_context(tmp_path / "state", None)
    with signed_in(context) as browser:
        headers = browser.get("/").headers
        assert "default-src 'self'" in headers["content-security-policy"]
        assert headers["cache-control"] == "no-store"
        assert headers["x-frame-options"] == "DENY"
