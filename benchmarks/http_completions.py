"""Task completions over HTTP with the production profile on PostgreSQL (issue 16; goals:
≥ 150 completions/s with p95 ≤ 100 ms on a 2-core machine).

    .venv/bin/python benchmarks/http_completions.py [--tasks N] [--clients N] [--rate R]
                                                    [--workers N] [--path api|html]
                                                    [--database-url URL]

Without --database-url a private PostgreSQL cluster is started (tests/pg_cluster.py) with a fresh
database. `certflow serve` runs gunicorn (deploy/gunicorn.conf.py) and one scheduler; N open
`Task_Review` tasks of tests/fixtures/processes/review_flow.bpmn are prepared through the engine;
then they are completed through `POST /api/v1/tasks/{id}/complete` with
{"accepted": false, "man_days": 1} (the instance then waits for a message: no service task runs).
With `--path html` the same completion goes through the task page's form (`POST /tasks/{id}`, a
signed-in web session with its CSRF token, answered by a redirect).

Two runs of N completions each, one keep-alive connection per client thread:
- as fast as answered: `--clients` clients each send the next completion as soon as the last
  one is answered (closed loop): the throughput, `N completions/s`, and the latency of a queue
  that many deep;
- at the goal's rate: completions are sent on a fixed schedule of `--rate` per second (open
  loop, 64 connections so that a slow answer does not hold back the next send), each latency
  counted from the moment it was due, so a server that falls behind shows as latency (no
  coordinated omission). This is the goal's question: does the server keep 150 completions/s
  with p95 ≤ 100 ms?
Prints `N completions/s`, the p95 at the goal's rate and the ratios to the goals on one line,
then the details and the server CPU per completion (app processes, PostgreSQL backends:
comparable on a shared machine).
"""

import argparse
import html
import http.client
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from tests.pg_cluster import PostgresCluster  # noqa: E402
from tests.platform.multi_process import (  # noqa: E402
    Served,
    certflow,
    certflow_env,
    free_port,
    fresh_database,
)

GOAL_RATE = 150.0
GOAL_P95_MS = 100.0
PACED_CONNECTIONS = 64
REVIEW_FLOW = REPOSITORY / "tests" / "fixtures" / "processes"
PLUGIN = "tests.plugin_handlers"
WEB_USER = "demo_market"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def prepare(url: str, workdir: Path, tasks: int) -> tuple[str, list[str]]:
    """The schema, the process, a token of demo_market and `tasks` open review tasks (the demo
    users' passwords are in workdir/setup/demo-logins.txt)."""
    env = certflow_env(url, workdir / "setup", CERTFLOW_EXTRA_HANDLERS=PLUGIN)
    certflow(env, "init", "--demo")
    certflow(env, "deploy", str(REVIEW_FLOW), "--comment", "benchmark", "--user", "benchmark")
    token = certflow(env, "token", "demo_market").strip()

    os.environ["CERTFLOW_EXTRA_HANDLERS"] = PLUGIN
    from engine.service import Actor, TaskFilter
    from webapp import create_app

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"},
        instance_path=str(workdir / "prepare"),
    )
    market = Actor("demo_market", frozenset({"market"}))
    with app.app_context():
        engine = app.extensions["certflow.engine"]
        for number in range(tasks):
            engine.start(
                "review_flow", actor=market, data={"headcount": 1, "application_id": f"H-{number}"}
            )
            if number % 200 == 0:
                print(f"  prepared {number}/{tasks} tasks", file=sys.stderr)
        rows = engine.list_tasks(TaskFilter(state="open"), sort="created", limit=tasks + 1)
        ids = [str(row.id) for row in rows]
    return token, ids


def _stat(pid: str) -> tuple[int, int, float] | None:
    """(parent pid, process group, CPU seconds used) of a live process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[1]), int(fields[2]), (int(fields[11]) + int(fields[12])) / ticks


def server_cpu(group: int, postmaster: int | None) -> tuple[float, float]:
    """CPU seconds used so far by the app (the `certflow serve` process group: gunicorn workers,
    schedulers) and by PostgreSQL's backends (children of the postmaster). On a shared machine
    CPU per completion compares runs better than wall time does."""
    app = database = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(entry.name)
        if stat is None:
            continue
        parent, process_group, seconds = stat
        if process_group == group:
            app += seconds
        elif postmaster is not None and (parent == postmaster or int(entry.name) == postmaster):
            database += seconds
    return app, database


def postmaster_pid(cluster: PostgresCluster | None) -> int | None:
    if cluster is None:
        return None
    return int((cluster.data / "postmaster.pid").read_text().split()[0])


def _cookies(answer: http.client.HTTPResponse, jar: dict[str, str]) -> None:
    for header in answer.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]


def web_session(port: int, password: str) -> dict[str, str]:
    """Sign in as WEB_USER through the login form: the Cookie header and the CSRF token."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    jar: dict[str, str] = {}

    def call(method: str, path: str, form: dict | None = None) -> str:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
        body = None
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(form)
        connection.request(method, path, body, headers)
        answer = connection.getresponse()
        _cookies(answer, jar)
        return answer.read().decode()

    token = html.unescape(CSRF.search(call("GET", "/login")).group(1))
    call("POST", "/login", {"username": WEB_USER, "password": password, "csrf_token": token})
    token = html.unescape(CSRF.search(call("GET", "/")).group(1))  # the new session's token
    connection.close()
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()), "csrf_token": token}


def requests_for(path: str, port: int, token: str, workdir: Path):
    """(url of a task, body, headers, expected status) of one completion along `path`."""
    if path == "api":
        body = json.dumps({"data": {"accepted": False, "man_days": 1}})
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        return "/api/v1/tasks/{}/complete", body, headers, 200
    logins = dict(
        line.split(" ", 1)
        for line in (workdir / "setup" / "demo-logins.txt").read_text().split("\n")
        if line.strip()
    )
    session = web_session(port, logins[WEB_USER].strip())
    form = {"action": "complete", "f/man_days": "1", "csrf_token": session["csrf_token"]}
    headers = {
        "Cookie": session["Cookie"],
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return "/tasks/{}", urllib.parse.urlencode(form), headers, 302


def drive(
    port: int, request: tuple[str, str, dict, int], task_ids: list[str], clients: int
) -> tuple[float, list[float]]:
    """Complete every task with `clients` concurrent clients, each sending its next completion
    as soon as the last was answered; (seconds, latencies in s)."""
    return _drive(port, request, task_ids, clients)


def drive_paced(
    port: int, request: tuple[str, str, dict, int], task_ids: list[str], rate: float
) -> tuple[float, list[float]]:
    """Send the i-th completion at start + i / rate, whether or not earlier ones were answered
    (PACED_CONNECTIONS at most in flight); each latency counts from its due time.
    (seconds from the start to the last answer, latencies in s)."""
    start = time.perf_counter() + 0.1  # every connection thread is up by then
    seconds, latencies = _drive(
        port, request, task_ids, PACED_CONNECTIONS, due=lambda number: start + number / rate
    )
    return seconds - 0.1, latencies


def _drive(
    port: int,
    request: tuple[str, str, dict, int],
    task_ids: list[str],
    connections: int,
    due: Callable[[int], float] | None = None,
) -> tuple[float, list[float]]:
    """Complete the tasks over `connections` keep-alive connections, one thread each, taking
    the tasks in order; a completion is sent when it is `due` (at once without one) and its
    latency counts from then."""
    numbers = iter(range(len(task_ids)))
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    url, body, headers, expected = request

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                number = next(numbers, None)
            if number is None:
                break
            if due is None:
                started = time.perf_counter()
            else:
                started = due(number)
                time.sleep(max(0.0, started - time.perf_counter()))
            connection.request("POST", url.format(task_ids[number]), body, headers)
            answer = connection.getresponse()
            answer.read()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if answer.status != expected:
                    failures.append(f"{task_ids[number]}: {answer.status}")
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} completions failed, e.g. {failures[:5]}")
    return seconds, latencies


def p95(latencies: list[float]) -> float:
    """The 95th percentile in ms (nearest rank)."""
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1000, help="completions in each run")
    parser.add_argument("--clients", type=int, default=16, help="as fast as answered")
    parser.add_argument(
        "--rate", type=float, default=GOAL_RATE, help="completions/s sent in the paced run"
    )
    parser.add_argument("--workers", type=int, default=None, help="default: 2 × cores + 1")
    parser.add_argument(
        "--path", choices=("api", "html"), default="api", help="the JSON API or the task page"
    )
    parser.add_argument("--database-url", default=None, help="a disposable PostgreSQL database")
    options = parser.parse_args()
    cluster = None
    url = options.database_url
    if url is None:
        cluster = PostgresCluster()
        url = fresh_database(cluster.start(), prefix="certflow_http")
    workdir = Path(tempfile.mkdtemp(prefix="certflow-http-"))
    served = None
    try:
        warm_count = options.clients * 2
        token, task_ids = prepare(url, workdir, warm_count + 2 * options.tasks)
        port = free_port()
        env = certflow_env(url, workdir / "serve", CERTFLOW_EXTRA_HANDLERS=PLUGIN)
        extra = ["--workers", str(options.workers)] if options.workers else []
        served = Served(env, port, *extra)
        served.wait_ready()
        request = requests_for(options.path, port, token, workdir)
        warm = task_ids[:warm_count]
        fast = task_ids[warm_count : warm_count + options.tasks]
        paced = task_ids[warm_count + options.tasks :]
        drive(port, request, warm, options.clients)  # every worker has loaded the spec
        postmaster = postmaster_pid(cluster)
        cpu_before = server_cpu(served.process.pid, postmaster)
        seconds, latencies = drive(port, request, fast, options.clients)
        cpu_after = server_cpu(served.process.pid, postmaster)
        paced_seconds, paced_latencies = drive_paced(port, request, paced, options.rate)
    finally:
        if served is not None:
            served.stop()
        if cluster is not None:
            cluster.stop()
    rate = len(latencies) / seconds
    paced_rate = len(paced_latencies) / paced_seconds
    paced_p95 = p95(paced_latencies)
    print(
        f"{rate:.1f} completions/s, p95 at {options.rate:g}/s {paced_p95:.1f} ms; "
        f"ratio completions/s / goal {GOAL_RATE:g}: {rate / GOAL_RATE:.2f}, "
        f"ratio p95 / goal {GOAL_P95_MS:g} ms: {paced_p95 / GOAL_P95_MS:.2f} ({options.path})"
    )
    print(
        f"certflow HTTP task completions through the {options.path} — gunicorn on PostgreSQL, "
        f"{os.cpu_count()} cores, the load generator on the same machine"
    )
    print(
        f"  as fast as answered, {options.clients} clients: {len(latencies)} completions, "
        f"{rate:.1f}/s, latency median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {p95(latencies):.1f} ms (a queue {options.clients} deep)"
    )
    print(
        f"  paced at {options.rate:g}/s: {len(paced_latencies)} completions, "
        f"{paced_rate:.1f}/s kept, latency from the due time median "
        f"{statistics.median(paced_latencies) * 1000:.1f} ms, p95 {paced_p95:.1f} ms"
    )
    app_ms, db_ms = (
        (after - before) / len(latencies) * 1000
        for after, before in zip(cpu_after, cpu_before, strict=True)
    )
    print(
        f"server CPU per completion (the run as fast as answered): app {app_ms:.1f} ms"
        + (f", PostgreSQL {db_ms:.1f} ms" if cluster is not None else "")
    )


if __name__ == "__main__":
    main()
