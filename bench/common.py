"""What every benchmark returns: figures with a target, printed as one table by `make bench`.

A bench module exposes `figures(quick: bool) -> list[Figure]` and may also be run on its own
(`python -m bench.bench_x`), printing the same table for its figures. `quick` asks for fewer
rows/runs so the bench can be smoke-tested; the published figures use quick=False.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Another checkout of the code (e.g. main, `git archive main | tar -x -C DIR`) whose runs
# the intake and workbook benches take turns with, to report after / before in one run.
BASELINE_VAR = "BENCH_BASELINE"


@dataclass(frozen=True)
class Figure:
    """One measured figure: the median of `samples`, beside its target."""

    name: str
    samples: tuple[float, ...]
    unit: str
    target: float | None  # None: reported, no target
    higher_is_better: bool = False
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def spread(self) -> str:
        if len(self.samples) < 2:
            return "1 run"
        digits = _digits(self.unit)
        return f"{min(self.samples):.{digits}f}..{max(self.samples):.{digits}f}"

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        if self.higher_is_better:
            return self.median >= self.target
        return self.median <= self.target

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "-"
        sign = ">=" if self.higher_is_better else "<="
        return f"{sign} {self.target:g} {self.unit}".rstrip()


def peak_rss_mib() -> float:
    """This process's own peak resident memory, in MiB: VmHWM, the high-water mark of the
    memory it has had since it started its program. Not ru_maxrss, which Linux carries
    across exec from the process that started it (subprocess forks the bench's own, larger
    process), so a small child reported its parent's peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def baseline() -> Path | None:
    """The checkout to compare with (BENCH_BASELINE), or None."""
    value = os.environ.get(BASELINE_VAR, "").strip()
    if not value:
        return None
    path = Path(value).resolve()
    if not (path / "batch_scheduler").is_dir() or not (path / "bench").is_dir():
        raise SystemExit(f"{BASELINE_VAR}={value}: no batch_scheduler/ and bench/ there")
    return path


def run_child(module: str, args: Sequence[str], root: Path = ROOT) -> dict[str, Any]:
    """One measured run of `module`'s child in a fresh process, with the code under `root`
    (its directory comes first on sys.path, before the installed one); its JSON figures."""
    command = [sys.executable, "-m", module, *args]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}  # write nothing into a baseline
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=root, env=env)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def ratios(
    after: Sequence[dict[str, Any]], before: Sequence[dict[str, Any]], key: str
) -> list[float]:
    """after / before of `key`, run by run (the two took turns, so each pair saw alike load)."""
    return [a[key] / b[key] for a, b in zip(after, before, strict=True)]


def figure(
    name: str,
    samples: Sequence[float],
    unit: str,
    target: float | None,
    *,
    higher_is_better: bool = False,
    note: str = "",
) -> Figure:
    return Figure(name, tuple(samples), unit, target, higher_is_better, note)


def _digits(unit: str) -> int:
    return 0 if unit in ("MiB", "req/s", "rows", "x", "count") else 2


def table(figures: Sequence[Figure]) -> str:
    """A plain-text table: figure, median, spread, target, verdict, note."""
    head = ("figure", "median", "spread (min..max)", "target", "ok", "note")
    rows = [head]
    for f in figures:
        verdict = {True: "yes", False: "NO", None: "-"}[f.met]
        value = f"{f.median:.{_digits(f.unit)}f} {f.unit}".rstrip()
        rows.append((f.name, value, f.spread, f.target_text, verdict, f.note))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run_alone(figures: Callable[[bool], Sequence[Figure]], description: str | None) -> None:
    """`python -m bench.bench_x [--quick]`: one bench's figures as a table."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="fewer rows and runs")
    print(table(figures(parser.parse_args().quick)))
