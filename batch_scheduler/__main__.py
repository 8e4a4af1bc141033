"""`python -m batch_scheduler` runs the command-line interface."""

from batch_scheduler.cli import main

main()
