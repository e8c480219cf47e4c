"""Pages at data volume on PostgreSQL (issue 16; goal: p95 ≤ 50 ms for the inbox, the registry
search by Chinese name and by certificate number, the case page and the task page, at 100k
certificates; stored state ≤ 8 KB per finished instance).

    .venv/bin/python benchmarks/data_volume.py [--certificates N] [--requests N] [--open N]
                                               [--explain] [--database-url URL]

Without --database-url a private PostgreSQL cluster is started (tests/pg_cluster.py) with a fresh
database: `certflow init`, `certflow deploy processes`, then N certified clients with their
history (`certflow generate`'s code, with its progress bar) and `--open` certification cases
waiting for the client's application (open tasks for the inbox). Each page is then requested
`--requests` times in-process (Flask test client: the app's own time, database included, without
HTTP and gunicorn) with random clients; prints p50/p95 per page and the ratio to the goal, the
stored bytes per finished instance, and with --explain the EXPLAIN ANALYZE of each page's
slowest statements.
"""

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from tests.pg_cluster import PostgresCluster  # noqa: E402
from tests.platform.multi_process import certflow, certflow_env, fresh_database  # noqa: E402

GOAL_P95_MS = 50.0
GOAL_STATE_BYTES = 8 * 1024
PASSWORD = "benchmark-password-1"


def prepare(url: str, workdir: Path, certificates: int, open_cases: int):
    env = certflow_env(url, workdir / "setup")
    certflow(env, "init")
    certflow(env, "deploy", "processes", "--comment", "benchmark", "--user", "benchmark")

    import click

    from certflow.accounts import create_user
    from certflow.db import db
    from cli.generate import TEMPLATE, generate
    from engine.service import Actor
    from webapp import create_app

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"},
        instance_path=str(workdir / "app"),
    )
    with app.app_context():
        engine = app.extensions["certflow.engine"]
        now = engine.clock.now()
        for username, roles in (("bench_qm", {"quality_manager"}), ("bench_market", {"market"})):
            create_user(
                db.session, username, password=PASSWORD, roles=roles, display_name=username, now=now
            )
        create_user(
            db.session,
            "bench_client",
            password=PASSWORD,
            roles={"client"},
            display_name="c",
            now=now,
        )
        db.session.commit()
        template = json.loads(TEMPLATE.read_text(encoding="utf-8"))
        started = time.perf_counter()
        with click.progressbar(length=certificates, label="generating", file=sys.stderr) as bar:
            generate(
                engine, db.session, template, certificates, batch=500, seed=16, progress=bar.update
            )
        generation_seconds = time.perf_counter() - started
        client = Actor("bench_client", frozenset({"client"}))
        for _ in range(open_cases):
            engine.start("certification", actor=client, data={})
    return app, generation_seconds


def reused_app(url: str, workdir: Path):
    """The app on a database an earlier run generated (its users and data are there)."""
    from webapp import create_app

    return create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"},
        instance_path=str(workdir / "app"),
    )


class Statements:
    """The SQL statements of the requests while recording, with their durations."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.recording: list | None = None
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.recording is not None and statement.lstrip().upper().startswith("SELECT"):
            took = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
            self.recording.append((took, statement, parameters))


def measure(app, requests: int, explain: bool) -> list[tuple[str, list[float]]]:
    from sqlalchemy import func, select

    from certflow.db import db
    from domain.models import Application, Certificate
    from engine.models import HumanTask
    from tests.web_support import Browser

    rng = random.Random(16)
    with app.app_context():
        statements = Statements(db.engine)
        certificates = db.session.execute(
            select(Certificate.number, Certificate.organisation_name, Certificate.organisation_id)
            .order_by(func.random())
            .limit(requests)
        ).all()
        instances = db.session.scalars(
            select(Application.instance_id)
            .where(Application.instance_id.is_not(None))
            .limit(requests)
        ).all()
        tasks = db.session.scalars(
            select(HumanTask.id).where(HumanTask.instance_id.in_(instances)).limit(requests * 5)
        ).all()
    staff, market = Browser(app), Browser(app)
    assert staff.login("bench_qm", PASSWORD).status_code == 302
    assert market.login("bench_market", PASSWORD).status_code == 302

    def pick(i: int):
        return certificates[i % len(certificates)]

    pages = {
        "inbox (quality manager: every open task)": lambda i: staff.get("/"),
        "inbox (market role)": lambda i: market.get("/"),
        "registry search, Chinese name": lambda i: staff.get(
            "/registry/", query_string={"q": pick(i).organisation_name}
        ),
        "registry search, certificate number": lambda i: staff.get(
            "/registry/", query_string={"q": pick(i).number.lower()}
        ),
        "case page": lambda i: staff.get(
            f"/cases/{certificates[i % len(certificates)].organisation_id}"
        ),
        "task page (completed task)": lambda i: staff.get(f"/tasks/{rng.choice(tasks)}"),
    }
    results = []
    for name, request in pages.items():
        request(0)  # warm: templates, spec cache
        timings = []
        cpu = selects = 0.0  # the app's own CPU and statements: comparable on a loaded machine
        slowest: dict[str, tuple] = {}
        for i in range(requests):
            statements.recording = []
            started, cpu_started = time.perf_counter(), time.process_time()
            answer = request(i)
            timings.append(time.perf_counter() - started)
            cpu += time.process_time() - cpu_started
            selects += len(statements.recording)
            if answer.status_code != 200:
                raise SystemExit(f"{name}: HTTP {answer.status_code}")
            for took, sql, params in statements.recording:
                if sql not in slowest or slowest[sql][0] < took:
                    slowest[sql] = (took, params)
        statements.recording = None
        results.append((name, timings, cpu / requests * 1000, selects / requests))
        if explain:
            print_plans(app, name, slowest)
    return results


BIG_TABLES = (
    "event_log",
    "human_task",
    "process_instance",
    "certificate",
    "certificate_event",
    "announcement",
    "application",
    "organisation",
    "site",
)


def print_plans(app, name: str, statements: dict[str, tuple], top: int = 3) -> None:
    """EXPLAIN ANALYZE every distinct statement of the page (the server's own time, not the
    loaded client's): the `top` slowest, and every sequential scan of a table that grows."""
    from certflow.db import db

    plans = []
    with app.app_context():
        connection = db.session.connection()
        for sql, (_, params) in statements.items():
            lines = [row[0] for row in connection.exec_driver_sql(f"EXPLAIN ANALYZE {sql}", params)]
            took = float(lines[-1].split(":")[1].split()[0])  # "Execution Time: 0.123 ms"
            plans.append((took, sql, lines))
        db.session.rollback()
    plans.sort(key=lambda plan: -plan[0])
    scans = [
        p for p in plans[top:] if any(f"Seq Scan on {t} " in " ".join(p[2]) for t in BIG_TABLES)
    ]
    print(
        f"\n=== {name}: {len(plans)} statements, the {top} slowest and the scans of big tables ==="
    )
    for took, sql, lines in plans[:top] + scans:
        print(f"-- {took:.2f} ms: {' '.join(sql.split())[:400]}")
        for line in lines:
            print(f"   {line}")


def stored_state(app) -> tuple[float, float]:
    from sqlalchemy import text

    from certflow.db import db

    with app.app_context():
        row = db.session.execute(
            text(
                "SELECT avg(octet_length(state_json)), avg(pg_column_size(p.*)) "
                "FROM process_instance p WHERE status = 'completed'"
            )
        ).one()
    return float(row[0] or 0), float(row[1] or 0)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--certificates", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--open", type=int, default=50, help="open certification cases")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--database-url", default=None, help="a disposable PostgreSQL database")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --database-url: measure a database generated by an earlier run (no generation)",
    )
    options = parser.parse_args()
    cluster = None
    url = options.database_url
    if url is None:
        cluster = PostgresCluster()
        url = fresh_database(cluster.start(), prefix="certflow_volume")
    workdir = Path(tempfile.mkdtemp(prefix="certflow-volume-"))
    try:
        if options.reuse and options.database_url:
            app, generation_seconds = reused_app(url, workdir), None
        else:
            app, generation_seconds = prepare(url, workdir, options.certificates, options.open)
        results = measure(app, options.requests, options.explain)
        state_bytes, row_bytes = stored_state(app)
        with app.app_context():
            from sqlalchemy import text

            from certflow.db import db

            counts = {
                table: db.session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
                for table in ("certificate", "process_instance", "human_task", "event_log")
            }
    finally:
        if cluster is not None:
            cluster.stop()
    print(
        f"\ncertflow pages at data volume — PostgreSQL, {options.requests} requests per page; "
        + ", ".join(f"{count} {table} rows" for table, count in counts.items())
    )
    if generation_seconds is not None:
        print(
            f"generated {options.certificates} certificates in {generation_seconds:.1f} s "
            f"({options.certificates / generation_seconds:.0f}/s)"
        )
    for name, timings, cpu_ms, selects in results:
        ms = p95(timings) * 1000
        print(
            f"{name}: median {statistics.median(timings) * 1000:.1f} ms, p95 {ms:.1f} ms "
            f"(app CPU {cpu_ms:.1f} ms, {selects:.1f} SELECTs per request), "
            f"ratio p95 / goal {GOAL_P95_MS:g} ms: {ms / GOAL_P95_MS:.2f}"
        )
    print(
        f"stored state per finished instance: {state_bytes:.0f} bytes of state_json, "
        f"{row_bytes:.0f} bytes per row as stored; ratio row / goal {GOAL_STATE_BYTES}: "
        f"{row_bytes / GOAL_STATE_BYTES:.2f}"
    )


if __name__ == "__main__":
    main()
