"""A throw-away PostgreSQL server for tests: Debian's binaries, a temp dir, a free localhost port.

PostgreSQL refuses to run as root, so under root (CI) initdb and pg_ctl run as `nobody`.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

UNPRIVILEGED = "nobody"


def find_pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql/N/bin."""
    on_path = [shutil.which(n) for n in ("initdb", "pg_ctl")]
    if all(on_path):
        return Path(os.path.realpath(on_path[0])).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for bin_dir in versions:
        if (bin_dir / "initdb").exists() and (bin_dir / "pg_ctl").exists():
            return bin_dir
    return None


def _as_server_user() -> list[str]:
    """Command prefix that drops root for the PostgreSQL binaries (empty if not root)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser"):
        return ["runuser", "-u", UNPRIVILEGED, "--"]
    return ["setpriv", f"--reuid={UNPRIVILEGED}", "--regid=nogroup", "--clear-groups", "--"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Postgres:
    """A running server: where it listens and how to log in (password authentication)."""

    port: int
    user: str
    password: str
    root: Path
    databases: list[str] = field(default_factory=list)

    def connect(self, db: str = "postgres"):
        import psycopg2

        conn = psycopg2.connect(
            host="127.0.0.1", port=self.port, user=self.user, password=self.password, dbname=db
        )
        conn.autocommit = True
        return conn

    def create_database(self) -> str:
        """A new empty database (one per test keeps tests apart)."""
        name = f"dagster_{len(self.databases) + 1}"
        conn = self.connect()
        try:
            conn.cursor().execute(f"create database {name}")
        finally:
            conn.close()
        self.databases.append(name)
        return name


@contextmanager
def start_postgres(bin_dir: Path) -> Iterator[Postgres]:
    """initdb into a temp dir, start on a free port (password auth over TCP), stop and remove."""
    root = Path(tempfile.mkdtemp(prefix="mlperf-pg-"))
    root.chmod(0o755)  # the server user must reach its folder
    data, run = root / "data", root / "run"
    pg = Postgres(port=_free_port(), user="dagster", password=secrets.token_hex(16), root=root)
    prefix = _as_server_user()
    pwfile = run / "pw"
    for folder in (data, run):
        folder.mkdir(mode=0o700)
    pwfile.write_text(pg.password + "\n")
    if prefix:
        for path in (data, run, pwfile):
            shutil.chown(path, user=UNPRIVILEGED)

    def call(*args: str) -> None:
        proc = subprocess.run([*prefix, *args], capture_output=True, text=True, cwd=root)
        if proc.returncode != 0:
            log = (run / "server.log").read_text() if (run / "server.log").exists() else ""
            raise RuntimeError(f"{args[0]} failed: {proc.stdout}{proc.stderr}{log}")

    started = False
    try:
        call(
            str(bin_dir / "initdb"),
            "-D", str(data), "-U", pg.user, f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C",
            "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {pg.port} -k {run} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        call(
            str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options,
            "-l", str(run / "server.log"), "-w", "-t", "60", "start",
        )  # fmt: skip
        started = True
        yield pg
    finally:
        if started:
            call(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
