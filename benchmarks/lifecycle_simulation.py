"""A 3-year simulated cycle of N certificates through the real engine (issue 16 goal: 10 000
certificates in ≤ 10 minutes).

    .venv/bin/python benchmarks/lifecycle_simulation.py [--certificates N] [--suspend-every K]
                                                        [--database-url URL | --postgres]
                                                        [--workers W]

N clients (default 150) apply on the same day and are certified through the initial procedure
(set-up, timed apart). Then the measured 3 years: every certificate's surveillance cycle runs on
the simulated clock — planning timers, both routine surveillances with their on-site audits
(R-8.10.1), every K-th client's first surveillance left unplanned so that it is suspended at
the limit and restored after its correction (R-9.5.1(a), R-9.1: caught up), the recertification
prompt 3 months before expiry and the recertification through the initial procedure (R-8.11) —
until the first certificates' last valid day. Timers fire by the scheduler's `sweep`, and its
pruning job compacts what finished 30 days ago (the stored size per finished instance); every user
task is completed by a scripted actor through `WorkflowEngine.complete_task`, the API behind the
web pages and the JSON API (tests/lifecycle_simulation.py; tests/lifecycle/
test_lifecycle_simulation.py checks what happens at N=3). The default database is a fresh
SQLite file in a temporary directory; `--postgres` starts the private PostgreSQL cluster the
tests use (tests/pg_cluster.py); `--database-url` names a disposable database. `--workers W`
(PostgreSQL) splits the clients over W worker processes, each with its own app and actor, the
clock moved for all in lockstep and every worker sweeping (tests/lifecycle_shards.py).

Why 150 by default: the engine keeps the workflows it saved last (CERTFLOW_WORKFLOW_CACHE_SIZE,
64); with 20 clients every running instance fits and no change restores its workflow, which at
10 000 certificates almost every change does. With 150 the kept share is what a large book
gives (≈ 6 %), so the projection to 10 000 is not flattered (20 certificates: 11.9 ms a task,
150: 17.5 ms; session 10, docs/operations.md). A run in which most changes found their workflow
kept says so under the projection.

It also prints the engine library's floor (tests/engine_floor.py): the time SpiffWorkflow's steps,
a change's restore and the state's serialization took, handlers left out, projected alone to
10 000 certificates on this machine's cores — a lower bound no tuning of ours removes
(docs/operations.md, session 13).

Why not certificates from `certflow generate`: the bulk path writes no programme, contract,
audit or decision (domain/bulk_certificates.py), and a surveillance needs the certificate's
programme (domain/surveillance_planning.py), so the clients are certified through the engine.
"""

import argparse
import logging
import os
import platform
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_support import add_database_options, workspace  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 600  # issue 16: 10k certificates' 3-year cycle in ≤ 10 minutes
GOAL_CERTIFICATES = 10_000
PROFILE: list = []  # [True] with --cprofile: the 3-year phase under cProfile
CPU_SECONDS: dict[str, float] = {}  # this process's CPU time per phase (the DB server's not)
START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)  # a Monday, 09:00 China time


def timed_phase(simulation, end: datetime, label: str) -> float:
    """Run the simulation until `end` with a progress bar over the simulated days."""
    first = simulation.clock.now()
    days = max(1, (end - first).days)
    with click.progressbar(length=days, label=label, file=sys.stderr) as bar:
        shown = [0]

        def advance(now: datetime) -> None:
            reached = min(days, (now - first).days)
            bar.update(reached - shown[0])
            shown[0] = reached

        simulation.on_clock = advance
        started, cpu = time.perf_counter(), time.process_time()
        if PROFILE and label == "3 years":
            import cProfile

            PROFILE.append(cProfile.Profile())
            PROFILE[-1].runcall(simulation.run_until, end)
        else:
            simulation.run_until(end)
        CPU_SECONDS[label] = time.process_time() - cpu
        return time.perf_counter() - started


def plain_state_sizes(engine, largest_text: dict[str, str]) -> dict[str, int]:
    """Characters of each largest state in SpiffWorkflow's own format (engine/state_compaction.py
    stores each distinct task-data value once; this is what it saved)."""
    sizes = {}
    for process_id, text in largest_text.items():
        version = engine.latest_version(process_id)
        spec = engine.serializer.load_spec(f"{process_id}:{version.sha256}", version.spec_json)
        workflow = engine.serializer.load_workflow(text, *spec)
        sizes[process_id] = len(engine.serializer.dump_plain(workflow))
    return sizes


def state_costs(engine, largest_text: dict[str, str], repeat: int = 20) -> dict[str, tuple]:
    """Per process: (tasks, median ms of one load + dump) of its largest state — what each
    operation on such an instance pays before its own work (finished subprocesses no longer in
    it, engine/finished_subprocesses.py)."""
    import statistics

    costs = {}
    for process_id, text in largest_text.items():
        version = engine.latest_version(process_id)
        spec = engine.serializer.load_spec(f"{process_id}:{version.sha256}", version.spec_json)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            workflow = engine.serializer.load_workflow(text, *spec)
            engine.serializer.dump_workflow(workflow)
            times.append(time.perf_counter() - started)
        tasks = len(workflow.tasks) + sum(len(sp.tasks) for sp in workflow.subprocesses.values())
        costs[process_id] = (tasks, 1000 * statistics.median(times))
    return costs


def finished_state_sizes() -> dict[str, tuple[int, int]]:
    """Finished instances at the end, pruned or not yet: (how many, mean bytes of state_json)."""
    from sqlalchemy import LargeBinary, cast, func, select

    from certflow.db import db
    from engine.models import ProcessInstance
    from engine.pruning import FINISHED, PRUNED_SERIALIZER

    state = ProcessInstance.state_json
    if db.engine.dialect.name == "postgresql":
        size = func.octet_length(state)
    else:  # SQLite before 3.43 has no octet_length
        size = func.length(cast(state, LargeBinary))
    # Grouped by its label: PostgreSQL takes the comparison written twice, with a parameter
    # each, for two expressions (GroupingError).
    pruned = (ProcessInstance.serializer_version == PRUNED_SERIALIZER).label("pruned")
    rows = db.session.execute(
        select(pruned, func.count(), func.avg(size))
        .where(ProcessInstance.status.in_(FINISHED))
        .group_by(pruned)
    ).all()
    return {
        "pruned" if pruned else "not yet pruned": (count, int(mean)) for pruned, count, mean in rows
    }


def print_floor(figures, count: int) -> None:
    """The engine library's own share and what it alone would take for 10 000 certificates on
    this machine's cores (tests/engine_floor.py): a lower bound of the goal's run."""
    cores = os.cpu_count() or 1
    floor = figures.floor_seconds
    projected = floor * GOAL_CERTIFICATES / count / cores
    print(
        f"engine library floor:         {floor:.1f} s ("
        f"{1000 * floor / max(1, figures.tasks_completed):.1f} ms a task): SpiffWorkflow's "
        "steps and the state's restore and serialization, handlers left out"
    )
    parts = dict(figures.floor_parts)
    handlers = parts.pop("handlers", 0.0)
    shown = ", ".join(f"{part} {seconds:.1f} s" for part, seconds in sorted(parts.items()))
    print(f"  of which: {shown}; the handlers it leaves out took {handlers:.1f} s")
    print(
        f"  projected to {GOAL_CERTIFICATES} certificates on {cores} cores, nothing else run: "
        f"{projected / 60:.1f} min; ratio floor / 10 min goal: {projected / GOAL_SECONDS:.2f}"
    )


def simulate(simulation, count: int) -> tuple:
    """(set-up seconds, set-up figures, last instance id before the 3 years, their wall time,
    their figures): `count` clients certified, then 3 years until the first expiry."""
    from sqlalchemy import func, select

    from certflow.db import db
    from domain.models import Certificate
    from engine.models import ProcessInstance

    started = time.perf_counter()
    simulation.apply(count)
    timed_phase(simulation, simulation.at(simulation.today() + timedelta(days=41)), "certify")
    setup_seconds = time.perf_counter() - started
    setup = simulation.take_figures()
    first_instance = db.session.scalar(select(func.max(ProcessInstance.id))) or 0
    db.session.rollback()
    expiry = db.session.scalar(select(func.min(Certificate.expires_on)))
    wall = timed_phase(simulation, simulation.at(expiry), "3 years")
    return setup_seconds, setup, first_instance, wall, simulation.take_figures()


def run(
    database_url: str, instance_path: Path, count: int, suspend_every: int, workers: int = 1
) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from certflow.db import db
    from domain.models import Certificate
    from tests.certification_case import deploy_everything, make_people
    from tests.lifecycle_shards import ShardedSimulation
    from tests.lifecycle_simulation import LifecycleSimulation, started_instances
    from webapp import create_app

    app = create_app(
        {
            "SECRET_KEY": "benchmark",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "CERTFLOW_CLOCK": "simulated",
            "CERTFLOW_SCHEDULER": False,
        },
        instance_path=str(instance_path),
    )
    with app.app_context():
        logging.disable(logging.WARNING)  # alembic's INFO lines, handlers' rule notices
        try:
            upgrade()
            app.extensions["certflow.clock"].set(START)
            engine = app.extensions["certflow.engine"]
            deploy_everything(engine)
            people = make_people(START)
            if workers > 1:
                with ShardedSimulation(
                    app, people, workers=workers, suspend_every=suspend_every, floor=True
                ) as simulation:
                    setup_seconds, setup, first_instance, wall, figures = simulate(
                        simulation, count
                    )
            else:
                simulation = LifecycleSimulation(
                    app, people, instance_path / "uploads", suspend_every=suspend_every, floor=True
                )
                setup_seconds, setup, first_instance, wall, figures = simulate(simulation, count)
            dialect = db.engine.dialect.name
            started_by_process = started_instances(first_instance)
            plain_sizes = plain_state_sizes(engine, figures.largest_text)
            costs = state_costs(engine, figures.largest_text)
            finished = finished_state_sizes()
            prune_days = app.config["CERTFLOW_PRUNE_AFTER_DAYS"]
            statuses = dict(
                db.session.execute(
                    select(Certificate.status, func.count()).group_by(Certificate.status)
                ).all()
            )
        finally:
            logging.disable(logging.NOTSET)
            db.session.remove()
            db.engine.dispose()

    shown_url = database_url.split("@")[-1] if "@" in database_url else database_url
    print(f"certflow lifecycle simulation — {count} certificates, 3 simulated years")
    print(f"database: {dialect} ({shown_url}); Python {platform.python_version()}")
    if workers > 1:
        print(f"worker processes: {workers} (each its share of the clients, all sweeping)")
    print(
        f"set-up (not timed against the goal): {count} initial certifications through the "
        f"engine, {setup.tasks_completed} tasks, {setup_seconds:.1f} s"
    )
    print()
    instances = sum(started_by_process.values())
    by_process = ", ".join(f"{k} {v}" for k, v in sorted(started_by_process.items()))
    print(f"certificates:                 {figures.certificates}")
    print("simulated years:              3")
    print(f"instances run:                {instances} started ({by_process})")
    print(f"tasks completed:              {figures.tasks_completed}")
    print(f"timers fired:                 {figures.timers_fired} ({figures.wake_ups} clock moves)")
    print(f"certificates at the end:      {statuses}")
    largest = ", ".join(f"{k} {v // 1024} KiB" for k, v in sorted(figures.largest_state.items()))
    print(f"largest state_json seen:      {largest}")
    plain = ", ".join(f"{k} {v // 1024} KiB" for k, v in sorted(plain_sizes.items()))
    print(f"  the same, SpiffWorkflow's plain format: {plain}")
    shown = ", ".join(f"{k} {tasks} tasks {ms:.1f} ms" for k, (tasks, ms) in sorted(costs.items()))
    print(f"  tasks, load + dump (median): {shown}")
    pruned_count, pruned_bytes = finished.get("pruned", (0, 0))
    kept_count, kept_bytes = finished.get("not yet pruned", (0, 0))
    print(
        f"finished instances:           {pruned_count + kept_count}, {pruned_count} pruned by "
        f"the scheduler's job ({figures.prune_seconds:.1f} s): {pruned_bytes} bytes of state "
        f"each (ratio to the 8 KB goal: {pruned_bytes / 8192:.2f}); {kept_count} within their "
        f"{prune_days} days: {kept_bytes} bytes each"
    )
    changes = figures.workflows_kept + figures.workflows_restored
    print(
        f"workflows the changes used:   {figures.workflows_kept} of {changes} kept by their "
        f"process, {figures.workflows_restored} restored"
    )
    print(f"wall time:                    {wall:.1f} s")
    cpu = CPU_SECONDS["3 years"]
    if workers > 1:  # the coordinator only moves the clock; the workers do the work
        print(f"  CPU time of the coordinator: {cpu:.1f} s")
        cpu = figures.cpu_seconds
        print(
            f"  CPU time of the {workers} workers: {cpu:.1f} s (the database server's not counted)"
        )
        print(
            f"  in complete_task, all workers: {figures.completion_seconds:.1f} s "
            f"({1000 * figures.completion_seconds / max(1, figures.tasks_completed):.1f} ms a task"
            " in a worker)"
        )
        print(f"  in the timer sweep, all workers: {figures.sweep_seconds:.1f} s")
    else:
        print(
            f"  CPU time of this process:   {cpu:.1f} s ({100 * cpu / wall:.0f} % of the wall time)"
        )
        print(
            f"  in complete_task:           {figures.completion_seconds:.1f} s "
            f"({1000 * figures.completion_seconds / max(1, figures.tasks_completed):.1f} ms a task)"
        )
        print(f"  in the timer sweep:         {figures.sweep_seconds:.1f} s")
        other = wall - figures.completion_seconds - figures.sweep_seconds - figures.prune_seconds
        print(f"  scripted actor and queries: {other:.1f} s")
    print(
        f"throughput:                   {figures.tasks_completed / wall:.1f} tasks/s, "
        f"{count / wall:.2f} certificate-cycles/s"
    )
    projected = wall * GOAL_CERTIFICATES / count
    print(
        f"projected to {GOAL_CERTIFICATES} certificates (linear): {projected / 60:.1f} min"
        + ("" if count == GOAL_CERTIFICATES else " (extrapolated, not measured)")
    )
    print(f"ratio wall time / 10 min goal: {projected / GOAL_SECONDS:.2f}")
    whose = "the workers'" if workers > 1 else "this process's"
    print(f"  (by {whose} CPU time: {cpu * GOAL_CERTIFICATES / count / GOAL_SECONDS:.2f})")
    print_floor(figures, count)
    if figures.workflows_kept > changes / 2:
        print(
            "  flattered: most changes found their workflow kept in memory, which the kept "
            "workflows (CERTFLOW_WORKFLOW_CACHE_SIZE) cannot give 10 000 certificates; run with "
            "--certificates 150 or more"
        )
    if PROFILE:
        import pstats

        print("\ncProfile of the 3 years (cumulative, top 30):")
        pstats.Stats(PROFILE[-1], stream=sys.stdout).sort_stats("cumulative").print_stats(30)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--certificates", type=int, default=150, help="clients (default 150, see above)"
    )
    parser.add_argument(
        "--suspend-every",
        type=int,
        default=10,
        help="every K-th client's first surveillance is left unplanned (default 10; 0: none)",
    )
    add_database_options(parser)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes, each its share of the clients (PostgreSQL; default 1)",
    )
    parser.add_argument("--cprofile", action="store_true", help="profile the 3 years")
    args = parser.parse_args(argv)
    if args.cprofile:
        PROFILE.append(True)
    if args.certificates < 1:
        parser.error("--certificates must be at least 1")
    if args.workers > 1 and not (args.postgres or (args.database_url or "").startswith("postgres")):
        parser.error("--workers needs PostgreSQL (--postgres or a postgresql --database-url)")
    if args.workers > 1 and args.cprofile:
        parser.error("--cprofile profiles this process; the workers are other processes")
    sys.path.insert(0, str(ROOT))  # tests/ (the scripted actor, the cluster) is not installed
    started = time.perf_counter()
    with workspace(args, "certflow-simulation-") as (url, tmp):
        run(url, tmp / "instance", args.certificates, args.suspend_every, args.workers)
    print(f"\ntotal run time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
