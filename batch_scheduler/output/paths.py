"""Where a run writes: every output path checked before anything is sent, and a fallback
file in the state directory when writing still fails after sending.

A booking made and then lost because `--out` named a missing folder is the worst outcome a
run can have (the appointments exist, nobody has their links), so the checks run first: the
folder exists and takes a file, the name ends in an extension we write, no output would
overwrite the input or another output. Afterwards (disk full, folder removed meanwhile) the
results go to `STATE_DIR/unsaved/` and the report says where.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from batch_scheduler.errors import OutputError
from batch_scheduler.i18n import _

RESULTS_SUFFIXES = (".xlsx", ".csv")
JSON_SUFFIXES = (".json",)
PLAN_SUFFIXES = (".xlsx",)
FALLBACK_DIR = "unsaved"


@dataclass(frozen=True)
class Output:
    """One file a run will write: the option that names it, its path, the endings we write."""

    option: str  # "--out", "--summary-json", ...
    path: Path
    suffixes: tuple[str, ...]


@dataclass(frozen=True)
class Saved:
    """Where an output went: `path` as asked, or a fallback (then `problem` says why)."""

    asked: Path
    path: Path
    problem: str | None = None


def check_outputs(outputs: Sequence[Output], *, inputs: Sequence[Path] = ()) -> None:
    """Raise OutputError (exit 2, nothing sent) for the first output that cannot be written."""
    seen: dict[Path, str | None] = {_resolved(path): None for path in inputs}  # None: input
    for output in outputs:
        _check_one(output)
        where = _resolved(output.path)
        if where in seen:
            raise OutputError(_overwritten(output, seen[where]))
        seen[where] = output.option


def _overwritten(output: Output, other: str | None) -> str:
    """`output` is the same file as the input (`other` None) or as the output of `other`."""
    if other is None:
        words = _(
            "{option} {path} is also the input: it would be overwritten. Give another file "
            "name. Nothing was sent."
        )
    else:
        words = _(
            "{option} {path} is also the file of {other}: it would be overwritten. Give "
            "another file name. Nothing was sent."
        )
    return words.format(option=output.option, path=output.path, other=other)


def _check_one(output: Output) -> None:
    path, option = output.path, output.option
    if path.is_dir():
        words = _("{option} {path} is a folder: give a file name. Nothing was sent.")
        raise OutputError(words.format(option=option, path=path))
    if path.suffix.lower() not in output.suffixes:
        endings = output.suffixes[0]
        for ending in output.suffixes[1:]:
            endings = _("{one} or {other}").format(one=endings, other=ending)
        raise OutputError(
            _(
                "{option} {path}: the file name must end in {endings} (that is what is "
                "written there), e.g. {example}. Nothing was sent."
            ).format(option=option, path=path, endings=endings,
                     example=path.with_suffix(output.suffixes[0]).name)
        )  # fmt: skip
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(
            _(
                "{option} {path}: the folder {folder} does not exist. Create it, or give a file "
                "in a folder that exists. Nothing was sent."
            ).format(option=option, path=path, folder=folder)
        )
    problem = _cannot_write_in(folder)
    if problem:
        raise OutputError(
            _(
                "{option} {path}: files cannot be written in {folder} ({problem}). Pick a "
                "folder you can write to. Nothing was sent."
            ).format(option=option, path=path, folder=folder, problem=problem)
        )


def _cannot_write_in(folder: Path) -> str | None:
    """Why no file can be created in `folder` (a real try, so ACLs and read-only mounts
    count), or None."""
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".batch-scheduler-check-"):
            pass
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def save(
    write: Callable[[Path], None], path: Path, state_dir: Path, *, now: datetime | None = None
) -> Saved:
    """Write with `write(path)`; if that fails, write to a fallback file in the state
    directory. Raises OutputError (exit 1) only when both fail."""
    try:
        write(path)
        return Saved(path, path)
    except OSError as exc:
        problem = exc.strerror or str(exc)
    fallback = fallback_path(state_dir, path, now or datetime.now(UTC))
    try:
        fallback.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write(fallback)
    except OSError as exc:
        raise OutputError(
            _(
                "Could not write {path} ({problem}), nor the fallback {fallback} ({error}). What "
                "was sent is recorded in the ledger: run the same command again, with an --out "
                "you can write to, to get the results (nothing is sent twice)."
            ).format(path=path, problem=problem, fallback=fallback, error=exc.strerror or exc),
            exit_code=1,
        ) from None
    return Saved(path, fallback, problem)


def fallback_path(state_dir: Path, path: Path, now: datetime) -> Path:
    """STATE_DIR/unsaved/20261206-201500-123456-results.xlsx: the same name, stamped."""
    return Path(state_dir) / FALLBACK_DIR / f"{now:%Y%m%d-%H%M%S-%f}-{path.name}"


def _resolved(path: Path) -> Path:
    return Path(os.path.abspath(path)).resolve()
