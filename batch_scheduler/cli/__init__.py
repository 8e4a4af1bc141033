"""The command line: a thin translator from options to library calls and exit codes.

Takes argv; calls the library (pipeline.run, allocate, templates, the demo); prints what
it returns and exits with its code. Library errors (errors.py) become a one-line message on
stderr and their exit code; the library never prints, this package does.

    app.py       the `batch-scheduler` group and main(): every command, gathered
    runs.py      validate, book, cancel: one pipeline run on one sheet
    allocate.py  allocate: claimants + slots -> an allocation (and, --book, its booking)
    template.py  template: an empty sheet to fill in
    demo.py      demo: the sandbox in-process, a sample sheet booked
    options.py   the options several commands share, and the options as text
    session.py   settings, logging, the clock (BATCH_SCHEDULER_NOW pins it), errors -> exit codes
    console.py   what is printed, for people (-q) and scripts (JSON), and where
    progress.py  the progress bar, or progress log records
"""

from batch_scheduler.cli.app import cli, main

__all__ = ["cli", "main"]
