"""batch_scheduler: book and cancel SQOD video appointments in bulk from spreadsheets.

A run, in order (pipeline.py is the one place that knows it):

    file -> intake -> validate ---------> send -----------> output
            RawTable  requests + issues   a result per row  results workbook, CSV, JSON
                                          |        |
                                          ledger   api
                                          (exactly (the only
                                           once)    network code)

report.py turns what the stages returned into result lines and the summary that output
writes.

Around the stages:

    cli/       the commands: options -> library calls -> exit codes (the library never prints)
    web/       the page for ops, over the same pipeline (pipeline_bridge.py is its one door)
    allocate/  claimants + free slots -> an allocation, and its booking through the pipeline
    sandbox/   a real HTTP stand-in for the API, with seeded faults, for tests and the demo
    demo/      the demo and the sample sheets
    i18n/      gettext for every string a person reads

Shared by all: columns/ (the names every stage uses: the sheets' fields, our result
columns, the API's names, column letters), config.py (settings), models.py (the data passed
between stages), errors.py (what stops a run), issues/ (issue codes and their messages),
logs.py (logging without personal data or secrets), runtime.py (process-wide switches: the
garbage collector and the signals, flipped only by pipeline.run). docs/architecture.md
draws all this in more detail.

The library's face, for a script or another front end:

    settings = load_settings(config_path=Path("config.toml"), need_api=True)
    report = run(RunRequest("book", Path("week.xlsx"), Path("results.xlsx")), settings)
    report.exit_code, report.outcomes, report.issues
"""

__version__ = "0.1.0"  # before the imports below: report.py and api/client.py read it

from batch_scheduler.allocate import AllocateRequest, AllocationReport, Strategy, allocate
from batch_scheduler.config import Settings, load_settings
from batch_scheduler.errors import BatchSchedulerError
from batch_scheduler.pipeline import Progress, RunRequest, run
from batch_scheduler.report import RunReport

__all__ = [
    "AllocateRequest",
    "AllocationReport",
    "BatchSchedulerError",
    "Progress",
    "RunReport",
    "RunRequest",
    "Settings",
    "Strategy",
    "__version__",
    "allocate",
    "load_settings",
    "run",
]
