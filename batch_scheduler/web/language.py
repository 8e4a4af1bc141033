"""The page's language: English or Cymraeg, switched on every page, remembered per user.

Each request is rendered in one language, chosen in this order: the signed-in user's choice
(kept with the account), the language cookie (before sign-in), the browser's
Accept-Language, else the server's default. The choice is in force only for that request
(`i18n.use_language`), so two people can use the page in two languages while a job runs.

The switch (routes_auth.py) is a small POST form with the page's CSRF token (the session's;
before sign-in, the sign-in token), so another site cannot change anybody's language.
"""

from __future__ import annotations

from starlette.requests import Request

from batch_scheduler import i18n
from batch_scheduler.web.sessions import Session

LANGUAGE_COOKIE = "bs_lang"
# said by screen readers before each choice, in the language of that choice
SWITCH_PREFIX = {"en": "Change the language:", "cy": "Newid yr iaith:"}
ONE_YEAR = 365 * 24 * 3600


def from_accept_language(header: str) -> str | None:
    """The language we have that the browser prefers most ("cy-GB,cy;q=0.9,en;q=0.5")."""
    best, best_q = None, 0.0
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        code = i18n.language_code(tag) if tag else None
        if code and q > best_q:
            best, best_q = code, q
    return best


def request_language(request: Request, session: Session | None) -> str:
    if session is not None and session.language in i18n.LANGUAGES:
        return session.language
    cookie = i18n.language_code(request.cookies.get(LANGUAGE_COOKIE, ""))
    if cookie:
        return cookie
    return from_accept_language(request.headers.get("accept-language", "")) or (
        i18n.current_language()
    )
