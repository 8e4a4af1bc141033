"""The shipped samples as sample_data/README.md documents them: the one parser of its table
of deliberate mistakes, the config and the clock they are made for. Every test that checks a
shipped sample (the CLI's, the web page's) takes what to expect from here, so a change to the
samples and their README reaches them all."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, time
from pathlib import Path

from batch_scheduler.config import Settings, load_settings
from batch_scheduler.demo import CONFIG_NAME
from batch_scheduler.demo.samples import SHIPPED_TODAY
from batch_scheduler.issues import CODES
from batch_scheduler.models import Severity

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_data"
SAMPLE_CONFIG = SAMPLES / CONFIG_NAME  # the departments the sheets name: give it to every run
# "now" on the day the shipped samples were made: their past row has passed, no slot has
MADE_NOW = datetime.combine(SHIPPED_TODAY, time(12), tzinfo=UTC)

Where = tuple[str, int | None, str]  # (sheet, Excel row or None for the header, issue code)

_TABLE_ROW = re.compile(r"^\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*`([a-z-]+)`\s*\|")
_WHERE = re.compile(r"^(?:(\w+) )?(?:row (\d+)|header)$")


def documented(name: str) -> set[Where]:
    """The issues sample_data/README.md's table lists for the file `name`."""
    found: set[Where] = set()
    for line in (SAMPLES / "README.md").read_text(encoding="utf-8").splitlines():
        match = _TABLE_ROW.match(line)
        if match and name in [f.strip() for f in match[1].split(",")]:
            where = _WHERE.match(match[2])
            assert where, f"cannot read where in: {line}"
            found.add((where[1] or "", int(where[2]) if where[2] else None, match[3]))
    return found


def documented_codes(name: str) -> dict[str, int]:
    """How many times each issue code is documented for `name` (what `validate` counts)."""
    return dict(Counter(code for _, _, code in documented(name)))


def documented_invalid_rows(name: str) -> set[int]:
    """The Excel rows of `name` with a documented error (rows that are not sent)."""
    return {
        row
        for _, row, code in documented(name)
        if row is not None and CODES[code].severity is Severity.ERROR
    }


def sample_settings() -> Settings:
    """The settings the samples are documented with: `--config sample-config.toml` (and
    nothing from this shell's environment)."""
    return load_settings(config_path=SAMPLE_CONFIG, env={})
