"""The sandbox's knobs: one frozen object, replaced (never mutated) when reconfigured."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from batch_scheduler.i18n import _

DEFAULT_DEPARTMENTS: Mapping[int, str] = {1: "Benefits", 2: "Housing", 3: "Employment support"}
DUPLICATE_MODES = ("reject", "allow")
_RATES = ("error_rate", "drop_rate", "throttle_rate", "spike_rate")
_SECONDS = ("latency", "latency_jitter", "token_lifetime", "spike_delay")
_COUNTS = ("throttle_retry_after", "burst_start", "burst_length", "revoke_tokens_at")


def _default_departments() -> Mapping[int, str]:
    return dict(DEFAULT_DEPARTMENTS)


@dataclass(frozen=True)
class SandboxConfig:
    """Everything the sandbox can be told: credentials, limits and seeded faults.

    Rates are fractions in [0, 1]; times are seconds. Faults are decided per request from a
    hash of (seed, fault kind, request key, occurrence), so the same seed gives the same
    faults whatever order concurrent requests arrive in.

    latency, latency_jitter: every API call waits latency + up to latency_jitter (seeded)
        before anything happens.
    rate_limit: requests per second per token; beyond it 429 with Retry-After (>= 1 s).
    error_rate, error_statuses: a fraction of calls answered with one of these 5xx; nothing
        changes.
    drop_rate: a fraction of creates and cancels stored, then the connection is closed with
        no answer.
    throttle_rate, throttle_retry_after: a fraction of calls answered 429 with this
        Retry-After (default 0, the storm a client must not answer with a busy loop).
    spike_rate, spike_delay: a fraction of calls do their work (the create or cancel is
        stored) and only then wait spike_delay before answering: past a client's timeout
        the outcome is unknown although the change was made.
    burst_start, burst_length, burst_status: API calls number burst_start to
        burst_start + burst_length - 1 (1-based, counted in arrival order since start or
        reset) are answered burst_status (a 5xx, or 429 with Retry-After: 0), or when it
        is None one of error_statuses (seeded); nothing changes. burst_start 0: no burst.
    revoke_tokens_at: when API call number N arrives, every token issued so far and the
        static token stop working (401); tokens issued later work. Give a new static_token
        with reconfigure() to let a static-token client in again. 0 means never.
    token_lifetime: seconds an issued token lives (short: tokens expire mid-run).
    duplicate_references: "reject" (422, as the real API) or "allow" (a second
        appointment: the mode in which a client's own exactly-once shows).
    The server going away (connection refused) is not a knob: see
    RunningSandbox.stop_listening() and resume().
    """

    seed: int = 0
    client_id: str = "sandbox-client"
    client_secret: str = field(default="sandbox-secret", repr=False)
    static_token: str = field(default="sandbox-token", repr=False)
    token_lifetime: float = 3600.0
    underprivileged_tokens: frozenset[str] = field(default=frozenset(), repr=False)
    departments: Mapping[int, str] = field(default_factory=_default_departments)
    latency: float = 0.0
    latency_jitter: float = 0.0
    rate_limit: float | None = None
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503, 504)
    drop_rate: float = 0.0
    throttle_rate: float = 0.0
    throttle_retry_after: int = 0
    spike_rate: float = 0.0
    spike_delay: float = 0.0
    burst_start: int = 0
    burst_length: int = 0
    burst_status: int | None = None
    revoke_tokens_at: int = 0
    duplicate_references: str = "reject"
    per_page_default: int = 15
    per_page_max: int = 100

    def __post_init__(self) -> None:
        _check(self)


def _check(config: SandboxConfig) -> None:
    """Refuse knob values that would make the sandbox misbehave silently."""
    for name in _RATES:
        value = getattr(config, name)
        if not 0.0 <= value <= 1.0:
            raise ValueError(
                _("{name} must be between 0 and 1, not {value}").format(
                    name=name, value=repr(value)
                )
            )
    for name in (*_SECONDS, *_COUNTS):
        if getattr(config, name) < 0:
            raise ValueError(_("{name} must not be negative").format(name=name))
    if config.rate_limit is not None and config.rate_limit <= 0:
        raise ValueError(_("rate_limit must be positive (or None for no limit)"))
    if config.duplicate_references not in DUPLICATE_MODES:
        raise ValueError(_("duplicate_references must be 'reject' or 'allow'"))
    if not config.error_statuses or any(not 500 <= s <= 599 for s in config.error_statuses):
        raise ValueError(_("error_statuses must be a non-empty list of 5xx codes"))
    status = config.burst_status
    if status is not None and status != 429 and not 500 <= status <= 599:
        raise ValueError(_("burst_status must be 429 or a 5xx code"))
    if not 1 <= config.per_page_default <= config.per_page_max:
        raise ValueError(_("per_page_default must be between 1 and per_page_max"))


def _coerce(name: str, value: Any) -> Any:
    """Turn JSON-shaped knob values (lists, string keys) into the config's types."""
    if name == "underprivileged_tokens":
        return frozenset(str(v) for v in value)
    if name == "error_statuses":
        return tuple(int(v) for v in value)
    if name == "departments":
        return {int(k): str(v) for k, v in dict(value).items()}
    if name == "burst_status":
        return None if value is None else int(value)
    if name in ("seed", "per_page_default", "per_page_max", *_COUNTS):
        return int(value)
    if name == "rate_limit":
        return None if value is None else float(value)
    if name in (*_SECONDS, *_RATES):
        return float(value)
    return value


def with_changes(config: SandboxConfig, changes: Mapping[str, Any]) -> SandboxConfig:
    """A new config with `changes` applied; unknown knob names raise ValueError."""
    known = {f.name for f in fields(SandboxConfig)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ValueError(_("unknown sandbox setting(s): {names}").format(names=", ".join(unknown)))
    return replace(config, **{k: _coerce(k, v) for k, v in changes.items()})


def public_view(config: SandboxConfig) -> dict[str, Any]:
    """The config as JSON, without the credentials."""
    hidden = {"client_secret", "static_token", "underprivileged_tokens"}
    out: dict[str, Any] = {}
    for f in fields(SandboxConfig):
        if f.name in hidden:
            continue
        value = getattr(config, f.name)
        if f.name == "departments":
            value = {str(k): v for k, v in value.items()}
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out
