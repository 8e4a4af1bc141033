"""The one place for helpers shared by the tests (fixtures stay in tests/conftest.py).

sheets.py         input sheets built for tests (NOW, book_row, write_xlsx...) and
                  written workbooks read back (sheet_rows)
cli.py            the CLI's environment (run_env, cli_env) and `batch-scheduler ...`
                  in-process (invoke, cli_book)
requests.py       appointment requests built by hand (booking), a sandbox client
settings.py       settings for a library call, loaded as the CLI loads them (run_settings)
sending.py        the real sender against the sandbox with a real ledger (Runner)
virtual_api.py    the sender without sockets or waiting: a virtual clock (VirtualTime)
                  and the API in memory behind the client's Wire (FakeApi)
results.py        raw tables and result lines built by hand, for output tests
templates.py      the checked-in templates, and what a person sees in one (snapshot)
sandbox.py        appointments stored behind the API's back (seed_appointments)
hostile_files.py  files made to break a reader (zip bombs, old .xls, encrypted...)
welsh.py          a book sheet written in Welsh; English words left in a Welsh message
system.py         system programs some tests drive (LibreOffice, Chromium, PostgreSQL)
"""
