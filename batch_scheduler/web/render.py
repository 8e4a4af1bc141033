"""Pages from Jinja2 templates: autoescaped, every string through gettext (the i18n extension),
and a few filters for times, counts, sizes and outcomes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from batch_scheduler import i18n
from batch_scheduler.web import pipeline_bridge as bridge
from batch_scheduler.web.labels import outcome_label, plan_label, state_label
from batch_scheduler.web.language import SWITCH_PREFIX
from batch_scheduler.web.security import SIGN_IN_COOKIE, new_sign_in_token, set_cookie

TEMPLATES = Path(__file__).parent / "templates"
LONDON = ZoneInfo("Europe/London")


def _local_time(value: datetime | str | None, timezone: str = "Europe/London") -> str:
    """'06/12/2026 14:30' in the sheet's time zone, as ops write times."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(ZoneInfo(timezone)).strftime("%d/%m/%Y %H:%M")


def _number(value: Any) -> str:
    return f"{int(value):,}" if value is not None else "0"


def _duration(seconds: Any) -> str:
    if seconds is None:
        return i18n.gettext("unknown")
    seconds = int(seconds)
    if seconds < 60:
        return i18n.ngettext("%(num)d second", "%(num)d seconds", seconds) % {"num": seconds}
    minutes = round(seconds / 60)
    return i18n.ngettext("about %(num)d minute", "about %(num)d minutes", minutes) % {
        "num": minutes
    }


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.filters |= {
        "local_time": _local_time,
        "number": _number,
        "duration": _duration,
        "state": state_label,
        "outcome": outcome_label,
        "plan_label": plan_label,
        "in_order": bridge.in_order,  # outcome counts: fine ones first, none left out
        # a stored message (N_ in worker.py) in the reader's language; never %-formatted
        "translate": lambda text: i18n.gettext(text) if text else text,
    }
    return Jinja2Templates(env=env)


_templates = make_templates()


def page(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    """Render a template with what every page shows (user, CSRF token, language switch).

    Before sign-in the language switch carries the sign-in token: the one the sign-in page
    made or the browser holds (never replaced, so another tab's sign-in form still works),
    else a new one, set in its cookie here."""
    context = context or {}
    session = getattr(request.state, "session", None)
    app_context = request.app.state.context
    sign_in_token = context.get("sign_in_token") or request.cookies.get(SIGN_IN_COOKIE)
    new_token = None
    if session is None and sign_in_token is None:
        new_token = sign_in_token = new_sign_in_token()
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    base = {
        "user": session.user_name if session else None,
        "csrf_token": session.csrf_token if session else "",
        "switch_token": session.csrf_token if session else sign_in_token,
        "here": here if request.method == "GET" else "/",
        "lang": i18n.current_language(),
        "languages": i18n.LANGUAGES,
        "switch_prefix": SWITCH_PREFIX,
        "timezone": app_context.settings.intake.timezone,
        "sheet_titles": bridge.sheet_titles(),  # our sheets' names in the page's language
        "booking_off": app_context.booking_off,
    }
    response = _templates.TemplateResponse(request, name, base | context, status_code)
    if new_token is not None:
        set_cookie(
            response, SIGN_IN_COOKIE, new_token, secure=app_context.secure_cookies, max_age=3600
        )
    return response
