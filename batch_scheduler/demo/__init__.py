"""The demo and the sample sheets: the whole pipeline against the in-process sandbox.

Takes an output folder (and "now"); writes fresh sample sheets, books one on a sandbox with
seeded faults, and returns the run's report and where the results went.

    run.py           run_demo, the demo's settings and sandbox faults, fresh samples
    samples.py       the sample sheets' rows, deliberate mistakes included, and their config
    sample_files.py  writing those rows as .xlsx and .csv
"""

from batch_scheduler.demo.run import (
    DEMO_FAULTS,
    demo_input,
    demo_settings,
    run_demo,
    write_fresh_samples,
)
from batch_scheduler.demo.samples import CONFIG_NAME, write_samples

__all__ = [
    "CONFIG_NAME",
    "DEMO_FAULTS",
    "demo_input",
    "demo_settings",
    "run_demo",
    "write_fresh_samples",
    "write_samples",
]
