"""Each job's files, in state_dir/web/jobs/<id>/ (0700), every file 0600: uploads and outputs
hold names, dates of birth and phone numbers. Deleted after the retention period, or at once
from the job's page; the job's counts and audit trail stay.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from batch_scheduler.i18n import lazy_gettext
from batch_scheduler.web.db import make_private_dir

ALLOWED_SUFFIXES = (".xlsx", ".csv")


@dataclass(frozen=True)
class Download:
    """A file a job may offer: its name in the folder, the name it is downloaded as, a label."""

    name: str
    media_type: str
    label: object  # a lazy string


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOWNLOADS = {
    d.name: d
    for d in (
        Download(
            "report.xlsx", XLSX, lazy_gettext("Check report (every problem, by row and cell)")
        ),
        Download("plan.xlsx", XLSX, lazy_gettext("Allocation plan")),
        Download("results.xlsx", XLSX, lazy_gettext("Results workbook")),
        Download("summary.json", "application/json", lazy_gettext("Summary (JSON)")),
        Download(
            "fix.xlsx", XLSX, lazy_gettext("Failed and invalid rows only, to fix and upload again")
        ),
    )
}


class JobFiles:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        make_private_dir(self.root)

    def folder(self, job_id: int) -> Path:
        return self.root / str(int(job_id))

    def path(self, job_id: int, name: str) -> Path:
        return self.folder(job_id) / name

    def save(self, job_id: int, name: str, data: bytes) -> Path:
        """Write a file only its owner can read, in the job's private folder."""
        folder = self.folder(job_id)
        make_private_dir(folder)
        path = folder / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(path, 0o600)
        return path

    def copy_in(self, job_id: int, name: str, source: Path) -> Path:
        return self.save(job_id, name, source.read_bytes())

    def make_private(self, job_id: int) -> None:
        """Narrow every file the library wrote in the folder to 0600."""
        folder = self.folder(job_id)
        if folder.is_dir():
            for path in folder.iterdir():
                if path.is_file():
                    os.chmod(path, 0o600)

    def available(self, job_id: int) -> list[Download]:
        folder = self.folder(job_id)
        return [d for name, d in DOWNLOADS.items() if (folder / name).is_file()]

    def delete(self, job_id: int) -> None:
        shutil.rmtree(self.folder(job_id), ignore_errors=True)
