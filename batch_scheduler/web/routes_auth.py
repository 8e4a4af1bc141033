"""Sign in, sign out (here or everywhere), the language switch, and the health check."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from batch_scheduler import i18n
from batch_scheduler.i18n import _
from batch_scheduler.web.accounts import SignIn
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
from batch_scheduler.web.views import safe_next


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
    session_id = context.sessions.start(result.user_name)
    context.audit.record("sign-in", user=result.user_name)
    response = RedirectResponse(safe_next(str(form.get("next") or "/")), status_code=303)
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
    Route("/sign-out", sign_out, methods=["POST"]),
    Route("/language", choose_language, methods=["POST"]),
    Route("/healthz", healthz, methods=["GET"]),
]
