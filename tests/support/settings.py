"""Settings for a library call in a test, loaded the way the CLI loads them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from batch_scheduler.config import Settings, load_settings

DEPARTMENTS = "[departments]\nBenefits = 1\n"


def run_settings(
    folder: Path,
    base_url: str,
    config: str = DEPARTMENTS,
    *,
    api: Mapping[str, Any] | None = None,
    send: Mapping[str, Any] | None = None,
) -> Settings:
    """`config` written to folder/config.toml, the sandbox's static token, the state directory
    folder/state, and `api` and `send` given as the command-line flags would give them."""
    (folder / "config.toml").write_text(config)
    return load_settings(
        config_path=folder / "config.toml",
        env={"BATCH_SCHEDULER_TOKEN": "sandbox-token"},
        overrides={
            "api": {"base_url": base_url, **(api or {})},
            "send": dict(send or {}),
            "root": {"state_dir": folder / "state"},
        },
        need_api=True,
    )
