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


def profile(url: str, instance_path: Path, completions: int, with_cprofile: bool):
    from sqlalchemy import select

    from certflow.db import db
    from engine.models import HumanTask
    from engine.service import Actor
    from handlers import handler, unregister

    with benchmark_app(url, instance_path) as app:
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
            profiler = cProfile.Profile() if with_cprofile else None
            with counted_statements(db.engine) as counts:
                for task_id in tasks[1:]:
                    if profiler:
                        profiler.enable()
                    engine.complete_task(task_id, actor=market, data=dict(cycle.COMPLETE_DATA))
                    if profiler:
                        profiler.disable()
                    db.session.remove()
            dialect = db.engine.dialect.name
        finally:
            unregister(cycle.HANDLER)
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
    add_database_options(parser)
    args = parser.parse_args()
    with workspace(args, "certflow-profile-") as (url, tmp):
        profile(url, tmp / "instance", args.completions, args.cprofile)


if __name__ == "__main__":
    main()
