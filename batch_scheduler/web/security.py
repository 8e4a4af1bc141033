"""Sign-in on every page but the health check, security headers, and the CSRF check.

The middleware finds the session from its cookie (server-side: sessions.py) and puts it on
`request.state.session`. Without one, a GET is sent to the sign-in page and anything else
is refused. Every POST handler reads its form through `checked_form`, which refuses a form
whose CSRF token is not the session's (multipart uploads included). The sign-in form, sent
before there is a session, carries a token that must match its own short-lived cookie.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote, urlsplit

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from batch_scheduler import i18n
from batch_scheduler.web.language import request_language
from batch_scheduler.web.sessions import Session, tokens_match

OPEN_PATHS = ("/healthz", "/sign-in", "/sign-in/sso", "/sign-in/sso/callback", "/language",
              "/static/", "/favicon.ico")  # fmt: skip
SIGN_IN_COOKIE = "bs_sign_in"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def session_cookie_name(secure: bool) -> str:
    """__Host- makes the browser insist on Secure, Path=/ and no Domain."""
    return "__Host-bs_session" if secure else "bs_session"


def _is_open(path: str) -> bool:
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in OPEN_PATHS)


class SignInRequired:
    """ASGI middleware: session lookup, sign-in rule, headers (no-store on private pages),
    and the request's language (language.py), in force for this request only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        context = request.app.state.context
        cookie = request.cookies.get(session_cookie_name(context.secure_cookies))
        session = context.sessions.find(cookie) if cookie else None
        scope.setdefault("state", {})["session"] = session
        with i18n.use_language(request_language(request, session)):
            await self._respond(scope, receive, send, session)

    async def _respond(
        self, scope: Scope, receive: Receive, send: Send, session: Session | None
    ) -> None:
        path = scope["path"]
        if session is None and not _is_open(path):
            response: Response
            if scope["method"] in ("GET", "HEAD"):
                target = path + (
                    f"?{scope['query_string'].decode()}" if scope["query_string"] else ""
                )
                response = RedirectResponse(f"/sign-in?next={quote(target)}", status_code=303)
            else:
                response = Response("Sign in first.", status_code=403)
            await response(scope, receive, self._with_headers(send, private=True))
            return
        private = not path.startswith("/static/")
        await self.app(scope, receive, self._with_headers(send, private=private))

    @staticmethod
    def _with_headers(send: Send, *, private: bool) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + HEADERS
                if private:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        return wrapped


def current_session(request: Request) -> Session:
    session = getattr(request.state, "session", None)
    if session is None:
        raise HTTPException(403, "Sign in first.")
    return session


def _same_origin(request: Request) -> bool:
    """A browser sends Origin on every POST; when it does, it must be this site."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def checked_form(request: Request, *, max_part_size: int = 1 << 20) -> FormData:
    """The POSTed form, if its CSRF token is the session's; else 403."""
    session = current_session(request)
    form = await request.form(max_files=1, max_fields=50, max_part_size=max_part_size)
    token = form.get("csrf_token")
    if not _same_origin(request) or not tokens_match(
        token if isinstance(token, str) else None, session.csrf_token
    ):
        await form.close()
        raise HTTPException(403, "csrf")
    return form


def new_sign_in_token() -> str:
    return secrets.token_urlsafe(24)


async def checked_sign_in_form(request: Request) -> FormData:
    """The sign-in form: its token must match the cookie set when the form was shown."""
    form = await request.form(max_files=0, max_fields=10)
    token = form.get("csrf_token")
    cookie = request.cookies.get(SIGN_IN_COOKIE)
    if (
        not cookie
        or not _same_origin(request)
        or not tokens_match(token if isinstance(token, str) else None, cookie)
    ):
        raise HTTPException(403, "csrf")
    return form


def set_cookie(
    response: Response, name: str, value: str, *, secure: bool, max_age: int | None = None
) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=secure, httponly=True, samesite="lax"
    )
