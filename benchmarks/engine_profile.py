"""Where one engine-API task completion spends its time: the SQL statements it sends (counted
with a SQLAlchemy event listener, grouped by statement) and, with --cprofile, the top functions.

    .venv/bin/python benchmarks/engine_profile.py [--completions N] [--cprofile]
                                                  [--postgres | --database-url URL]

Same process and completion as benchmarks/engine_cycle.py (review_flow: Task_Review with
{"accepted": False, "man_days": 1}); the default database is a fresh SQLite file.
"""

import argparse
import cProfile
import io
import pstats
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine_cycle as cycle  # noqa: E402


def statement_key(statement: str) -> str:
    """A statement's first words (verb and table), parameters collapsed."""
    text = re.sub(r"\s+", " ", statement).strip()
    text = re.sub(r"\(.*", "(…)", text) if text.upper().startswith("INSERT") else text
    return text[:110]


def profile(database_url: str, instance_path: Path, completions: int, with_cprofile: bool):
    from flask_migrate import upgrade
    from sqlalchemy import select

    from certflow.db import db
    from engine.models import HumanTask
    from engine.service import Actor
    from handlers import handler, unregister
    from webapp import create_app

    app = create_app(
        {
            "SECRET_KEY": "benchmark",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "CERTFLOW_CLOCK": "real",
            "CERTFLOW_SCHEDULER": False,
        },
        instance_path=str(instance_path),
    )
    with app.app_context():
        cycle.logging.disable(cycle.logging.INFO)
        try:
            upgrade()
        finally:
            cycle.logging.disable(cycle.logging.NOTSET)
        engine = app.extensions["certflow.engine"]
        handler(cycle.HANDLER)(cycle.record_acceptance)
        try:
            market = Actor("mia_market", frozenset({"market"}))
            owner = Actor("olga_owner", frozenset({"process_owner"}))
            engine.deploy([cycle.FIXTURE_DIR], actor=owner, comment="profile")
            ids = [
                engine.start(
                    cycle.PROCESS_ID, actor=market, business_key=f"P-{i}", data=cycle.seed_data(i)
                ).id
                for i in range(completions + 1)
            ]
            tasks = [
                db.session.scalars(
                    select(HumanTask.id).where(
                        HumanTask.instance_id == i, HumanTask.state == "open"
                    )
                ).one()
                for i in ids
            ]
            db.session.remove()
            engine.complete_task(tasks[0], actor=market, data=dict(cycle.COMPLETE_DATA))  # warm
            db.session.remove()
            counts: Counter[str] = Counter()

            def count(conn, cursor, statement, parameters, context, executemany):
                counts[statement_key(statement)] += 1

            event.listen(db.engine, "before_cursor_execute", count)
            profiler = cProfile.Profile() if with_cprofile else None
            try:
                for task_id in tasks[1:]:
                    if profiler:
                        profiler.enable()
                    engine.complete_task(task_id, actor=market, data=dict(cycle.COMPLETE_DATA))
                    if profiler:
                        profiler.disable()
                    db.session.remove()
            finally:
                event.remove(db.engine, "before_cursor_execute", count)
            dialect = db.engine.dialect.name
        finally:
            unregister(cycle.HANDLER)
            db.session.remove()
            db.engine.dispose()
    total = sum(counts.values())
    print(f"{dialect}: {total / completions:.1f} SQL statements per completion ({completions})")
    for key, n in counts.most_common():
        print(f"  {n / completions:5.1f}  {key}")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
        print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--completions", type=int, default=50)
    parser.add_argument("--cprofile", action="store_true")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--database-url")
    target.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="certflow-profile-") as tmp:
        cluster = None
        if args.postgres:
            sys.path.insert(0, str(cycle.ROOT))
            from tests.pg_cluster import PostgresCluster

            cluster = PostgresCluster()
            url = cluster.start()
        else:
            url = args.database_url or f"sqlite:///{Path(tmp) / 'profile.sqlite3'}"
        try:
            profile(url, Path(tmp) / "instance", args.completions, args.cprofile)
        finally:
            if cluster is not None:
                cluster.stop()


if __name__ == "__main__":
    main()
