"""A real HTTP stand-in for the SQOD Appointments API, with seeded faults, for tests and demos.

with start_sandbox(SandboxConfig(error_rate=0.2, seed=7)) as sandbox:
    ...  # point the client at sandbox.base_url / sandbox.token_url

While an in-process sandbox runs, the process's thread switch interval is 1 ms (server.py
says why); `batch-scheduler sandbox` serves in its own process and leaves it alone.
"""

from batch_scheduler.sandbox.app import create_app
from batch_scheduler.sandbox.config import SandboxConfig
from batch_scheduler.sandbox.server import RunningSandbox, start_sandbox
from batch_scheduler.sandbox.store import SandboxState

__all__ = ["RunningSandbox", "SandboxConfig", "SandboxState", "create_app", "start_sandbox"]
