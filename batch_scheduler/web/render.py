"""Pages from Jinja2 templates: autoescaped, every string through gettext (the i18n extension),
and a few filters for times, counts and sizes."""

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
    env.filters |= {"local_time": _local_time, "number": _number, "duration": _duration}
    return Jinja2Templates(env=env)


_templates = make_templates()


def page(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    """Render a template with what every page shows (user, CSRF token, language)."""
    session = getattr(request.state, "session", None)
    base = {
        "user": session.user_name if session else None,
        "csrf_token": session.csrf_token if session else "",
        "lang": i18n.current_language(),
        "languages": i18n.LANGUAGES,
        "timezone": request.app.state.context.settings.intake.timezone,
        "booking_off": request.app.state.context.booking_off,
    }
    return _templates.TemplateResponse(request, name, base | (context or {}), status_code)
