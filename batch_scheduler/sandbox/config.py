"""The sandbox's knobs: one frozen object, replaced (never mutated) when reconfigured."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

DEFAULT_DEPARTMENTS: Mapping[int, str] = {1: "Benefits", 2: "Housing", 3: "Employment support"}
DUPLICATE_MODES = ("reject", "allow")


def _default_departments() -> Mapping[int, str]:
    return dict(DEFAULT_DEPARTMENTS)


@dataclass(frozen=True)
class SandboxConfig:
    """Everything the sandbox can be told: credentials, limits and seeded faults.

    Rates are fractions in [0, 1]; times are seconds. Faults are decided per request from a
    hash of (seed, fault kind, request key, occurrence), so the same seed gives the same
    faults whatever order concurrent requests arrive in.
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
    duplicate_references: str = "reject"
    per_page_default: int = 15
    per_page_max: int = 100

    def __post_init__(self) -> None:
        _check(self)


def _check(config: SandboxConfig) -> None:
    """Refuse knob values that would make the sandbox misbehave silently."""
    for name in ("error_rate", "drop_rate"):
        value = getattr(config, name)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, not {value!r}")
    for name in ("latency", "latency_jitter", "token_lifetime"):
        if getattr(config, name) < 0:
            raise ValueError(f"{name} must not be negative")
    if config.rate_limit is not None and config.rate_limit <= 0:
        raise ValueError("rate_limit must be positive (or None for no limit)")
    if config.duplicate_references not in DUPLICATE_MODES:
        raise ValueError("duplicate_references must be 'reject' or 'allow'")
    if not config.error_statuses or any(not 500 <= s <= 599 for s in config.error_statuses):
        raise ValueError("error_statuses must be a non-empty list of 5xx codes")
    if not 1 <= config.per_page_default <= config.per_page_max:
        raise ValueError("per_page_default must be between 1 and per_page_max")


def _coerce(name: str, value: Any) -> Any:
    """Turn JSON-shaped knob values (lists, string keys) into the config's types."""
    if name == "underprivileged_tokens":
        return frozenset(str(v) for v in value)
    if name == "error_statuses":
        return tuple(int(v) for v in value)
    if name == "departments":
        return {int(k): str(v) for k, v in dict(value).items()}
    if name in ("seed", "per_page_default", "per_page_max"):
        return int(value)
    if name == "rate_limit":
        return None if value is None else float(value)
    if name in ("latency", "latency_jitter", "error_rate", "drop_rate", "token_lifetime"):
        return float(value)
    return value


def with_changes(config: SandboxConfig, changes: Mapping[str, Any]) -> SandboxConfig:
    """A new config with `changes` applied; unknown knob names raise ValueError."""
    known = {f.name for f in fields(SandboxConfig)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ValueError(f"unknown sandbox setting(s): {', '.join(unknown)}")
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
