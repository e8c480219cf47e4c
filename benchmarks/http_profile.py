"""What the web layer adds to one task completion: `POST /api/v1/tasks/{id}/complete` (or, with
`--path html`, the task page's form `POST /tasks/{id}` of a signed-in web session) through
Flask's test client (no network, no gunicorn), the SQL statements it sends per request (grouped)
and, with --cprofile, the top functions.

    .venv/bin/python benchmarks/http_profile.py [--completions N] [--postgres | --database-url URL]
                                                [--path api|html] [--cprofile]

Same process and completion as benchmarks/http_completions.py (review_flow: Task_Review with
{"accepted": false, "man_days": 1}); the default database is a fresh SQLite file.
"""

import argparse
import cProfile
import html
import io
import os
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine_cycle as cycle  # noqa: E402
from bench_support import (  # noqa: E402
    add_database_options,
    benchmark_app,
    counted_statements,
    workspace,
)
from http_completions import CSRF  # noqa: E402


def profile(url: str, instance_path: Path, completions: int, with_cprofile: bool, path: str):
    from certflow.accounts import create_user, issue_token
    from certflow.db import db
    from engine.service import Actor, TaskFilter
    from handlers import handler, unregister

    with benchmark_app(url, instance_path) as app:
        engine = app.extensions["certflow.engine"]
        handler(cycle.HANDLER)(cycle.record_acceptance)
        try:
            clock_now = engine.clock.now()
            user = create_user(
                db.session,
                "mia_market",
                password="x" * 12,
                roles={"market"},
                display_name="Mia",
                now=clock_now,
            )
            token = issue_token(db.session, user, clock_now)
            db.session.commit()
            market = Actor("mia_market", frozenset({"market"}))
            owner = Actor("olga_owner", frozenset({"process_owner"}))
            engine.deploy([cycle.FIXTURE_DIR], actor=owner, comment="profile")
            for i in range(completions + 1):
                engine.start(cycle.PROCESS_ID, actor=market, data=cycle.seed_data(i))
            rows = engine.list_tasks(
                TaskFilter(state="open"), sort="created", limit=completions + 1
            )
            tasks = [str(row.id) for row in rows]
            db.session.remove()
            headers = {"Authorization": f"Bearer {token}"}
            body = {"data": dict(cycle.COMPLETE_DATA)}
            client = app.test_client()
            form = {"action": "complete", "f/man_days": "1", "csrf_token": signed_in(client)}

            signed_in_cookie = client.get_cookie("session").value

            def complete(task_id: str) -> None:
                if path == "html":
                    # the session as signed in, as http_completions.py sends it: the redirect is
                    # not followed, so its flash message would pile up in the cookie
                    client.set_cookie("session", signed_in_cookie)
                    answer, expected = client.post(f"/tasks/{task_id}", data=form), 302
                else:
                    answer = client.post(
                        f"/api/v1/tasks/{task_id}/complete", json=body, headers=headers
                    )
                    expected = 200
                if answer.status_code != expected:
                    raise SystemExit(f"{answer.status_code}: {answer.get_data(as_text=True)}")

            complete(tasks[0])  # warm-up
            profiler = cProfile.Profile() if with_cprofile else None
            started = cycle.time.perf_counter()
            with counted_statements(db.engine) as counts:
                for task_id in tasks[1:]:
                    if profiler:
                        profiler.enable()
                    complete(task_id)
                    if profiler:
                        profiler.disable()
            seconds = cycle.time.perf_counter() - started
            dialect = db.engine.dialect.name
        finally:
            unregister(cycle.HANDLER)
    total = sum(counts.values())
    print(
        f"{dialect}: {total / completions:.1f} SQL statements per HTTP completion, "
        f"{seconds / completions * 1000:.2f} ms each, one client in-process ({completions})"
    )
    for key, n in counts.most_common():
        print(f"  {n / completions:5.1f}  {key}")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(
            os.environ.get("PROFILE_SORT", "cumulative")
        ).print_stats(60)
        print(out.getvalue())


def signed_in(client) -> str:
    """Sign the test client in as mia_market through the login form; the CSRF token of the new
    session. The requests run inside the benchmark's app context, so they share its `g`, where
    flask-wtf keeps the token it made last: dropped after the sign-in, or the new session would
    never get one."""
    from flask import g

    token = html.unescape(CSRF.search(client.get("/login").get_data(as_text=True)).group(1))
    answer = client.post(
        "/login", data={"username": "mia_market", "password": "x" * 12, "csrf_token": token}
    )
    if answer.status_code != 302:
        raise SystemExit(f"sign-in failed: {answer.status_code}")
    g.pop("csrf_token", None)
    return html.unescape(CSRF.search(client.get("/").get_data(as_text=True)).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--completions", type=int, default=50)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--path", choices=("api", "html"), default="api")
    add_database_options(parser)
    args = parser.parse_args()
    with workspace(args, "certflow-profile-") as (url, tmp):
        profile(url, tmp / "instance", args.completions, args.cprofile, args.path)


if __name__ == "__main__":
    main()
