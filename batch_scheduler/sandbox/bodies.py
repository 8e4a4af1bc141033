"""Request bodies as a Laravel app sees them: form bracket keys nested, strings trimmed,
empty strings turned into null (Laravel's TrimStrings and ConvertEmptyStringsToNull)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

_BRACKETS = re.compile(r"\[([^\]]*)\]")


def _path_of(key: str) -> list[str]:
    """'claimant[name]' -> ['claimant', 'name']; a plain key is a path of one."""
    head, bracket, _ = key.partition("[")
    if not bracket or not key.endswith("]"):
        return [key]
    return [head, *_BRACKETS.findall(key[len(head) :])]


def nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Nest form pairs by their bracket keys, the last value winning, as PHP does."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        parts = _path_of(key)
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return out


def clean(value: Any) -> Any:
    """Trim strings and turn empty ones into None, all the way down."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


async def read_input(request: Request) -> dict[str, Any]:
    """The request's input, JSON or form-encoded. A body that cannot be read counts as empty,
    so the caller answers with validation errors, as Laravel does."""
    content_type = request.headers.get("content-type", "").lower()
    if "multipart/form-data" in content_type:
        form = await request.form()
        pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        await form.close()
        return clean(nest(pairs))
    body = await request.body()
    if "json" in content_type or body.lstrip().startswith(b"{"):
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return {}
        return clean(data) if isinstance(data, dict) else {}
    text = body.decode("utf-8", errors="replace")
    return clean(nest(parse_qsl(text, keep_blank_values=True)))
