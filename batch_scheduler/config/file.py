"""The config file itself: reading its TOML, refusing one that others can read while it holds
a secret, and refusing a section or setting we do not know (a typo such as [sendd] would
otherwise be ignored silently, and its settings with it)."""

from __future__ import annotations

import difflib
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from batch_scheduler.errors import ConfigError
from batch_scheduler.i18n import _

SECRET_KEYS = ("token", "client_secret")  # [api] keys that make a config file sensitive
SECTIONS = ("api", "defaults", "departments", "intake", "send", "web")  # the [tables]
TOP_SETTINGS = ("lang", "state_dir", "state_url")  # settings above the first table


def check_private(path: Path, data: Mapping[str, Any]) -> None:
    """Refuse a config file that holds a secret but can be read by others (like ssh does)."""
    api = data.get("api")
    held = [f"api.{key}" for key in SECRET_KEYS if isinstance(api, dict) and api.get(key)]
    url = data.get("state_url")
    if isinstance(url, str) and urlsplit(url).password:
        held.append("state_url")
    if not held:
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            _(
                "Config file {path} holds a secret ({key}) but other users can read it "
                "(mode {mode}). Run: chmod 600 {path}"
            ).format(path=path, key=held[0], mode=f"{mode:04o}")
        )


def read_config_file(path: Path | None) -> dict[str, Any]:
    """The config file's tables and settings; ConfigError if it cannot be read, is not TOML,
    shares a secret with other users or names a section or setting we do not know."""
    if path is None:
        return {}
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(_("Config file {path} does not exist.").format(path=path)) from None
    except tomllib.TOMLDecodeError as exc:
        words = _("Config file {path} is not valid TOML: {error}")
        raise ConfigError(words.format(path=path, error=exc)) from None
    check_private(path, data)
    _check_top_level(path, data)
    return data


def configured_language(path: Path) -> str | None:
    """The `lang` a config file names (cy or en), or None; what it means is i18n's to say
    (i18n.resolve_language, where the command line starts)."""
    value = read_config_file(path).get("lang")
    return None if value is None else str(value)


def section(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The table `name` of a config file (empty when absent)."""
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(_("Config file: {section} must be a table.").format(section=f"[{name}]"))
    return value


def _check_top_level(path: Path, data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        if key in SECTIONS or key in TOP_SETTINGS:
            continue
        shown = f"[{key}]" if isinstance(value, dict) else key
        known = [f"[{name}]" for name in SECTIONS] + list(TOP_SETTINGS)
        nearest = difflib.get_close_matches(shown, known, n=1, cutoff=0.6)
        hint = " " + _("Did you mean {name}?").format(name=nearest[0]) if nearest else ""
        words = _(
            "Config file {path}: {key} is not a section or setting we know.{hint} We know {known}."
        )
        raise ConfigError(words.format(path=path, key=shown, hint=hint, known=", ".join(known)))
