"""Running certflow as separate processes for tests and benchmarks: a fresh database in the
private PostgreSQL cluster, the `certflow` command, `certflow serve` (gunicorn + schedulers) and a
small HTTP client for the JSON API."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import sqlalchemy
from sqlalchemy.engine import make_url

REPOSITORY = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database(cluster_url: str, prefix: str = "certflow_mp") -> str:
    """A new empty database in the cluster of `cluster_url`; its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    engine = sqlalchemy.create_engine(cluster_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return make_url(cluster_url).set(database=name).render_as_string(hide_password=False)


def certflow_env(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CERTFLOW_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPOSITORY), env.get("PYTHONPATH")]))
    env.update(
        CERTFLOW_DATABASE_URL=database_url,
        CERTFLOW_INSTANCE_PATH=str(instance),
        CERTFLOW_SECRET_KEY="multi-process-test-secret",
        **extra,
    )
    return env


def certflow(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "cli", *args],
        env=env,
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"certflow {' '.join(args)}: {result.stderr[-2000:]}")
    return result.stdout


class Served:
    """`certflow serve` in its own process group; `stop()` ends it and everything it started."""

    def __init__(self, env: dict[str, str], port: int, *options: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.log = Path(env["CERTFLOW_INSTANCE_PATH"]) / "serve.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "cli", "serve", "--bind", f"127.0.0.1:{port}", *options],
            env=env,
            cwd=REPOSITORY,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"certflow serve ended: {self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.base}/readyz", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"{self.base} not ready: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log_file.close()


def api(base: str, method: str, path: str, token: str, body: dict | None = None) -> tuple:
    """(status, JSON answer) of one API call."""
    request = urllib.request.Request(  # noqa: S310
        f"{base}/api/v1{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")
