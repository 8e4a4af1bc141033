"""What an issue code is: a stable code, a severity and a message template (see __init__)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from batch_scheduler.models import Severity


@dataclass(frozen=True)
class Code:
    """A code with its English template; placeholders left out read as `defaults`."""

    code: str
    severity: Severity
    template: str
    defaults: Mapping[str, str] = field(default_factory=dict)  # placeholders left out


E = Severity.ERROR
W = Severity.WARNING
