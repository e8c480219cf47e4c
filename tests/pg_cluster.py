"""A private, throw-away PostgreSQL cluster for the test suite.

The server refuses to run as root, so as root the cluster belongs to the `postgres` system user
(or `nobody`); it listens on 127.0.0.1 on a free port and lives in a temporary directory.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise PostgresUnavailable(
        f"PostgreSQL server binary {name!r} not found (apt-get install postgresql)"
    )


class PostgresCluster:
    def __init__(self) -> None:
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="certflow-pg-"))
        self.data = self.root / "data"
        self.user: str | None = None
        if os.geteuid() == 0:
            for candidate in ("postgres", "nobody"):
                try:
                    pwd.getpwnam(candidate)
                    self.user = candidate
                    break
                except KeyError:
                    continue
            if self.user is None:
                raise PostgresUnavailable(
                    "running as root and no unprivileged user to own the cluster"
                )
            shutil.chown(self.root, user=self.user)
            self.root.chmod(0o700)

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = list(args)
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> str:
        initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
        result = self._run(
            initdb,
            "-D",
            str(self.data),
            "-U",
            "certflow",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        if result.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {result.stderr.strip()[-500:]}")
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        result = self._run(
            pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start"
        )
        if result.returncode != 0:
            log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
            raise PostgresUnavailable(f"pg_ctl start failed: {result.stderr.strip()} {log[-500:]}")
        url = f"postgresql+psycopg://certflow@127.0.0.1:{self.port}/postgres"
        self._create_database(url)
        return f"postgresql+psycopg://certflow@127.0.0.1:{self.port}/certflow_test"

    def _create_database(self, admin_url: str) -> None:
        import sqlalchemy

        engine = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        for _ in range(50):
            try:
                with engine.connect() as conn:
                    conn.exec_driver_sql("CREATE DATABASE certflow_test")
                break
            except sqlalchemy.exc.OperationalError:
                time.sleep(0.1)
        engine.dispose()

    def stop(self) -> None:
        try:
            self._run(_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
