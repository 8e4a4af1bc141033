"""Small helpers the page modules share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request

from batch_scheduler.web.jobs import Job


def job_or_404(request: Request) -> Job:
    job = request.app.state.context.jobs.get(int(request.path_params["job_id"]))
    if job is None:
        raise HTTPException(404)
    return job


def safe_next(target: str | None) -> str:
    """Only a path on this site: never //host or a scheme (an open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def load_json(path: Path) -> Any:
    """A JSON file the page wrote, or None when it is gone (retention, delete now)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
