"""The web page's settings: the [web] table of the config file, with named defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from batch_scheduler.i18n import _
from batch_scheduler.web.pipeline_bridge import ConfigError
from batch_scheduler.web.sso import SECRET_VARIABLE, SsoSettings


@dataclass(frozen=True)
class WebSettings:
    retention_days: int = 30  # uploads and outputs are deleted this long after the upload
    history_days: int = 30  # the History page lists the jobs of this many days
    idle_minutes: int = 30  # a session ends after this long without a request
    session_hours: int = 12  # ... and this long after sign-in, whatever happens
    lockout_failures: int = 5  # wrong passwords in a row before an account is locked
    lockout_minutes: int = 15
    max_upload_mb: int = 200  # also bounded by [intake] max_file_bytes
    secure_cookies: bool | None = None  # None: Secure unless the page listens on loopback
    # single sign-on (sso.py): on when sso_issuer and sso_client_id are set, with the client
    # secret in the environment (BATCH_SCHEDULER_SSO_CLIENT_SECRET)
    sso_issuer: str | None = None
    sso_client_id: str | None = None
    sso_button: str | None = None  # None: "Sign in with single sign-on", in the page's language
    sso_redirect_uri: str | None = None  # behind a proxy: https://.../sign-in/sso/callback


def web_settings(section: dict[str, Any]) -> WebSettings:
    known = {f.name: f for f in fields(WebSettings)}
    values: dict[str, Any] = {}
    for key, value in section.items():
        if key not in known:
            raise ConfigError(_("Config: unknown setting {key}.").format(key=f"web.{key}"))
        if key == "secure_cookies":
            if not isinstance(value, bool):
                raise ConfigError(_("Config: web.secure_cookies must be true or false."))
        elif key.startswith("sso_"):
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(
                    _("Config: {key} must be text, in quotes.").format(key=f"web.{key}")
                )
        elif not isinstance(value, int) or isinstance(value, bool) or value < 1:
            words = _("Config: {key} must be a whole number of at least 1.")
            raise ConfigError(words.format(key=f"web.{key}"))
        values[key] = value
    return WebSettings(**values)


def sso_settings(web: WebSettings, env: Mapping[str, str]) -> SsoSettings | None:
    """Single sign-on's settings, or None when it is not configured."""
    if not web.sso_issuer and not web.sso_client_id:
        return None
    secret = env.get(SECRET_VARIABLE, "")
    if not (web.sso_issuer and web.sso_client_id and secret):
        words = _(
            "Config: single sign-on needs web.sso_issuer, web.sso_client_id and the client "
            "secret in the environment variable {variable}."
        )
        raise ConfigError(words.format(variable=SECRET_VARIABLE))
    return SsoSettings(web.sso_issuer, web.sso_client_id, secret, web.sso_button,
                       web.sso_redirect_uri)  # fmt: skip
