"""Request bodies as a Laravel app sees them: form bracket keys nested, strings trimmed,
empty strings turned into null (Laravel's TrimStrings and ConvertEmptyStringsToNull)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_plus

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


_PARSED = "batch_scheduler.sandbox.input"  # where the scope keeps the parsed input


async def read_input(request: Request) -> dict[str, Any]:
    """The request's input, JSON or form-encoded. A body that cannot be read counts as empty,
    so the caller answers with validation errors, as Laravel does.

    Parsed once per request (admission reads the create key, the handler the values); the
    caller must not change the dict it gets.
    """
    parsed: dict[str, Any] | None = request.scope.get(_PARSED)
    if parsed is None:
        parsed = request.scope[_PARSED] = await _parse_input(request)
    return parsed


async def _parse_input(request: Request) -> dict[str, Any]:
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
    return clean(nest(form_pairs(text)))


def form_pairs(text: str) -> list[tuple[str, str]]:
    """parse_qsl(text, keep_blank_values=True), unquoting only the parts that need it.

    The same pairs for every input (tests/test_sandbox_bodies.py), at a third of the CPU:
    parse_qsl unquotes all ~40 keys and values of a create, most of them plain text.
    """
    pairs = []
    for field in text.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        pairs.append((_unquoted(name), _unquoted(value)))
    return pairs


def _unquoted(part: str) -> str:
    return unquote_plus(part) if "%" in part or "+" in part else part
