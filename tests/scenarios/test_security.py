"""Secrets and personal data never leak (issue 6): end to end through the real CLI.

The CLI runs in a subprocess (real argv, environment, logging and umask) against the sandbox
over loopback, with faults on, `--verbose --log-format json`. Every byte it writes (stdout,
stderr, results workbooks unzipped, summary JSON, the ledger) is searched for the static
token, the client secret, the access tokens the sandbox issued and the Basic-auth header;
every log line is searched for each claimant's name, date of birth, phone and email.
"""

from __future__ import annotations

import asyncio
import base64
import http.server
import io
import json
import logging
import os
import shutil
import ssl
import stat
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from batch_scheduler.api import ApiClient
from batch_scheduler.cli import cli
from batch_scheduler.config import ApiSettings, Secret, check_base_url, load_settings
from batch_scheduler.errors import ConfigError
from batch_scheduler.logs import SECRETS, setup_logging
from tests.support.cli import invoke, run_env
from tests.support.sheets import NOW, sheet_rows, slot, write_xlsx

TOKEN = "stat1c-T0ken-4f9e2b7c81d6"
CLIENT_ID = "ops-client-2291"
CLIENT_SECRET = "cl1ent-S3cret-a83d0e5f77b2"
BASIC = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
CONFIG = (
    "[departments]\nBenefits = 1\nHousing = 2\n\n"
    "[send]\nbackoff_initial = 0.02\nbackoff_max = 0.1\nretry_after_floor = 0.05\n"
)
HEADERS = (
    "Reference",
    "Claimant name",
    "Appointment",
    "Date of birth",
    "Phone",
    "Email",
    "Interpreter needed?",
    "Interpreter language",
    "Department",
    "Notes",
)
NAMES = (
    "Zebedee Quartermaine",
    "Philippa Oyelaran-Whitfield",
    "Ottoline Vexworth",
    "Cassius Drummond-Achebe",
    "Marguerite Szczepanski",
    "Leopold Fairweather-Nkemelu",
    "Henrietta Blackwood",
    "Florizel Abernathy",
    "Imogen Castellanos",
    "Thaddeus Wrenfield",
)
INVALID_ROW = 4  # this person's email cannot be read: the row is invalid and never sent


@dataclass(frozen=True)
class Person:
    index: int
    name: str
    dob: date
    dob_cell: Any  # as written in the sheet: an Excel date, UK text or ISO text
    phone: str  # as typed
    phone_e164: str
    email: str

    def row(self) -> dict[str, Any]:
        return {
            "Reference": f"SEC-{self.index:03d}" if self.index % 3 else None,  # some derived
            "Claimant name": self.name,
            "Appointment": slot(self.index),
            "Date of birth": self.dob_cell,
            "Phone": self.phone,
            "Email": self.email,
            "Interpreter needed?": "no",
            "Department": "Benefits",
            "Notes": "call before 10",
        }

    def needles(self) -> set[str]:
        """Every form of this person's data that must not appear in a log line."""
        parts = {p for p in self.name.replace("-", " ").split() if len(p) >= 5}
        digits = self.phone_e164.removeprefix("+44")  # found inside every way of writing it
        dobs = {self.dob.isoformat(), self.dob.strftime("%d/%m/%Y"), self.dob.strftime("%d%m%Y")}
        if isinstance(self.dob_cell, str):
            dobs.add(self.dob_cell)
        local = self.email.split("@")[0]
        return {self.name, *parts, self.phone, digits, *dobs, self.email, local}


def people() -> list[Person]:
    out = []
    for i, name in enumerate(NAMES):
        dob = date(1950 + 4 * i, 1 + i, 3 + 2 * i)
        cell: Any = [datetime(dob.year, dob.month, dob.day), dob.strftime("%d/%m/%Y"),
                     dob.isoformat()][i % 3]  # fmt: skip
        national = f"7400 9{i:02d}{(37 * i) % 1000:03d}"
        email = name.lower().replace(" ", ".") + "@example.org"
        if i == INVALID_ROW:
            email = email.replace("@", "(at)")
        out.append(Person(i, name, dob, cell, "0" + national, "+44" + national.replace(" ", ""),
                          email))  # fmt: skip
    return out


# ---------------------------------------------------------------------- running the CLI


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    argv: list[str]


def run_cli(tmp_path: Path, env: dict[str, str], *args: Any) -> Run:
    """The real console entry point in a child process, with umask 000 (so only modes we set
    explicitly can make a file private)."""
    argv = [sys.executable, "-m", "batch_scheduler", *[str(a) for a in args]]
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("BATCH_SCHEDULER_")}
    child_env |= {"BATCH_SCHEDULER_NOW": NOW.isoformat(), "COLUMNS": "200"} | env
    done = subprocess.run(
        argv, env=child_env, cwd=tmp_path, capture_output=True, text=True, timeout=120, umask=0
    )
    return Run(done.returncode, done.stdout, done.stderr, argv)


def credentials_env(kind: str, sandbox: Any, *, wrong: bool = False) -> dict[str, str]:
    base = {"BATCH_SCHEDULER_BASE_URL": sandbox.base_url}
    if kind == "token":
        return base | {"BATCH_SCHEDULER_TOKEN": TOKEN + ("-wrong" if wrong else "")}
    return base | {
        "BATCH_SCHEDULER_CLIENT_ID": CLIENT_ID,
        "BATCH_SCHEDULER_CLIENT_SECRET": CLIENT_SECRET + ("-wrong" if wrong else ""),
        "BATCH_SCHEDULER_TOKEN_URL": sandbox.token_url,
    }


def record_issued_tokens(sandbox: Any) -> list[str]:
    """Note every access token the sandbox hands out (observation only: it still issues them)."""
    issued: list[str] = []
    original = sandbox.state.issue_token

    def issue() -> str:
        token: str = original()
        issued.append(token)
        return token

    sandbox.state.issue_token = issue
    return issued


def written_files(root: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) for every file under root; workbooks are unzipped member by member."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for member in archive.namelist():
                    yield f"{path.name}:{member}", archive.read(member)
        else:
            yield path.name, data


def assert_nothing_holds(secrets: set[str], runs: list[Run], root: Path) -> None:
    blobs = [(f"stdout of {r.argv[3]}", r.stdout.encode()) for r in runs]
    blobs += [(f"stderr of {r.argv[3]}", r.stderr.encode()) for r in runs]
    blobs += [(f"argv of {r.argv[3]}", " ".join(r.argv).encode()) for r in runs]
    blobs += list(written_files(root))
    for secret in secrets:
        leaks = [name for name, data in blobs if secret.encode() in data]
        assert not leaks, f"a secret ({secret[:4]}...) appears in {leaks}"


def log_lines(run: Run) -> list[dict[str, Any]]:
    """stderr holds JSON log records and nothing else (errors included)."""
    records = []
    for line in run.stderr.splitlines():
        if not line.strip():
            continue
        records.append(json.loads(line))  # a traceback or stray print would fail here
    return records


def assert_no_personal_data_logged(run: Run, persons: list[Person]) -> None:
    for record in log_lines(run):
        text = json.dumps(record, ensure_ascii=False).lower()
        for person in persons:
            found = [n for n in person.needles() if n.lower() in text]
            assert not found, f"personal data {found} in log line {record}"


def assert_private(path: Path, mode: int = 0o600) -> None:
    assert stat.S_IMODE(path.stat().st_mode) == mode, f"{path.name} is {path.stat().st_mode:o}"


# ---------------------------------------------------------------------- whole runs


@pytest.mark.parametrize("kind", ["token", "client-credentials"])
def test_a_faulty_batch_leaks_no_secret_and_logs_no_personal_data(
    sandbox_factory: Any, tmp_path: Path, kind: str
) -> None:
    sandbox = sandbox_factory(
        static_token=TOKEN, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        error_rate=0.2, drop_rate=0.15, seed=7, token_lifetime=0.1,
    )  # fmt: skip
    issued = record_issued_tokens(sandbox)
    persons = people()
    work = tmp_path / "work"
    work.mkdir()
    sheet = write_xlsx(work / "claimants.xlsx", [p.row() for p in persons], HEADERS)
    (work / "config.toml").write_text(CONFIG)
    state = work / "state"
    env = credentials_env(kind, sandbox) | {"BATCH_SCHEDULER_STATE_DIR": str(state)}
    common = ("--config", "config.toml", "--verbose", "--log-format", "json", "--rate", "40")

    booked = run_cli(work, env, "book", sheet.name, "--out", "results.xlsx",
                     "--summary-json", "book.json", *common)  # fmt: skip
    cancelled = run_cli(work, env, "cancel", "results.xlsx", "--out", "cancelled.xlsx",
                        "--summary-json", "cancel.json", "--reason", "Moved", *common)  # fmt: skip

    # the runs did what they should, through the error paths we mean to exercise
    assert "Wrote results.xlsx" in booked.stdout and "Wrote cancelled.xlsx" in cancelled.stdout
    assert booked.returncode == 1, booked.stderr  # the invalid row
    assert cancelled.returncode == 0, cancelled.stderr  # that row: nothing_to_cancel, fine
    outcomes = [r["outcome"] for r in sheet_rows(work / "results.xlsx")]
    assert outcomes.count("invalid") == 1 and outcomes.count("created") == len(persons) - 1
    statuses = [r["status"] for r in sandbox.requests()]
    assert any(s is not None and s >= 500 for s in statuses), "no 5xx was injected"
    assert any(r["dropped"] for r in sandbox.requests()), "no answer was dropped"
    assert any(r["level"] == "debug" for r in log_lines(booked)), "--verbose logged nothing"
    if kind == "client-credentials":
        # at 40/s from a bucket holding one, 10 rows take > 0.2 s: the 0.1 s tokens expire
        # (401) and are renewed mid-run; cancel starts with a token of its own
        assert len(issued) >= 3, "the short-lived token was never renewed"

    # the search sees inside workbooks: the claimants' names are there, as they should be
    sheets = b"".join(data for name, data in written_files(work) if name.startswith("results"))
    assert all(p.name.encode() in sheets for p in persons)

    secrets = {TOKEN, CLIENT_SECRET, BASIC, *issued}
    assert_nothing_holds(secrets, [booked, cancelled], tmp_path)
    for run in (booked, cancelled):
        assert_no_personal_data_logged(run, persons)
    for summary in ("book.json", "cancel.json"):  # counts and options, no row data
        text = (work / summary).read_text().lower()
        assert not [n for p in persons for n in p.needles() if n.lower() in text], summary

    # host links only on request: not in any output, the ledger aside (it keeps answers)
    rooms = [a["meeting"]["room_url"] for a in sandbox.appointments()]
    assert rooms
    assert "host_url" not in sheet_rows(work / "results.xlsx")[0]
    for name, data in written_files(work):
        if not name.startswith("ledger"):
            assert not [u for u in rooms if u.encode() in data], f"a host link is in {name}"

    # files: private whatever the umask (the child ran with umask 000)
    for name in ("results.xlsx", "cancelled.xlsx", "book.json", "cancel.json"):
        assert_private(work / name)
    assert_private(state, 0o700)
    for path in state.iterdir():  # the ledger, its -wal/-shm if left, the lock
        assert_private(path)
    assert not list(work.glob(".*.tmp")), "a temporary file was left behind"


@pytest.mark.parametrize("kind", ["token", "client-credentials"])
def test_refused_credentials_stop_the_run_without_showing_them(
    sandbox_factory: Any, tmp_path: Path, kind: str
) -> None:
    sandbox = sandbox_factory(static_token=TOKEN, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    persons = people()[:3]
    sheet = write_xlsx(tmp_path / "in.xlsx", [p.row() for p in persons], HEADERS)
    (tmp_path / "config.toml").write_text(CONFIG)
    env = credentials_env(kind, sandbox, wrong=True)
    env["BATCH_SCHEDULER_STATE_DIR"] = str(tmp_path / "state")

    run = run_cli(tmp_path, env, "book", sheet.name, "--out", "out.xlsx", "--config",
                  "config.toml", "--verbose", "--log-format", "json")  # fmt: skip

    assert run.returncode == 3, run.stderr
    # the reason is given (as a JSON record, like every stderr line), the credentials are not
    assert [r["code"] for r in log_lines(run) if r["level"] == "error"] == ["auth"]
    assert sandbox.appointments() == []
    wrong = {TOKEN + "-wrong", CLIENT_SECRET + "-wrong", TOKEN, CLIENT_SECRET}
    assert_nothing_holds(wrong, [run], tmp_path)
    assert_no_personal_data_logged(run, persons)


def test_plain_http_to_a_remote_host_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    persons = people()[:2]
    sheet = write_xlsx(tmp_path / "in.xlsx", [p.row() for p in persons], HEADERS)
    env = {"BATCH_SCHEDULER_TOKEN": TOKEN, "BATCH_SCHEDULER_STATE_DIR": str(tmp_path / "state")}

    run = run_cli(tmp_path, env, "book", sheet.name, "--out", "out.xlsx",
                  "--base-url", "http://api.example.com")  # fmt: skip

    assert run.returncode == 3
    assert "plain http" in run.stderr
    assert not (tmp_path / "out.xlsx").exists() and not (tmp_path / "state").exists()


# ---------------------------------------------------------------------- in process


def test_no_option_of_any_command_takes_a_secret() -> None:
    """Secrets on the command line end up in `ps` output and shell history: no flag for them.

    (`sandbox` is left out: its --static-token/--client-secret set the stand-in server's own
    made-up credentials, which protect nothing.)"""
    for name, command in cli.commands.items():
        if name == "sandbox":
            continue
        for param in command.params:
            spelled = " ".join([param.name or "", *getattr(param, "opts", [])]).lower()
            assert not any(w in spelled for w in ("token", "secret", "password", "key")), (
                f"{name} {spelled}"
            )
    result = invoke(
        {}, "book", "in.xlsx", "--out", "o.xlsx", "--token", TOKEN, catch_exceptions=True
    )
    assert result.exit_code == 2
    assert "No such option" in result.output and TOKEN not in result.output


def test_host_links_are_written_only_on_request(sandbox_factory: Any, tmp_path: Path) -> None:
    sandbox = sandbox_factory(static_token=TOKEN)
    sheet = write_xlsx(tmp_path / "in.xlsx", [p.row() for p in people()[:2]], HEADERS)
    (tmp_path / "config.toml").write_text(CONFIG)
    env = run_env(tmp_path / "state", token=TOKEN)
    out = tmp_path / "out.xlsx"
    args = ["book", str(sheet), "--out", str(out), "--config", str(tmp_path / "config.toml"),
            "--base-url", sandbox.base_url, "--include-host-links"]  # fmt: skip

    result = invoke(env, *args)

    assert result.exit_code == 0, result.output
    rooms = {a["meeting"]["room_url"] for a in sandbox.appointments()}
    assert {row["host_url"] for row in sheet_rows(out)} == rooms


@pytest.mark.parametrize(
    "url",
    [
        "http://api.example.com",
        "http://10.0.0.5:8080",
        "http://localhost.example.com",
        "ftp://api.example.com",
        "https://ops:hunter2-pass@api.example.com",
        "https://api.example.com/?api_key=hunter2-pass",
        "https://api.example.com/#hunter2-pass",
    ],
)
def test_unsafe_base_urls_are_refused_without_echoing_them(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_base_url(url)
    assert caught.value.exit_code == 3
    assert "hunter2" not in caught.value.message


@pytest.mark.parametrize(
    "url",
    [
        "https://api.example.com/",
        "http://127.0.0.1:8765",
        "http://[::1]:8765",
        "http://localhost:1",
    ],
)
def test_https_and_loopback_base_urls_are_accepted(url: str) -> None:
    assert check_base_url(url) == url.rstrip("/")


def test_the_client_secret_goes_only_to_an_https_token_url() -> None:
    env = {
        "BATCH_SCHEDULER_BASE_URL": "https://api.example.com",
        "BATCH_SCHEDULER_CLIENT_ID": CLIENT_ID,
        "BATCH_SCHEDULER_CLIENT_SECRET": CLIENT_SECRET,
        "BATCH_SCHEDULER_TOKEN_URL": "http://auth.example.com/oauth2/token",
    }
    with pytest.raises(ConfigError, match="plain http") as caught:
        load_settings(env=env, need_api=True)
    assert CLIENT_SECRET not in caught.value.message


def test_tls_verification_cannot_be_turned_off(tmp_path: Path) -> None:
    """There is no switch: a private CA is trusted with SSL_CERT_FILE (SECURITY.md)."""
    assert "verify_tls" not in {f.name for f in fields(ApiSettings)}
    config = tmp_path / "settings.toml"
    config.write_text('[api]\nbase_url = "https://api.example.com"\nverify_tls = false\n')
    env = {"BATCH_SCHEDULER_TOKEN": TOKEN}
    with pytest.raises(ConfigError, match="always verified"):
        load_settings(config_path=config, env=env, need_api=True)


def test_a_config_file_holding_a_secret_must_be_private(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(f'[api]\nbase_url = "https://api.example.com"\ntoken = "{TOKEN}"\n')
    config.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600") as caught:
        load_settings(config_path=config, env={}, need_api=True)
    assert TOKEN not in caught.value.message

    config.chmod(0o600)
    settings = load_settings(config_path=config, env={}, need_api=True)
    assert settings.api is not None and settings.api.token == Secret(TOKEN)
    assert TOKEN not in repr(settings)


def test_a_secret_is_masked_in_every_part_of_a_log_line(capsys: pytest.CaptureFixture[str]) -> None:
    """The last line of defence: messages, extra fields and tracebacks of text and JSON lines."""
    issued = Secret("issued-access-token-0c41d2")
    SECRETS.add(issued.reveal())  # as auth.py does for each token it gets
    log = logging.getLogger("batch_scheduler.test")
    for fmt in ("json", "text"):
        setup_logging(verbose=True, fmt=fmt)
        try:
            raise RuntimeError(f"careless {issued.reveal()}")
        except RuntimeError:
            log.exception("oops %s", issued.reveal(), extra={"detail": issued.reveal()})
    err = capsys.readouterr().err
    assert "issued-access-token" not in err
    # JSON: message and extra field; text: message and the traceback's exception line
    assert err.count("***") == 4 and "Traceback" in err


def test_an_access_token_the_api_issues_is_masked_from_then_on(
    sandbox: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """auth.py gives the log mask every token it is issued (the configured secrets are given
    by the CLI and `serve` at start-up): a careless line that holds one shows ***."""
    issued: list[str] = []
    issue = sandbox.state.issue_token
    monkeypatch.setattr(sandbox.state, "issue_token", lambda: issued.append(issue()) or issued[-1])
    settings = ApiSettings(
        base_url=sandbox.base_url,
        client_id="sandbox-client",
        client_secret=Secret("sandbox-secret"),
        token_url=sandbox.token_url,
    )

    async def first_call() -> None:
        async with ApiClient(settings) as client:
            assert (await client.check_access()).ok

    asyncio.run(first_call())
    setup_logging(fmt="text")
    logging.getLogger("batch_scheduler.test").error("careless %s", issued[0])

    assert len(issued) == 1 and capsys.readouterr().err == "Error: careless ***\n"


def test_making_a_secret_is_plain_data_the_mask_is_given_its_values_explicitly(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No side effect: a Secret made in passing (a test, a library caller) masks nothing; the
    boundary that sets up logging names the secrets it loaded."""
    Secret("made-in-passing-7f01")
    settings = load_settings(env={"BATCH_SCHEDULER_BASE_URL": "https://api.example.com",
                                  "BATCH_SCHEDULER_TOKEN": TOKEN}, need_api=True)  # fmt: skip
    setup_logging(fmt="text", secrets=settings.secrets())
    logging.getLogger("batch_scheduler.test").error("%s %s", "made-in-passing-7f01", TOKEN)

    assert capsys.readouterr().err == "Error: made-in-passing-7f01 ***\n"


# ---------------------------------------------------------------------- TLS


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An https server on loopback with a self-signed certificate: (base URL, its cert)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EmptyList)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()
    server.server_close()


class _EmptyList(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # the name http.server calls
        body = b'{"data": [], "meta": {"current_page": 1, "last_page": 1, "total": 0}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize("http_client", ["aiohttp", "httpx"])
def test_an_untrusted_certificate_is_refused_and_ssl_cert_file_trusts_a_private_ca(
    tls_server: tuple[str, Path], http_client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    base_url, cert = tls_server
    settings = ApiSettings(base_url=base_url, token=Secret(TOKEN), http_client=http_client)

    async def first_page() -> Any:
        client = ApiClient(settings)
        try:
            return await client.list_page(1)
        finally:
            await client.aclose()

    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    refused = asyncio.run(first_page())
    assert refused.status_code is None and not refused.ok  # no answer: the handshake failed
    assert TOKEN not in (refused.message or "")

    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the documented way to trust a private CA
    trusted = asyncio.run(first_page())
    assert trusted.status_code == 200
