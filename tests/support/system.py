"""System programs that some tests drive for real (LibreOffice, Chromium, PostgreSQL).

`make test` installs them with apt when it runs as root on Debian (scripts/system-deps).
Elsewhere a test that needs a missing one is skipped with the command that installs it;
in CI (CI=true) it fails instead, since nothing may skip there.
"""

from __future__ import annotations

import glob
import os
import shutil

import pytest

PACKAGES = {
    "soffice": "libreoffice-calc-nogui",
    "chromium": "chromium",
    "postgres": "postgresql",
}


def find_program(name: str) -> str | None:
    """The program's path, or None. PostgreSQL's server lives off PATH on Debian."""
    found = shutil.which(name)
    if found is None and name in {"postgres", "initdb", "pg_ctl"}:
        candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
        found = candidates[-1] if candidates else None
    return found


def require_program(name: str) -> str:
    """The program's path; otherwise skip (developer machine) or fail (CI) with the fix."""
    found = find_program(name)
    if found is not None:
        return found
    package = PACKAGES.get(name, name)
    advice = (
        f"{name} is not installed: run `sudo apt-get install --no-install-recommends "
        f"{package}` (make test does this itself when run as root on Debian)"
    )
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{advice}; in CI nothing may skip", pytrace=False)
    pytest.skip(advice)
