"""batch_scheduler: book and cancel SQOD video appointments in bulk from spreadsheets.

The pipeline, one module a stage: reader -> schema (+ normalise) -> pipeline (plan)
-> sender (+ client, ledger) -> workbook.
"""

__version__ = "0.1.0"
