"""config.load_settings: every setting from the one place, in one order of precedence:
command-line flag > environment variable > config file (TOML) > default. Secrets come only
from the environment or a config file its owner alone can read; a file we cannot use, or a
setting we do not know, stops the run with a message that says which and what to do."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
import pytest

from batch_scheduler.cli import cli
from batch_scheduler.config import (
    DEFAULT_STATE_DIR,
    PRODUCTION_TOKEN_URL,
    ApiSettings,
    IntakeSettings,
    Secret,
    SendSettings,
    Settings,
    load_settings,
    pinned_now,
)
from batch_scheduler.errors import ConfigError

BASE = "https://api.example.com"
CREDENTIALS = {"BATCH_SCHEDULER_TOKEN": "env-token-1234"}


def load(
    tmp_path: Path,
    toml: str = "",
    *,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Mapping[str, Any]] | None = None,
    need_api: bool = False,
    mode: int = 0o600,
) -> Settings:
    """Settings from a config file holding `toml` (none when empty), `env` and `flags`."""
    path = None
    if toml:
        path = tmp_path / "config.toml"
        path.write_text(toml)
        path.chmod(mode)
    return load_settings(config_path=path, env=env or {}, overrides=flags, need_api=need_api)


def setting(settings: Settings, section: str, key: str) -> Any:
    holder = settings if section == "root" else getattr(settings, section)
    value = getattr(holder, key)
    return value.reveal() if isinstance(value, Secret) else value


# ---------------------------------------------------------------- precedence

# (section, key, flag: settable on the command line?, environment variable or None,
#  file value, a value for the other layers, the default or None: no default)
LAYERED: list[tuple[str, str, bool, str | None, Any, Any, Any]] = [
    ("api", "base_url", True, "BATCH_SCHEDULER_BASE_URL", "https://file.example.com",
     "https://other.example.com", None),
    ("api", "token", False, "BATCH_SCHEDULER_TOKEN", "file-token-5678", "env-token-1234", None),
    ("api", "token_url", False, "BATCH_SCHEDULER_TOKEN_URL", "https://auth.example.com/t",
     "https://auth2.example.com/t", PRODUCTION_TOKEN_URL),
    ("api", "timeout", True, None, 12.0, 7.0, ApiSettings.timeout),
    ("api", "keepalive_expiry", False, None, 1.5, None, ApiSettings.keepalive_expiry),
    ("api", "token_renew_margin", False, None, 30.0, None, ApiSettings.token_renew_margin),
    ("api", "max_connections", False, None, 16, None, ApiSettings.max_connections),
    ("api", "http_client", False, None, "httpx", None, ApiSettings.http_client),
    ("send", "rate", True, None, 4.0, 2.5, SendSettings.rate),
    ("send", "concurrency", True, None, 3, 5, SendSettings.concurrency),
    ("send", "max_retries", True, None, 2, 9, SendSettings.max_retries),
    ("send", "row_deadline", False, None, 60.0, None, SendSettings.row_deadline),
    ("send", "backoff_initial", False, None, 0.1, None, SendSettings.backoff_initial),
    ("send", "backoff_max", False, None, 5.0, None, SendSettings.backoff_max),
    ("send", "retry_after_floor", False, None, 2.0, None, SendSettings.retry_after_floor),
    ("send", "jitter", False, None, False, None, SendSettings.jitter),
    ("send", "drain_timeout", False, None, 3.0, None, SendSettings.drain_timeout),
    ("send", "unreachable_after", False, None, 30.0, None, SendSettings.unreachable_after),
    ("send", "list_per_page", False, None, 50, None, SendSettings.list_per_page),
    ("intake", "timezone", True, None, "Europe/Dublin", "Europe/Paris", IntakeSettings.timezone),
    ("intake", "default_region", False, None, "IE", None, IntakeSettings.default_region),
    ("intake", "default_duration", False, None, 45, None, IntakeSettings.default_duration),
    ("intake", "max_rows", False, None, 1000, None, IntakeSettings.max_rows),
    ("intake", "max_file_bytes", False, None, 10_000, None, IntakeSettings.max_file_bytes),
]  # fmt: skip


def _toml(section: str, key: str, value: Any) -> str:
    literal = repr(value).lower() if isinstance(value, bool) else repr(value).replace("'", '"')
    if section == "root":
        return f"{key} = {literal}\n"
    return f"[{section}]\n{key} = {literal}\n"


def _base_toml(section: str, key: str) -> str:
    """What the API section needs besides the setting under test (as little as possible)."""
    if section != "api" or key == "base_url":
        return ""
    return f'base_url = "{BASE}"\n'


def _file(section: str, key: str, value: Any) -> str:
    text = _toml(section, key, value)
    base = _base_toml(section, key)
    return text + base if section == "api" else text


def _env(section: str, key: str) -> dict[str, str]:
    """Credentials for the API (unless the token is the setting under test)."""
    return {} if (section, key) == ("api", "token") else dict(CREDENTIALS)


@pytest.mark.parametrize(("section", "key", "flag", "var", "in_file", "other", "default"),
                         LAYERED, ids=[f"{s}.{k}" for s, k, *_ in LAYERED])  # fmt: skip
def test_each_setting_takes_the_highest_layer_given(
    tmp_path: Path,
    section: str,
    key: str,
    flag: bool,
    var: str | None,
    in_file: Any,
    other: Any,
    default: Any,
) -> None:
    need_api = section == "api"
    env = _env(section, key)
    base = {"BATCH_SCHEDULER_BASE_URL": BASE} if need_api and key != "base_url" else {}

    from_file = load(tmp_path, _file(section, key, in_file), env=env | base, need_api=need_api)
    assert setting(from_file, section, key) == in_file

    if var is not None:
        from_env = load(tmp_path, _file(section, key, in_file), env=env | base | {var: other},
                        need_api=need_api)  # fmt: skip
        assert setting(from_env, section, key) == other  # env beats the file
    if flag:
        flags = {section: {key: other}}
        higher = {var: "https://env.example.com"} if var else {}
        from_flag = load(tmp_path, _file(section, key, in_file), env=env | base | higher,
                         flags=flags, need_api=need_api)  # fmt: skip
        assert setting(from_flag, section, key) == other  # the flag beats env and file
    if default is not None:
        plain = load(tmp_path, _base_toml(section, key) and f"[api]\n{_base_toml(section, key)}",
                     env=env | base, need_api=need_api)  # fmt: skip
        assert setting(plain, section, key) == default


def test_the_state_directory_flag_beats_env_beats_file_beats_default(tmp_path: Path) -> None:
    file = f'state_dir = "{tmp_path / "from-file"}"\n'
    env = {"BATCH_SCHEDULER_STATE_DIR": str(tmp_path / "from-env")}
    flags = {"root": {"state_dir": tmp_path / "from-flag"}}

    assert load(tmp_path, file, env=env, flags=flags).state_dir == tmp_path / "from-flag"
    assert load(tmp_path, file, env=env).state_dir == tmp_path / "from-env"
    assert load(tmp_path, file).state_dir == tmp_path / "from-file"
    assert load(tmp_path).state_dir == DEFAULT_STATE_DIR


def test_client_credentials_come_from_env_before_the_file(tmp_path: Path) -> None:
    file = f'[api]\nbase_url = "{BASE}"\nclient_id = "file-id"\nclient_secret = "file-secret-1"\n'
    env = {"BATCH_SCHEDULER_CLIENT_ID": "env-id", "BATCH_SCHEDULER_CLIENT_SECRET": "env-secret-2"}

    from_env = load(tmp_path, file, env=env, need_api=True).api
    from_file = load(tmp_path, file, need_api=True).api

    assert from_env is not None and from_file is not None
    assert (from_env.client_id, from_env.client_secret) == ("env-id", Secret("env-secret-2"))
    assert (from_file.client_id, from_file.client_secret) == ("file-id", Secret("file-secret-1"))


def test_departments_and_api_defaults_come_from_the_file(tmp_path: Path) -> None:
    file = '[departments]\n"Benefits" = 1\n\n[defaults]\nis_recording_enabled = true\n'

    intake = load(tmp_path, file).intake

    assert intake.departments == {"Benefits": 1} and intake.defaults == {
        "is_recording_enabled": True
    }
    assert load(tmp_path).intake.departments == {}


def test_without_api_settings_a_run_that_sends_nothing_still_loads(tmp_path: Path) -> None:
    assert load(tmp_path).api is None
    with pytest.raises(ConfigError, match="No base URL: give --base-url"):
        load(tmp_path, need_api=True, env=CREDENTIALS)


# ---------------------------------------------------------------- secrets


def test_no_command_takes_a_secret_on_the_command_line() -> None:
    """Process lists and shell history would show it: credentials are env or file only.
    (The sandbox's own stand-in token, --static-token, is no credential of anyone's.)"""

    def options(command: click.Command) -> list[str]:
        found = [opt for p in command.params for opt in p.opts]
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                found += options(sub) if name != "sandbox" else []
        return found

    named = [o for o in options(cli) if any(w in o for w in ("token", "secret", "client"))]
    assert named == []


def test_credentials_are_asked_for_where_they_may_come_from(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, f'[api]\nbase_url = "{BASE}"\n', need_api=True)
    assert caught.value.message == (
        "No credentials: set BATCH_SCHEDULER_TOKEN, or BATCH_SCHEDULER_CLIENT_ID and "
        "BATCH_SCHEDULER_CLIENT_SECRET (or put them under [api] in the config file). Secrets "
        "are never taken from the command line."
    )


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
@pytest.mark.parametrize("key", ["token", "client_secret"])
def test_a_file_holding_a_secret_that_others_can_read_is_refused(
    tmp_path: Path, mode: int, key: str
) -> None:
    file = f'[api]\nbase_url = "{BASE}"\n{key} = "from-a-shared-file"\n'

    with pytest.raises(ConfigError, match=f"holds a secret \\(api.{key}\\)") as caught:
        load(tmp_path, file, need_api=True, mode=mode)

    assert f"(mode {mode:04o}). Run: chmod 600" in caught.value.message
    assert "from-a-shared-file" not in caught.value.message


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_a_file_holding_a_secret_only_its_owner_reads_is_used(tmp_path: Path, mode: int) -> None:
    file = f'[api]\nbase_url = "{BASE}"\ntoken = "from-a-private-file"\n'

    api = load(tmp_path, file, need_api=True, mode=mode).api

    assert api is not None and api.token == Secret("from-a-private-file")
    assert "from-a-private-file" not in repr(api)


def test_a_readable_file_without_secrets_is_fine(tmp_path: Path) -> None:
    assert load(tmp_path, "[send]\nrate = 3.0\n", mode=0o644).send.rate == 3.0


def test_the_configured_secrets_are_named_for_the_log_mask(tmp_path: Path) -> None:
    env = CREDENTIALS | {
        "BATCH_SCHEDULER_BASE_URL": BASE,
        "BATCH_SCHEDULER_CLIENT_ID": "id",
        "BATCH_SCHEDULER_CLIENT_SECRET": "s3cret-99",
    }

    assert load(tmp_path, env=env, need_api=True).secrets() == ("env-token-1234", "s3cret-99")
    assert load(tmp_path).secrets() == ()


# ---------------------------------------------------------------- files and keys we cannot use


def test_a_file_that_is_not_toml_says_where(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"is not valid TOML: .*line 2"):
        load(tmp_path, "[send]\nrate = = 3\n")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.toml does not exist"):
        load_settings(config_path=tmp_path / "missing.toml", env={})


@pytest.mark.parametrize(
    ("toml", "said"),
    [
        ("[send]\nrat = 3\n", "Config: unknown setting send.rat."),
        ("[sendd]\nrate = 3\n", "[sendd] is not a section or setting we know. Did you mean [send]?"),  # noqa: E501
        ("state_dri = 'x'\n", "state_dri is not a section or setting we know. Did you mean state_dir?"),  # noqa: E501
        ("[retries]\nmax = 3\n", "[retries] is not a section or setting we know. We know [api],"),
        ("state_url = 'mysql://h/db'\n", "state_url must be a PostgreSQL URL"),
        ("state_url = 'postgresql://h'\n", "state_url names no database (postgresql://h/...)"),
        ("[intake]\ntimezone_name = 'UTC'\n", "Config: unknown setting intake.timezone_name."),
        (f'[api]\nbase_url = "{BASE}"\nretries = 3\n', "Config: unknown setting api.retries."),
        ("send = 3\n", "Config file: [send] must be a table."),
        ("[departments]\nBenefits = 'one'\n", "Config: department 'Benefits' must map to a whole-number id."),  # noqa: E501
        (f'[api]\nbase_url = "{BASE}"\nverify_tls = false\n', "certificates are always verified"),
        ("[intake]\ntimezone = 'Mars/Olympus'\n", "Unknown time zone 'Mars/Olympus'."),
        ("[send]\nrate = 0\n", "--rate must be above 0 requests per second."),
        ("[send]\nconcurrency = 0\n", "--concurrency must be at least 1."),
        ("[send]\nmax_retries = -1\n", "--max-retries cannot be negative."),
        ("[send]\nunreachable_after = 0\n", "send.unreachable_after must be a positive number"),
        (f'[api]\nbase_url = "{BASE}"\nbody_format = "xml"\n', "api.body_format must be 'form' or 'json'."),  # noqa: E501
    ],
)  # fmt: skip
def test_a_setting_we_cannot_use_stops_with_what_to_fix(
    tmp_path: Path, toml: str, said: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, toml, env=CREDENTIALS, need_api="[api]" in toml)
    assert said in caught.value.message


def test_every_section_and_top_setting_we_document_is_known(tmp_path: Path) -> None:
    toml = (
        'lang = "en"\nstate_dir = "st"\n[send]\n[intake]\n[departments]\n[defaults]\n'
        f'[web]\n[api]\nbase_url = "{BASE}"\n'
    )
    assert load(tmp_path, toml, env=CREDENTIALS, need_api=True).state_dir == Path("st")


# ---------------------------------------------------------------- the pinned clock


def test_the_pinned_clock_is_read_from_the_environment() -> None:
    assert pinned_now({}) is None and pinned_now({"BATCH_SCHEDULER_NOW": ""}) is None
    naive = pinned_now({"BATCH_SCHEDULER_NOW": "2026-11-25T09:00:00"})
    zoned = pinned_now({"BATCH_SCHEDULER_NOW": "2026-11-25T09:00:00+01:00"})
    assert naive is not None and naive.isoformat() == "2026-11-25T09:00:00+00:00"
    assert zoned is not None and zoned.isoformat() == "2026-11-25T09:00:00+01:00"
    with pytest.raises(ConfigError, match="must be an ISO date-time, not 'soon'"):
        pinned_now({"BATCH_SCHEDULER_NOW": "soon"})
