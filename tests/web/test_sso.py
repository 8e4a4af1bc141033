"""Single sign-on through OpenID Connect (web/sso.py) against a real provider on loopback
(oidc_provider.py): who may come in, and every way a sign-in is refused."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

from batch_scheduler import i18n
from batch_scheduler.errors import ConfigError
from batch_scheduler.web import RunningWeb
from batch_scheduler.web.app import create_app
from batch_scheduler.web.context import WebContext
from batch_scheduler.web.server import ServeOptions, build_context
from batch_scheduler.web.settings import WebSettings, sso_settings
from batch_scheduler.web.sso import SECRET_VARIABLE, SingleSignOn
from tests.web.browser import check_page
from tests.web.helpers import PASSWORD, make_context, text_of
from tests.web.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider

NOT_WORKING = "Single sign-on did not work"


@pytest.fixture
def provider() -> Iterator[Provider]:
    with running_provider(Provider()) as running:
        yield running


def sso_context(tmp_path: Path, provider: Provider) -> WebContext:
    web = WebSettings(sso_issuer=provider.issuer, sso_client_id=CLIENT_ID,
                      sso_button="Sign in with Microsoft")  # fmt: skip
    context = make_context(tmp_path / "state", None, web)
    settings = sso_settings(web, {SECRET_VARIABLE: CLIENT_SECRET})
    assert settings is not None
    context.sso = SingleSignOn(settings)
    return context


def sso_sign_in(client: TestClient, next_url: str = "/") -> httpx.Response:
    """Press the button, let the provider answer (over real loopback), come back."""
    form = client.get("/sign-in", params={"next": next_url}).text
    assert "Sign in with Microsoft" in form
    to_provider = client.get(_sso_link(form), follow_redirects=False)
    assert to_provider.status_code == 303, to_provider.text
    back = httpx.get(to_provider.headers["location"], follow_redirects=False)
    assert back.status_code == 302, back.text
    callback = urlsplit(back.headers["location"])
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def _sso_link(page: str) -> str:
    found = re.search(r'href="(/sign-in/sso[^"]*)"', page)
    assert found, "no single sign-on button"
    return html.unescape(found.group(1))


def test_a_local_account_signs_in_through_the_provider(tmp_path: Path, provider: Provider) -> None:
    context = sso_context(tmp_path, provider)
    context.accounts.add("Alice", PASSWORD)
    with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
        answer = sso_sign_in(client, "/jobs")
        assert (answer.status_code, answer.headers["location"]) == (303, "/jobs")
        assert "Signed in as alice" in text_of(client.get("/jobs").text)
    actions = [(entry.action, entry.user_name) for entry in context.audit.recent(10)]
    assert ("sign-in", "alice") in actions


def test_someone_the_provider_knows_but_without_an_account_is_refused(
    tmp_path: Path, provider: Provider
) -> None:
    context = sso_context(tmp_path, provider)
    provider.user = "mallory@example.org"
    context.accounts.add("alice", PASSWORD)
    with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
        answer = sso_sign_in(client)
        assert answer.status_code == 403
        assert "no account of that name here" in text_of(answer.text)
        assert client.get("/jobs", follow_redirects=False).status_code == 303  # to sign-in


@pytest.mark.parametrize(
    "knob", ["audience", "wrong_nonce", "expired", "foreign_key"], ids=lambda k: k
)
def test_an_id_token_that_does_not_hold_up_is_refused(
    tmp_path: Path, provider: Provider, knob: str
) -> None:
    context = sso_context(tmp_path, provider)
    context.accounts.add("alice", PASSWORD)
    if knob == "audience":
        provider.audience = "another-app"
    else:
        setattr(provider, knob, True)
    with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
        answer = sso_sign_in(client)
        assert answer.status_code == 400 and NOT_WORKING in text_of(answer.text)
        assert client.get("/jobs", follow_redirects=False).status_code == 303


def test_a_callback_this_browser_did_not_start_is_refused(
    tmp_path: Path, provider: Provider
) -> None:
    """Login CSRF: someone else's code and state, replayed in this browser."""
    context = sso_context(tmp_path, provider)
    context.accounts.add("alice", PASSWORD)
    app = create_app(context)
    with (
        TestClient(app, base_url="http://127.0.0.1") as attacker,
        TestClient(app, base_url="http://127.0.0.1") as victim,
    ):
        to_provider = attacker.get("/sign-in/sso", follow_redirects=False)
        back = urlsplit(httpx.get(to_provider.headers["location"]).headers["location"])
        answer = victim.get(f"{back.path}?{back.query}", follow_redirects=False)
        assert answer.status_code == 400 and NOT_WORKING in text_of(answer.text)
        assert victim.get("/jobs", follow_redirects=False).status_code == 303


def test_sso_needs_its_secret_in_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[web]\nsso_issuer = "https://login.example"\nsso_client_id = "x"\n')
    env = {"BATCH_SCHEDULER_STATE_DIR": str(tmp_path / "state")}
    options = ServeOptions("127.0.0.1", 8080, config)
    with pytest.raises(Exception, match=SECRET_VARIABLE):
        build_context(options, env=env)
    context = build_context(options, env=env | {SECRET_VARIABLE: "s"})
    assert context.sso is not None and context.sso.settings.client_secret == "s"
    assert "'s'" not in repr(context.sso.settings)


def test_the_default_button_and_the_missing_secret_speak_the_language(
    tmp_path: Path, provider: Provider
) -> None:
    web = WebSettings(sso_issuer=provider.issuer, sso_client_id=CLIENT_ID)
    context = make_context(tmp_path / "state", None, web)
    settings = sso_settings(web, {SECRET_VARIABLE: CLIENT_SECRET})
    assert settings is not None
    context.sso = SingleSignOn(settings)
    with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
        english = text_of(client.get("/sign-in").text)
        welsh = text_of(client.get("/sign-in", headers={"accept-language": "cy"}).text)
    assert "Sign in with single sign-on" in english
    assert "Mewngofnodi gyda mewngofnodi sengl" in welsh
    with i18n.use_language("cy"), pytest.raises(ConfigError) as refused:
        sso_settings(web, {})
    assert refused.value.message.startswith("Ffurfweddu: mae mewngofnodi sengl angen")
    assert SECRET_VARIABLE in refused.value.message


def test_without_sso_there_is_no_button_and_no_route(tmp_path: Path) -> None:
    context = make_context(tmp_path / "state", None)
    with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
        assert "/sign-in/sso" not in client.get("/sign-in").text
        assert client.get("/sign-in/sso").status_code == 404


def test_sign_in_through_the_provider_in_a_browser(
    tmp_path: Path, provider: Provider, new_page: Any
) -> None:
    """In chromium, with the page's own CSP: the button, the provider, and back signed in."""
    context = sso_context(tmp_path, provider)
    context.accounts.add("alice", PASSWORD)
    with RunningWeb(context) as web:
        page = new_page()
        page.goto(f"{web.url}/jobs")
        check_page(page, "17-sign-in-sso")
        page.click("#sso")
        page.wait_for_url(f"{web.url}/jobs")
        assert "Signed in as alice" in page.inner_text("body")
