"""The web page for ops: upload -> check -> confirm -> progress -> results -> history.

A thin layer over the library, on the same pipeline, ledger and guarantees as the CLI:

    app.py              the Starlette app: routes, sign-in middleware, worker lifespan
    routes_*.py         the pages (auth, upload + check, jobs, history + audit + templates)
    pipeline_bridge.py  the ONE module that calls the library (pipeline, allocate, config)
    worker.py           checks on a small pool; sends on one worker thread, one queue
    jobs.py             the persistent job store (SQLite in the state directory)
    accounts.py  sessions.py  security.py  audit.py   access: who, how long, what they did
    storage.py          each job's private files, retention
    render.py  templates/  static/    GOV.UK Design System look (vendored govuk-frontend)
    server.py  commands.py            `serve`, `users ...`, `demo --web`
"""

from batch_scheduler.web.app import create_app
from batch_scheduler.web.context import WebContext
from batch_scheduler.web.server import RunningWeb, ServeOptions, build_context

__all__ = ["RunningWeb", "ServeOptions", "WebContext", "build_context", "create_app"]
