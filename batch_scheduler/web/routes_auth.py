"""Sign in, sign out (here or everywhere), the language switch, and the health check."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from batch_scheduler import i18n
from batch_scheduler.i18n import _
from batch_scheduler.web.accounts import SignIn, fold
from batch_scheduler.web.context import WebContext
from batch_scheduler.web.language import LANGUAGE_COOKIE, ONE_YEAR
from batch_scheduler.web.render import page
from batch_scheduler.web.security import (
    SIGN_IN_COOKIE,
    checked_form,
    checked_sign_in_form,
    current_session,
    new_sign_in_token,
    session_cookie_name,
    set_cookie,
)
from batch_scheduler.web.sessions import Session
from batch_scheduler.web.sso import PENDING_SECONDS, SsoError, SsoSettings
from batch_scheduler.web.views import safe_next

log = logging.getLogger(__name__)
SSO_STATE_COOKIE = "bs_sso_state"


def _sign_in_page(
    request: Request, errors: list[dict[str, str]], status: int = 200, name: str = ""
) -> Response:
    context = request.app.state.context
    token = new_sign_in_token()
    response = page(
        request,
        "sign_in.html",
        {
            "errors": errors,
            "sign_in_token": token,
            "name": name,
            "next": safe_next(request.query_params.get("next")),
            "sso_button": _sso_button(context.sso.settings) if context.sso else None,
        },
        status,
    )
    set_cookie(response, SIGN_IN_COOKIE, token, secure=context.secure_cookies, max_age=3600)
    return response


async def sign_in_form(request: Request) -> Response:
    if getattr(request.state, "session", None) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _sign_in_page(request, [])


async def sign_in(request: Request) -> Response:
    context = request.app.state.context
    form = await checked_sign_in_form(request)
    name, password = str(form.get("name") or ""), str(form.get("password") or "")
    if not name or not password:
        errors = [
            {
                "href": "#name" if not name else "#password",
                "text": _("Enter your user name and password"),
            }
        ]
        return _sign_in_page(request, errors, 400, name)
    result = await run_in_threadpool(context.accounts.sign_in, name, password)
    if result.status is SignIn.LOCKED:
        context.audit.record("sign-in-locked", user=None)
        text = _(
            "There have been too many failed attempts to sign in as this user. Try again "
            "in %(minutes)d minutes, or ask whoever runs the server to reset the password."
        )
        errors = [{"href": "#name", "text": text % {"minutes": context.web.lockout_minutes}}]
        return _sign_in_page(request, errors, 429, name)
    if result.status is SignIn.WRONG:
        context.audit.record("sign-in-failed", user=None)
        errors = [{"href": "#password", "text": _("The user name or password is not right")}]
        return _sign_in_page(request, errors, 400, name)
    assert result.user_name is not None
    context.audit.record("sign-in", user=result.user_name)
    return _signed_in(context, result.user_name, str(form.get("next") or "/"))


async def sso_start(request: Request) -> Response:
    """Off to the identity provider; `state` rides in a cookie so that only this browser
    can finish the sign-in it started. A GET (the sign-in page's link): a form's redirect
    to another site would break the page's CSP (form-action 'self')."""
    context = request.app.state.context
    if context.sso is None:
        raise HTTPException(404)
    callback = str(request.url_for("sso_callback"))
    next_url = safe_next(request.query_params.get("next"))
    try:
        url, state = await context.sso.start(callback, next_url)
    except SsoError as exc:
        log.error("single sign-on could not start: %s", exc)
        return _sign_in_page(request, [_sso_failed()], 502)
    response = RedirectResponse(url, status_code=303)
    set_cookie(response, SSO_STATE_COOKIE, state, secure=context.secure_cookies,
               max_age=int(PENDING_SECONDS))  # fmt: skip
    return response


async def sso_callback(request: Request) -> Response:
    """Back from the identity provider: a session if it vouches for a local account."""
    context = request.app.state.context
    if context.sso is None:
        raise HTTPException(404)
    state, code = request.query_params.get("state", ""), request.query_params.get("code", "")
    try:
        if not state or not code or state != request.cookies.get(SSO_STATE_COOKIE):
            raise SsoError("no code, or a state this browser did not start")
        name, next_url = await context.sso.finish(state, code)
    except SsoError as exc:
        log.warning("single sign-on refused: %s", exc)
        context.audit.record("sign-in-failed", user=None, method="sso")
        return _sign_in_page(request, [_sso_failed()], 400)
    if not await run_in_threadpool(context.accounts.exists, name):
        context.audit.record("sign-in-failed", user=None, method="sso")
        text = _(
            "You signed in as %(name)s, but there is no account of that name here. Ask "
            "whoever runs the server to add it with batch-scheduler users add."
        )
        return _sign_in_page(request, [{"href": "#sso", "text": text % {"name": name}}], 403)
    response = _signed_in(context, fold(name), next_url)
    response.delete_cookie(SSO_STATE_COOKIE, path="/")
    context.audit.record("sign-in", user=fold(name), method="sso")
    return response


def _sso_failed() -> dict[str, str]:
    return {
        "href": "#sso",
        "text": _("Single sign-on did not work. Try again, or sign in with your password."),
    }


def _signed_in(context: WebContext, user_name: str, next_url: str) -> Response:
    """A new session for `user_name`, and on to `next_url`."""
    session_id = context.sessions.start(user_name)
    response = RedirectResponse(safe_next(next_url), status_code=303)
    set_cookie(
        response,
        session_cookie_name(context.secure_cookies),
        session_id,
        secure=context.secure_cookies,
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/")
    return response


async def sign_out(request: Request) -> Response:
    context = request.app.state.context
    form = await checked_form(request)
    session = current_session(request)
    if form.get("everywhere"):
        context.sessions.end_all(session.user_name)
        context.audit.record("sign-out-everywhere", user=session.user_name)
    else:
        context.sessions.end(session)
        context.audit.record("sign-out", user=session.user_name)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(session_cookie_name(context.secure_cookies), path="/")
    return response


async def choose_language(request: Request) -> Response:
    """Switch the language, then back to the page the form was on."""
    context = request.app.state.context
    session: Session | None = getattr(request.state, "session", None)
    form = await (checked_form(request) if session else checked_sign_in_form(request))
    language = str(form.get("lang") or "")
    if language not in i18n.LANGUAGES:
        raise HTTPException(400)
    if session is not None:
        context.accounts.set_language(session.user_name, language)
    response = RedirectResponse(safe_next(str(form.get("next") or "/")), status_code=303)
    set_cookie(response, LANGUAGE_COOKIE, language, secure=context.secure_cookies, max_age=ONE_YEAR)
    return response


async def healthz(request: Request) -> Response:
    """For a load balancer or a monitor: no session, no personal data."""
    return JSONResponse({"status": "ok"})


routes = [
    Route("/sign-in", sign_in_form, methods=["GET"]),
    Route("/sign-in", sign_in, methods=["POST"]),
    Route("/sign-in/sso", sso_start, methods=["GET"]),
    Route("/sign-in/sso/callback", sso_callback, methods=["GET"], name="sso_callback"),
    Route("/sign-out", sign_out, methods=["POST"]),
    Route("/language", choose_language, methods=["POST"]),
    Route("/healthz", healthz, methods=["GET"]),
]


def _sso_button(settings: SsoSettings) -> str:
    """The configured words (one language), or ours in the page's language."""
    return settings.button or _("Sign in with single sign-on")
