"""The page in Welsh or English: the switch on every page (CSRF-safe), the choice kept with
the account, lang="cy" on the document, each request in its own user's language."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from starlette.testclient import TestClient

from batch_scheduler.web import create_app
from batch_scheduler.web.db import SCHEMA_VERSION, WebDb
from batch_scheduler.web.language import from_accept_language
from batch_scheduler.web.worker import interrupted_message
from tests.web.helpers import PASSWORD, Browser, csrf, make_context, signed_in, text_of


def heading(html: str) -> str:
    start = html.index('<h1 class="govuk-heading-l">') + len('<h1 class="govuk-heading-l">')
    return text_of(html[start : html.index("</h1>", start)]).strip()


def switch(client: TestClient, page: str, lang: str, next_url: str = "/") -> object:
    return client.post("/language", data={"csrf_token": csrf(page), "lang": lang, "next": next_url})


def test_the_sign_in_page_switches_to_welsh_and_back(tmp_path: Path) -> None:
    context = make_context(tmp_path / "state", None)
    with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
        page = client.get("/sign-in").text
        assert '<html lang="en"' in page and heading(page) == "Sign in"
        assert 'name="lang" value="cy" lang="cy"' in page  # the other language, in its own
        welsh = switch(client, page, "cy", "/sign-in?next=/jobs")
        assert welsh.url.path == "/sign-in" and welsh.url.query == b"next=/jobs"
        assert '<html lang="cy"' in welsh.text and heading(welsh.text) == "Mewngofnodi"
        assert "Enw defnyddiwr" in welsh.text and "Newid yr iaith:" not in welsh.text
        assert "Change the language:" in welsh.text  # the way back, said in English
        english = switch(client, welsh.text, "en", "/sign-in")
        assert '<html lang="en"' in english.text and heading(english.text) == "Sign in"


def test_the_switch_refuses_a_forged_or_cross_site_form(tmp_path: Path) -> None:
    context = make_context(tmp_path / "state", None)
    with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
        page = client.get("/sign-in").text
        forged = client.post("/language", data={"csrf_token": "forged", "lang": "cy"})
        assert forged.status_code == 403
        cross = client.post(
            "/language",
            data={"csrf_token": csrf(page), "lang": "cy"},
            headers={"origin": "http://evil.example"},
        )
        assert cross.status_code == 403
        page = client.get("/sign-in").text  # a new sign-in token each time
        assert '<html lang="en"' in page
        unknown = client.post("/language", data={"csrf_token": csrf(page), "lang": "fr"})
        assert unknown.status_code == 400
        away = client.post(
            "/language",
            data={"csrf_token": csrf(page), "lang": "cy", "next": "//evil.example/"},
            follow_redirects=False,
        )
        assert away.headers["location"] == "/"  # no open redirect


def test_the_choice_is_kept_with_the_account(tmp_path: Path) -> None:
    """Alice chooses Cymraeg; her next sign-in, from a fresh browser, is in Welsh; Bob, on
    the same server at the same time, keeps English."""
    context = make_context(tmp_path / "state", None)
    context.accounts.add("bob", PASSWORD)
    with signed_in(context, "alice") as alice:
        page = alice.get("/jobs").text
        assert heading(page) == "History"
        welsh = switch(alice.client, page, "cy", "/jobs")
        assert welsh.url.path == "/jobs" and heading(welsh.text) == "Hanes"
        assert '<html lang="cy"' in welsh.text
        assert "Wedi mewngofnodi fel alice" in text_of(welsh.text)
        bob = Browser(TestClient(create_app(context), base_url="http://127.0.0.1"))
        bob.sign_in("bob")
        assert heading(bob.get("/jobs").text) == "History"
        assert heading(alice.get("/").text) == "Uwchlwytho taflen"
    fresh = Browser(TestClient(create_app(context), base_url="http://127.0.0.1"))
    signed = fresh.sign_in("alice")
    assert heading(signed.text) == "Uwchlwytho taflen" and '<html lang="cy"' in signed.text
    with context.db.connect() as conn:
        rows = conn.execute("SELECT name, language FROM users ORDER BY name").fetchall()
    assert [tuple(r) for r in rows] == [("alice", "cy"), ("bob", None)]


def test_a_welsh_browser_gets_welsh_before_choosing(tmp_path: Path) -> None:
    context = make_context(tmp_path / "state", None)
    with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
        page = client.get("/sign-in", headers={"accept-language": "cy-GB,cy;q=0.9,en;q=0.8"})
        assert '<html lang="cy"' in page.text
    assert from_accept_language("en-GB,en;q=0.9,cy;q=0.8") == "en"
    assert from_accept_language("fr-FR,cy;q=0.5,en;q=0.4") == "cy"
    assert from_accept_language("fr, de;q=0.5, cy;q=bad") is None
    assert from_accept_language("") is None


def test_a_stored_job_message_is_shown_in_the_reader_s_language(tmp_path: Path) -> None:
    """The worker stores its messages in English; each reader sees them in their own."""
    context = make_context(tmp_path / "state", None)
    job_id = context.jobs.create(
        kind="book", file_name="book.xlsx", input_name="input.xlsx", uploaded_by="alice"
    )
    context.jobs.stopped(job_id, interrupted_message())
    with signed_in(context) as alice:
        english = alice.get(f"/jobs/{job_id}").text
        assert "The server stopped while this job was running." in english
        assert ">stopped</strong>" not in english  # the job page shows the banner
        welsh = switch(alice.client, english, "cy", f"/jobs/{job_id}").text
        assert "Stopiodd y gweinydd tra oedd y dasg hon yn rhedeg." in welsh
        assert "Stopiodd y dasg hon cyn y diwedd" in welsh
        history = alice.get("/jobs").text
        assert ">wedi stopio</strong>" in history and "Tasgau'r 30 diwrnod" in history


def test_a_database_of_version_1_is_migrated_and_keeps_its_users(tmp_path: Path) -> None:
    folder = tmp_path / "web"
    folder.mkdir()
    with sqlite3.connect(folder / WebDb.FILE_NAME) as conn:
        conn.executescript(
            "CREATE TABLE schema_version (version INTEGER NOT NULL);"
            "INSERT INTO schema_version VALUES (1);"
            "CREATE TABLE users (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL,"
            " created_at TEXT NOT NULL);"
            "INSERT INTO users VALUES ('alice', 'hash', '2026-11-25T09:00:00+00:00');"
        )
    db = WebDb(folder)
    WebDb(folder)  # opening it again changes nothing
    with db.connect() as conn:
        versions = conn.execute("SELECT version FROM schema_version").fetchall()
        assert [tuple(r) for r in versions] == [(SCHEMA_VERSION,)]
        assert [tuple(r) for r in conn.execute("SELECT name, language FROM users")] == [
            ("alice", None)
        ]
