"""`certflow serve`: the production profile in one command (issue 16, README "Production").

Starts the web app under gunicorn (deploy/gunicorn.conf.py: N workers, gthread) and the timer
sweeper as its own process(es) (`certflow scheduler`), on PostgreSQL only; prepares the shared
Prometheus multiprocess directory; stops everything when one of them stops or on SIGTERM/SIGINT.
systemd and Procfile setups start the same commands themselves (deploy/).
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from certflow.metrics import MULTIPROC_ENV

REPOSITORY = Path(__file__).resolve().parent.parent
GUNICORN_CONFIG = REPOSITORY / "deploy" / "gunicorn.conf.py"
WSGI_APP = "webapp:create_app()"


def commands(workers: int | None, bind: str | None, schedulers: int) -> list[list[str]]:
    web = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG)]
    if workers:
        web += ["--workers", str(workers)]
    if bind:
        web += ["--bind", bind]
    web.append(WSGI_APP)
    return [web] + [[sys.executable, "-m", "cli", "scheduler"]] * schedulers


def prepare_metrics_dir(instance_path: str) -> str:
    """An empty directory shared by the workers and schedulers (stale files would add up)."""
    directory = Path(os.environ.get(MULTIPROC_ENV) or Path(instance_path) / "prometheus")
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return str(directory)


def supervise(argvs: list[list[str]], env: dict[str, str]) -> int:
    """Run every command; when one ends (or on SIGTERM/SIGINT) stop the others; its exit code."""
    children = [subprocess.Popen(argv, env=env, cwd=REPOSITORY) for argv in argvs]  # noqa: S603
    stopping = False

    def stop(signum, _frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    while not stopping:
        ended = [child for child in children if child.poll() is not None]
        if ended:
            code = ended[0].returncode or 0
            click.echo(f"certflow serve: {ended[0].args[-1]!r} ended ({code}); stopping", err=True)
            break
        time.sleep(0.2)
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
    return code


def serve(database_url: str, instance_path: str, workers, bind, schedulers: int) -> int:
    if make_url(database_url).get_backend_name() != "postgresql":
        raise click.ClickException(
            "the production profile runs on PostgreSQL: set CERTFLOW_DATABASE_URL="
            "postgresql://user@host/db (`make run` is the single-process SQLite setup)"
        )
    env = dict(os.environ)
    env[MULTIPROC_ENV] = prepare_metrics_dir(instance_path)
    env.setdefault("CERTFLOW_LOG_FORMAT", "json")
    env["CERTFLOW_SCHEDULER"] = "0"  # the sweepers are their own processes
    return supervise(commands(workers, bind, schedulers), env)
