"""A throwaway PostgreSQL server for the tests and the bench: the shared ledger, for real.

`Cluster.start()` makes a new cluster (Debian's initdb and pg_ctl, found by system.py) in a
temporary directory, listening on a free loopback port only, with password authentication
over TCP, and tuned for speed: fsync off (it is thrown away, and this machine does not
crash under it), but synchronous_commit on, as in production: a commit the client saw is
in the server's WAL, so it survives the server being killed (`stop_immediately`).
PostgreSQL refuses to run as root, so as root it runs as the `postgres` system user the
Debian package creates, in a directory that user owns. `stop()` removes it all.

Each test gets its own database (`fresh_database`, a CREATE DATABASE, ~20 ms), so tests never
see each other's rows; one cluster serves a whole test session (or xdist worker).

BATCH_SCHEDULER_TEST_STATE_URL (postgresql://user:password@host:port/db, a user allowed to
CREATE DATABASE) makes the tests use that server instead of starting one.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from tests.support.system import find_program

ENV_TEST_URL = "BATCH_SCHEDULER_TEST_STATE_URL"
SYSTEM_USER = "postgres"  # the user Debian's postgresql package creates
START_TIMEOUT = 30  # seconds pg_ctl waits for the server to accept connections
_numbers = itertools.count(1)


@dataclass
class Cluster:
    """A PostgreSQL server to make databases on: its admin URL, and how to stop it."""

    admin_url: str  # a URL that may CREATE DATABASE (its database: "postgres")
    data_dir: Path | None = None  # None: a server we did not start (from the environment)
    run_as: list[str] = field(default_factory=list)  # the command prefix to run pg_ctl with
    pg_ctl: str = ""

    # ------------------------------------------------------------ starting and stopping

    @classmethod
    def start(cls) -> Cluster:
        """A new cluster on a free loopback port (as `postgres` when we are root)."""
        initdb, pg_ctl = find_program("initdb"), find_program("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise RuntimeError("PostgreSQL's initdb and pg_ctl are not installed")
        root = Path(tempfile.mkdtemp(prefix="bs-postgres-"))
        run_as = _run_as_prefix(root)
        password = secrets.token_hex(12)
        (root / "pw").write_text(password + "\n")
        _chown(root / "pw")
        data = root / "data"
        _run([*run_as, initdb, "-D", str(data), "-U", "postgres", "--pwfile", str(root / "pw"),
              "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
              "--locale=C", "--no-sync"])  # fmt: skip
        port = free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories='{root}' "
            "-c fsync=off -c full_page_writes=off "
            "-c max_connections=200 -c shared_buffers=32MB"
        )
        cluster = cls(
            admin_url=f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres",
            data_dir=data,
            run_as=run_as,
            pg_ctl=pg_ctl,
        )
        cluster._options = options
        cluster.restart()
        return cluster

    @classmethod
    def from_url(cls, url: str) -> Cluster:
        """A server given in the environment: we make databases on it, nothing more."""
        parts = urlsplit(url)
        return cls(admin_url=urlunsplit(parts._replace(path="/postgres")))

    _options: str = ""

    def restart(self) -> None:
        """Start the server (again, after `stop_immediately`); wait until it answers."""
        assert self.data_dir is not None
        log = self.data_dir.parent / "server.log"
        _run([*self.run_as, self.pg_ctl, "start", "-D", str(self.data_dir), "-w",
              "-t", str(START_TIMEOUT), "-l", str(log), "-o", self._options])  # fmt: skip

    def stop_immediately(self) -> None:
        """`pg_ctl stop -m immediate`: the server goes away at once, as in a crash."""
        assert self.data_dir is not None
        _run([*self.run_as, self.pg_ctl, "stop", "-D", str(self.data_dir), "-m", "immediate"])

    def stop(self) -> None:
        """Stop the server and delete its files (a server from the environment stays)."""
        if self.data_dir is None:
            return
        with contextlib.suppress(subprocess.CalledProcessError):
            _run([*self.run_as, self.pg_ctl, "stop", "-D", str(self.data_dir), "-m", "immediate"])
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)

    # ------------------------------------------------------------ databases

    def url(self, database: str) -> str:
        return urlunsplit(urlsplit(self.admin_url)._replace(path=f"/{database}"))

    def fresh_database(self, prefix: str = "bs") -> str:
        """A new empty database; its URL."""
        name = f"{prefix}_{os.getpid()}_{next(_numbers)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def fresh_database_of_new_user(self, password: str, prefix: str = "bs") -> str:
        """A new empty database owned by a new login role whose password is `password`; its
        URL, the password percent-encoded in it (as a URL must carry @ : / % and the like)."""
        name = f"{prefix}_{os.getpid()}_{next(_numbers)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            role, secret = sql.Identifier(name), sql.Literal(password)
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(role, secret))
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE template0").format(
                role, role))  # fmt: skip
        parts = urlsplit(self.admin_url)
        netloc = f"{name}:{quote(password, safe='')}@{parts.hostname}:{parts.port}"
        return urlunsplit(parts._replace(netloc=netloc, path=f"/{name}"))

    @property
    def host_and_port(self) -> str:
        parts = urlsplit(self.admin_url)
        return f"{parts.hostname}:{parts.port}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def cluster_for_session() -> Iterator[Cluster]:
    """The environment's server if BATCH_SCHEDULER_TEST_STATE_URL is set, else a new one."""
    given = os.environ.get(ENV_TEST_URL)
    cluster = Cluster.from_url(given) if given else Cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def with_password_hidden(url: str) -> str:
    """The URL as it may be shown: the password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def replaced(url: str, **parts: str) -> str:
    """`url` with its password, port or database changed."""
    split = urlsplit(url)
    user, password = split.username or "", parts.get("password", split.password or "")
    port = parts.get("port", str(split.port))
    netloc = f"{user}:{password}@{split.hostname}:{port}"
    return urlunsplit(split._replace(netloc=netloc, path=parts.get("path", split.path)))


WRONG_PARTS = ("password", "port", "database")


def made_wrong(url: str, part: str) -> str:
    """`url` with one of WRONG_PARTS wrong: a password the server refuses, a port nothing
    listens on, or a database that does not exist."""
    change = {"password": {"password": "not-the-password-x7"},
              "port": {"port": str(free_port())},
              "database": {"path": "/no_such_ledger"}}[part]  # fmt: skip
    return replaced(url, **change)


def wait_for_server(url: str, timeout: float = 20.0) -> None:
    """Wait until the server at `url` takes connections again."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


# ---------------------------------------------------------------- running as postgres


def _run_as_prefix(root: Path) -> list[str]:
    """How to run PostgreSQL's programs: as ourselves, or as `postgres` when we are root."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser") or shutil.which("setpriv")
    if runuser is None:
        raise RuntimeError("running as root, and neither runuser nor setpriv is installed")
    os.chmod(root, 0o700)
    _chown(root)
    if runuser.endswith("runuser"):
        return [runuser, "-u", SYSTEM_USER, "--"]
    return [runuser, f"--reuid={SYSTEM_USER}", f"--regid={SYSTEM_USER}", "--init-groups"]


def _chown(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, SYSTEM_USER, SYSTEM_USER)


def _run(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, cwd="/")
    if result.returncode != 0:
        raise subprocess.CalledProcessError(
            result.returncode, argv, output=result.stdout, stderr=result.stderr
        )
