"""`make bench`: run every benchmark in bench/ and print its figures beside the targets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHES = ("bench.bench_intake", "bench.bench_workbook")

if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    for module in BENCHES:
        print(f"== {module}", flush=True)
        subprocess.run([sys.executable, "-m", module, *sys.argv[1:]], check=True, cwd=root)
