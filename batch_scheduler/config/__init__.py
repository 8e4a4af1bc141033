"""Settings: frozen objects with named defaults, and the one place that loads them.

Precedence: command-line flag > environment variable > config file (TOML) > default.
Secrets come only from the environment or the config file (which must then be readable by
its owner only), never from the command line, and are wrapped in `Secret` so that no repr,
log line or exception shows them. TLS certificates are always verified: there is no setting
to turn that off (a private CA is trusted through SSL_CERT_FILE instead).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from batch_scheduler.config.file import (
    check_private,
    configured_language,
    read_config_file,
    section,
)
from batch_scheduler.errors import ConfigError
from batch_scheduler.i18n import _

PRODUCTION_TOKEN_URL = "https://auth.app.sqod.co.uk/oauth2/token"
DEFAULT_STATE_DIR = Path.home() / ".batch_scheduler"

ENV_BASE_URL = "BATCH_SCHEDULER_BASE_URL"
ENV_TOKEN = "BATCH_SCHEDULER_TOKEN"
ENV_CLIENT_ID = "BATCH_SCHEDULER_CLIENT_ID"
ENV_CLIENT_SECRET = "BATCH_SCHEDULER_CLIENT_SECRET"
ENV_TOKEN_URL = "BATCH_SCHEDULER_TOKEN_URL"
ENV_STATE_DIR = "BATCH_SCHEDULER_STATE_DIR"
ENV_STATE_URL = "BATCH_SCHEDULER_STATE_URL"
ENV_NOW = "BATCH_SCHEDULER_NOW"  # pins "now" (ISO time) for reproducible tests and replays
STATE_URL_SCHEMES = ("postgresql", "postgres")
CHECK_EXISTING = ("auto", "always", "never")


class Secret:
    """A string that never shows itself: repr and str are masked; `reveal()` gives it.

    Plain data: making one changes nothing else. The log mask is given the secrets
    explicitly, where a process starts (Settings.secrets(), logs.SECRETS).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class BodyFormat(StrEnum):
    FORM = "form"  # the vendor's example: x-www-form-urlencoded, claimant[name], 'true'
    JSON = "json"  # the API reference page: nested claimant object, department_id


@dataclass(frozen=True)
class ApiSettings:
    base_url: str
    token: Secret | None = None
    client_id: str | None = None
    client_secret: Secret | None = None
    token_url: str = PRODUCTION_TOKEN_URL
    body_format: BodyFormat = BodyFormat.FORM
    timeout: float = 30.0
    # below uvicorn's and the vendor's 5 s idle timeout, so we never reuse a connection the
    # server is about to close (a POST on such a connection has an unknown outcome)
    keepalive_expiry: float = 2.0
    token_renew_margin: float = 60.0  # renew this many seconds before expiry
    max_connections: int = 64
    # whose connection pool sends (api/wire.py): "aiohttp" (~15x less CPU per request at 64
    # connections) or "httpx". Config file: [api] http_client = "httpx"
    http_client: str = "aiohttp"


@dataclass(frozen=True)
class SendSettings:
    rate: float = 10.0  # requests per second, at most
    concurrency: int = 8  # requests in flight, at most
    max_retries: int = 6  # per row, beyond the first attempt
    row_deadline: float = 300.0  # seconds per row, all attempts included
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    retry_after_floor: float = 1.0  # never wait less than this after a 429, even for "0"
    jitter: bool = True
    drain_timeout: float = 10.0  # on Ctrl-C/SIGTERM, wait this long for requests in flight
    unreachable_after: float = 120.0  # stop the run when no answer has come for this long
    list_per_page: int = 100
    # ask the account before booking references the ledger has never seen (send/existing.py):
    # "auto" when some are unknown, "always" (and re-check known ones), "never" (unsafe
    # against an API that accepts a repeated reference)
    check_existing: str = "auto"
    claim_lease: float = 60.0  # seconds a run's claim on a key lasts unless renewed


@dataclass(frozen=True)
class IntakeSettings:
    timezone: str = "Europe/London"
    default_region: str = "GB"
    default_duration: int = 30
    departments: Mapping[str, int] = field(default_factory=dict)  # name -> id
    defaults: Mapping[str, bool | str] = field(default_factory=dict)  # API option -> value
    max_rows: int = 200_000
    max_file_bytes: int = 200 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    api: ApiSettings | None = None  # None until a command needs the network
    send: SendSettings = field(default_factory=SendSettings)
    intake: IntakeSettings = field(default_factory=IntakeSettings)
    state_dir: Path = DEFAULT_STATE_DIR
    # a shared ledger in PostgreSQL ("postgresql://user:password@host/db"), instead of the
    # SQLite file in state_dir; from the environment or the config file only (it may hold a
    # password), never the command line
    state_url: Secret | None = None

    def secrets(self) -> tuple[str, ...]:
        """The configured secrets, revealed: for the log mask (logs.setup_logging), only.
        A state_url counts whole and by its password (as written and decoded)."""
        api = self.api
        held = (api.token, api.client_secret) if api else ()
        revealed = tuple(secret.reveal() for secret in held if secret is not None)
        return revealed + tuple(state_url_secrets(self.state_url))


def pinned_now(env: Mapping[str, str] | None = None) -> datetime | None:
    """The time BATCH_SCHEDULER_NOW pins (UTC when it names no zone), or None when unset.

    Raises ConfigError when it is not an ISO date-time (the commands make that a usage error).
    """
    text = (os.environ if env is None else env).get(ENV_NOW)
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        words = _("{name} must be an ISO date-time, not {text}.")
        raise ConfigError(words.format(name=ENV_NOW, text=repr(text))) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """A base URL must be http(s) with a host, and https unless it is loopback.

    It must not carry credentials (user:password@, ?key=...): the URL is shown in messages,
    the Summary and the ledger. Messages show only the scheme and host, never the rest.
    """
    parts = urlsplit(url)
    shown = f"{parts.scheme}://{parts.hostname}" if parts.hostname else _("given")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            _("The base URL {url} is not an http(s) URL with a host.").format(url=shown)
        )
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise ConfigError(
            _(
                "The base URL {url} carries a user name, password, query or fragment: give "
                "only scheme, host and path. Credentials go in BATCH_SCHEDULER_TOKEN, or "
                "BATCH_SCHEDULER_CLIENT_ID and BATCH_SCHEDULER_CLIENT_SECRET."
            ).format(url=shown)
        )
    if parts.scheme == "http" and not is_loopback_url(url):
        raise ConfigError(
            _(
                "The base URL {url} is plain http: credentials and personal data would travel "
                "unencrypted. Use https (plain http is allowed only on loopback, for the "
                "sandbox)."
            ).format(url=shown)
        )
    return url.rstrip("/")


def state_url_secrets(url: Secret | None) -> list[str]:
    """What of a state_url must never be shown: its password (as written and decoded), and
    the whole URL."""
    if url is None:
        return []
    text = url.reveal()
    password = urlsplit(text).password
    return [text, *([password, unquote(password)] if password else [])]


def check_state_url(url: str) -> Secret:
    """A shared ledger's URL: postgresql://[user[:password]@]host[:port]/database. Messages
    show only the host, port and database, never the password."""
    parts = urlsplit(url)
    if parts.scheme not in STATE_URL_SCHEMES:
        words = _(
            "state_url must be a PostgreSQL URL (postgresql://user@host/database), not a "
            "{scheme} one. Leave it unset to keep the ledger in the state directory."
        )
        raise ConfigError(words.format(scheme=parts.scheme or _("plain")))
    if not parts.path.strip("/") and "dbname=" not in parts.query:
        words = _(
            "state_url names no database ({example}): add the database's name after the host."
        )
        raise ConfigError(words.format(example=f"postgresql://{parts.hostname or ''}/..."))
    return Secret(url)


def _typed(cls: type, values: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Keep the keys `cls` knows, coerced to the default's type; unknown keys are an error."""
    known = {f.name: f for f in fields(cls)}
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if key not in known:
            raise ConfigError(_("Config: unknown setting {key}.").format(key=f"{where}.{key}"))
        out[key] = value
    return out


def load_settings(
    *,
    config_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    need_api: bool = False,
) -> Settings:
    """Build Settings from defaults, a TOML file, the environment and flag overrides.

    `overrides` maps a section ("api", "send", "intake", "root") to the values given as
    command-line flags (None values are ignored, so unset flags fall through).
    """
    env = os.environ if env is None else env
    overrides = overrides or {}
    data = read_config_file(config_path)

    send_values = _typed(SendSettings, section(data, "send"), "send")
    send_values |= _typed(SendSettings, overrides.get("send", {}), "send")
    intake_values = _typed(IntakeSettings, section(data, "intake"), "intake")
    intake_values["departments"] = _departments(section(data, "departments"))
    intake_values["defaults"] = dict(section(data, "defaults"))
    intake_values |= _typed(IntakeSettings, overrides.get("intake", {}), "intake")

    root = dict(overrides.get("root", {}))
    state_dir = root.get("state_dir") or env.get(ENV_STATE_DIR) or data.get("state_dir")
    state_url = env.get(ENV_STATE_URL) or data.get("state_url")
    try:
        ZoneInfo(str(intake_values.get("timezone", IntakeSettings.timezone)))
    except (ZoneInfoNotFoundError, ValueError):
        zone = repr(intake_values.get("timezone"))
        raise ConfigError(_("Unknown time zone {zone}.").format(zone=zone)) from None

    settings = Settings(
        send=SendSettings(**send_values),
        intake=IntakeSettings(**intake_values),
        state_dir=Path(state_dir).expanduser() if state_dir else DEFAULT_STATE_DIR,
        state_url=check_state_url(str(state_url)) if state_url else None,
    )
    _check_send(settings.send)
    if need_api:
        api = _api_settings(section(data, "api"), env, overrides.get("api", {}))
        settings = replace(settings, api=api)
    return settings


def _departments(section: Mapping[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for name, value in section.items():
        if not isinstance(value, int) or isinstance(value, bool):
            words = _("Config: department {name} must map to a whole-number id.")
            raise ConfigError(words.format(name=repr(name)))
        out[str(name)] = value
    return out


def _check_send(send: SendSettings) -> None:
    if send.rate <= 0:
        raise ConfigError(_("--rate must be above 0 requests per second."))
    if send.concurrency < 1:
        raise ConfigError(_("--concurrency must be at least 1."))
    if send.unreachable_after <= 0:
        raise ConfigError(_("send.unreachable_after must be a positive number of seconds."))
    if send.max_retries < 0:
        raise ConfigError(_("--max-retries cannot be negative."))
    if send.check_existing not in CHECK_EXISTING:
        raise ConfigError(
            _("send.check_existing must be one of {names}, not {value}.").format(
                names=", ".join(CHECK_EXISTING), value=repr(send.check_existing)
            )
        )
    if send.claim_lease < 1:
        raise ConfigError(_("send.claim_lease must be at least 1 second."))


def _api_settings(
    section: Mapping[str, Any], env: Mapping[str, str], flags: Mapping[str, Any]
) -> ApiSettings:
    section = dict(section)
    if "verify_tls" in section:
        raise ConfigError(
            _(
                "Config: api.verify_tls is not a setting: TLS certificates are always verified. "
                "To trust a private certificate authority, set SSL_CERT_FILE to its PEM bundle."
            )
        )
    base_url = flags.get("base_url") or env.get(ENV_BASE_URL) or section.pop("base_url", None)
    section.pop("base_url", None)
    if not base_url:
        raise ConfigError(
            _(
                "No base URL: give --base-url, set {variable}, or put base_url under [api] in "
                "the config file."
            ).format(variable=ENV_BASE_URL)
        )
    token = env.get(ENV_TOKEN) or section.pop("token", None)
    section.pop("token", None)
    client_id = env.get(ENV_CLIENT_ID) or section.pop("client_id", None)
    section.pop("client_id", None)
    secret = env.get(ENV_CLIENT_SECRET) or section.pop("client_secret", None)
    section.pop("client_secret", None)
    token_url = env.get(ENV_TOKEN_URL) or section.pop("token_url", None) or PRODUCTION_TOKEN_URL
    section.pop("token_url", None)
    if not token and not (client_id and secret):
        raise ConfigError(
            _(
                "No credentials: set {token}, or {client_id} and {client_secret} (or put them "
                "under [api] in the config file). Secrets are never taken from the command "
                "line."
            ).format(token=ENV_TOKEN, client_id=ENV_CLIENT_ID, client_secret=ENV_CLIENT_SECRET)
        )
    values = _typed(ApiSettings, section, "api") | _typed(ApiSettings, flags, "api")
    values.pop("base_url", None)
    if "body_format" in values:
        try:
            values["body_format"] = BodyFormat(values["body_format"])
        except ValueError:
            raise ConfigError(_("api.body_format must be 'form' or 'json'.")) from None
    return ApiSettings(
        base_url=check_base_url(str(base_url)),
        token=Secret(token) if token else None,
        client_id=client_id,
        client_secret=Secret(secret) if secret else None,
        token_url=token_url if is_loopback_url(token_url) else check_base_url(token_url),
        **values,
    )


__all__ = [
    "CHECK_EXISTING",
    "DEFAULT_STATE_DIR",
    "ENV_BASE_URL",
    "ENV_CLIENT_ID",
    "ENV_CLIENT_SECRET",
    "ENV_NOW",
    "ENV_STATE_DIR",
    "ENV_STATE_URL",
    "ENV_TOKEN",
    "ENV_TOKEN_URL",
    "PRODUCTION_TOKEN_URL",
    "ApiSettings",
    "BodyFormat",
    "IntakeSettings",
    "Secret",
    "SendSettings",
    "Settings",
    "check_base_url",
    "check_private",
    "check_state_url",
    "configured_language",
    "is_loopback_url",
    "load_settings",
    "pinned_now",
    "read_config_file",
    "state_url_secrets",
]
