"""What one user-task completion costs: the engine API against raw SpiffWorkflow.

    .venv/bin/python benchmarks/engine_cycle.py [--rounds N] [--api-rounds N]
                                                [--database-url URL | --postgres]

All three cycles complete `Task_Review` of tests/fixtures/processes/review_flow.bpmn with
{"accepted": False, "man_days": 1}: the gateway takes the default branch and the instance waits at
the message catch event (no service task), so the cycles do the same SpiffWorkflow work.

1. engine API: `WorkflowEngine.complete_task` — load the instance row, deserialize (spec by
   reference, cached per version), run, serialize, sync task index and subscriptions, event log,
   commit. One fresh instance per timed completion. Measured twice: with the state restored
   (no kept workflows: another process started the instance; the goal's figure) and with the
   workflow this process kept when it saved the start (engine/workflow_cache.py).
2. engine in-memory: the same SpiffWorkflow part of (1) without the database
   (`engine.serializer.load_workflow` + run + `dump_workflow`).
3. raw SpiffWorkflow: stock `BpmnWorkflowSerializer` (SPIFF_CONFIG, the spec embedded in every
   instance's JSON): deserialize_json + run + serialize_json.

All cycles use the engine's restricted script engine (CertflowScriptEngine). The default database
is a fresh SQLite file in a temporary directory; `--database-url` should name a disposable
database (the schema is migrated there and benchmark instances are left behind); `--postgres`
starts a private PostgreSQL cluster (tests/pg_cluster.py) for the run.
"""

import argparse
import gc
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_support import add_database_options, benchmark_app, workspace  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_DIR = ROOT / "tests" / "fixtures" / "processes"
BPMN_FILE = FIXTURE_DIR / "review_flow.bpmn"
PROCESS_ID = "review_flow"
USER_TASK = "Task_Review"
WAIT_ELEMENT = "Event_WaitResubmission"
HANDLER = "test_record_acceptance"
COMPLETE_DATA: dict[str, Any] = {"accepted": False, "man_days": 1}
RAW_WARMUP = 10
API_WARMUP = 5
MEMORY_INSTANCES = 100
GOAL_RATIO = 1.5  # issue 16: engine API ≤ 1.5 × the raw SpiffWorkflow cycle


def seed_data(i: int | str) -> dict[str, Any]:
    return {"headcount": 120, "application_id": f"APP-{i}"}


@dataclass
class Phases:
    """Wall times (seconds) of one kind of cycle, total and per phase."""

    total: list[float] = field(default_factory=list)
    load: list[float] = field(default_factory=list)
    run: list[float] = field(default_factory=list)
    dump: list[float] = field(default_factory=list)


@dataclass
class ApiResult:
    times: list[float]
    state_ready: str  # instance row state_json, Task_Review READY
    state_waiting: str  # instance row state_json after the completion
    spec_json: str
    spec_key: str
    statements: float  # SQL statements sent per timed completion (BEGIN included on SQLite)


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def p90_ms(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1] * 1000


def record_acceptance(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return {"application_id": params["application_id"], "man_days": params["man_days"]}


# -- 1. engine API --------------------------------------------------------------------------------
def bench_engine_api(
    engine: Any, session_remove: Callable[[], None], rounds: int, *, kept: bool
) -> ApiResult:
    from sqlalchemy import event, select

    from engine.models import HumanTask, ProcessInstance
    from engine.service import Actor
    from engine.workflow_cache import WorkflowCache

    # kept: every started instance's workflow stays kept until its completion; else none is
    engine.workflows = WorkflowCache(API_WARMUP + rounds if kept else 0)
    prefix = "KEPT" if kept else "APP"

    market = Actor("mia_market", frozenset({"market"}))
    owner = Actor("olga_owner", frozenset({"process_owner"}))
    engine.deploy([FIXTURE_DIR], actor=owner, comment="benchmark")
    version = engine.latest_version(PROCESS_ID)
    spec_json, spec_key = version.spec_json, f"{version.process_id}:{version.sha256}"

    instance_ids = []
    for i in range(API_WARMUP + rounds):
        instance = engine.start(
            PROCESS_ID, actor=market, business_key=f"{prefix}-{i}", data=seed_data(i)
        )
        instance_ids.append(instance.id)
    session = engine.session
    task_ids = [
        session.scalars(
            select(HumanTask.id).where(
                HumanTask.instance_id == instance_id, HumanTask.state == "open"
            )
        ).one()
        for instance_id in instance_ids
    ]
    state_ready = session.get(ProcessInstance, instance_ids[-1]).state_json

    times = []
    statements = [0]

    def count(*_args) -> None:
        statements[0] += 1

    bind = session.get_bind()
    gc.collect()
    for n, task_id in enumerate(task_ids):
        session_remove()  # a fresh session per operation, as per web request
        if n == API_WARMUP:
            event.listen(bind, "before_cursor_execute", count)
        start = time.perf_counter()
        engine.complete_task(task_id, actor=market, data=dict(COMPLETE_DATA))
        elapsed = time.perf_counter() - start
        if n >= API_WARMUP:
            times.append(elapsed)
    event.remove(bind, "before_cursor_execute", count)
    session_remove()
    last = engine.session.get(ProcessInstance, instance_ids[-1])
    if last.active_elements != [WAIT_ELEMENT]:
        raise RuntimeError(f"engine took an unexpected path: {last.active_elements}")
    if engine.workflows.hits != (API_WARMUP + rounds if kept else 0):
        raise RuntimeError(f"kept workflows used {engine.workflows.hits} times, kept={kept}")
    return ApiResult(
        times, state_ready, last.state_json, spec_json, spec_key, statements[0] / len(times)
    )


# -- 2. engine in-memory --------------------------------------------------------------------------
def complete_ready_user_task(workflow: BpmnWorkflow) -> None:
    [task] = [
        t
        for t in workflow.get_tasks(state=TaskState.READY, manual=True)
        if t.task_spec.name == USER_TASK
    ]
    task.data.update(COMPLETE_DATA)
    task.run()
    workflow.do_engine_steps()


def bench_engine_in_memory(engine: Any, api: ApiResult, rounds: int) -> Phases:
    serializer, script_engine = engine.serializer, engine.script_engine
    phases = Phases()
    gc.collect()
    for n in range(RAW_WARMUP + rounds):
        t0 = time.perf_counter()
        spec, subprocess_specs = serializer.load_spec(api.spec_key, api.spec_json)
        workflow = serializer.load_workflow(api.state_ready, spec, subprocess_specs)
        workflow.script_engine = script_engine
        t1 = time.perf_counter()
        complete_ready_user_task(workflow)
        t2 = time.perf_counter()
        serializer.dump_workflow(workflow)
        t3 = time.perf_counter()
        if n >= RAW_WARMUP:
            phases.total.append(t3 - t0)
            phases.load.append(t1 - t0)
            phases.run.append(t2 - t1)
            phases.dump.append(t3 - t2)
    return phases


# -- 3. raw SpiffWorkflow -------------------------------------------------------------------------
def raw_initial_state(serializer: BpmnWorkflowSerializer, script_engine: Any) -> str:
    from engine.parsing import make_parser

    parser = make_parser()
    parser.add_bpmn_file(str(BPMN_FILE))
    spec = parser.get_spec(PROCESS_ID)
    subprocess_specs = parser.get_subprocess_specs(PROCESS_ID)
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)
    workflow.get_tasks(state=TaskState.READY)[0].data.update(seed_data("raw"))
    workflow.do_engine_steps()
    ready = [t.task_spec.name for t in workflow.get_tasks(state=TaskState.READY, manual=True)]
    if ready != [USER_TASK]:
        raise RuntimeError(f"raw workflow is not waiting at {USER_TASK}: {ready}")
    return serializer.serialize_json(workflow)


def bench_raw(
    serializer: BpmnWorkflowSerializer, script_engine: Any, state: str, rounds: int
) -> Phases:
    phases = Phases()
    waiting: list[str] = []
    gc.collect()
    for n in range(RAW_WARMUP + rounds):
        t0 = time.perf_counter()
        workflow = serializer.deserialize_json(state)
        workflow.script_engine = script_engine
        t1 = time.perf_counter()
        complete_ready_user_task(workflow)
        t2 = time.perf_counter()
        serializer.serialize_json(workflow)
        t3 = time.perf_counter()
        if n >= RAW_WARMUP:
            phases.total.append(t3 - t0)
            phases.load.append(t1 - t0)
            phases.run.append(t2 - t1)
            phases.dump.append(t3 - t2)
        waiting = [t.task_spec.name for t in workflow.get_tasks(state=TaskState.WAITING)]
    if WAIT_ELEMENT not in waiting:
        raise RuntimeError(f"raw workflow took an unexpected path: waiting {waiting}")
    return phases


# -- memory ---------------------------------------------------------------------------------------
def memory_per_instance(
    load: Callable[[], object], count: int = MEMORY_INSTANCES
) -> tuple[float, float]:
    """(retained, peak) KiB per instance while `count` deserialized instances are alive."""
    load()  # caches (spec cache, compiled scripts) are filled outside the measurement
    gc.collect()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    alive = [load() for _ in range(count)]
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del alive
    return (current - base) / count / 1024, (peak - base) / count / 1024


# -- main -----------------------------------------------------------------------------------------
def run(database_url: str, instance_path: Path, rounds: int, api_rounds: int) -> None:
    from certflow.db import db
    from handlers import handler, unregister

    with benchmark_app(database_url, instance_path) as app:
        engine = app.extensions["certflow.engine"]
        handler(HANDLER)(record_acceptance)
        try:
            api = bench_engine_api(engine, db.session.remove, api_rounds, kept=False)
            api_kept = bench_engine_api(engine, db.session.remove, api_rounds, kept=True)
            dialect = db.engine.dialect.name
        finally:
            unregister(HANDLER)

    in_memory = bench_engine_in_memory(engine, api, rounds)
    stock = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    script_engine = engine.script_engine  # the same restricted CertflowScriptEngine
    raw_state = raw_initial_state(stock, script_engine)
    raw = bench_raw(stock, script_engine, raw_state, rounds)

    # Sizes: the engine's rows, and the stock serializer's JSON of exactly the same states.
    spec, subprocess_specs = engine.serializer.load_spec(api.spec_key, api.spec_json)

    def stock_json(state_json: str) -> str:
        return stock.serialize_json(
            engine.serializer.load_workflow(state_json, spec, subprocess_specs)
        )

    stock_ready, stock_waiting = stock_json(api.state_ready), stock_json(api.state_waiting)

    def size(text: str) -> int:
        return len(text.encode("utf-8"))

    engine_mem = memory_per_instance(
        lambda: engine.serializer.load_workflow(
            api.state_ready, *engine.serializer.load_spec(api.spec_key, api.spec_json)
        )
    )
    raw_mem = memory_per_instance(lambda: stock.deserialize_json(stock_ready))

    api_median, raw_median = median_ms(api.times), median_ms(raw.total)
    mem_median = median_ms(in_memory.total)
    shown_url = database_url.split("@")[-1] if "@" in database_url else database_url
    print(f"certflow engine cycle — {PROCESS_ID}: {USER_TASK} (accepted=False) → {WAIT_ELEMENT}")
    print(
        f"database: {dialect} ({shown_url}); Python {platform.python_version()}, "
        f"SpiffWorkflow {package_version('spiffworkflow')}"
    )
    print(
        "script engine in all cycles: engine.scripting.CertflowScriptEngine (RestrictedEnvironment)"
    )
    print(
        f"rounds: engine API {api_rounds} completions (+{API_WARMUP} warm-up), "
        f"in-memory/raw {rounds} (+{RAW_WARMUP} warm-up)"
    )
    print()
    print(f"{'one user-task completion':<58}{'median ms':>10}{'p90 ms':>9}")

    def row(label: str, values: list[float]) -> None:
        print(f"{label:<58}{median_ms(values):>10.3f}{p90_ms(values):>9.3f}")

    row("1 engine API complete_task (DB load, run, save, commit)", api.times)
    row("    the same, the workflow kept by this process", api_kept.times)
    row("3 engine in-memory load_workflow + run + dump_workflow", in_memory.total)
    row("    load_spec (cached) + load_workflow", in_memory.load)
    row("    run (task.run + do_engine_steps)", in_memory.run)
    row("    dump_workflow", in_memory.dump)
    row("2 raw SpiffWorkflow deserialize_json + run + serialize_json", raw.total)
    row("    deserialize_json", raw.load)
    row("    run (task.run + do_engine_steps)", raw.run)
    row("    serialize_json", raw.dump)
    print()
    print(f"SQL statements per engine API completion:    {api.statements:6.1f}")
    ratio = api_median / raw_median
    verdict = "met" if ratio <= GOAL_RATIO else "not met"
    print(
        f"ratio engine API median / raw median:        {ratio:6.2f}"
        f"  (goal ≤ {GOAL_RATIO:g}: {verdict})"
    )
    kept_ratio = median_ms(api_kept.times) / raw_median
    print(
        f"ratio engine API, workflow kept / raw median: {kept_ratio:6.2f}"
        "  (the next change of an instance this process saved)"
    )
    print(f"ratio engine in-memory median / raw median:  {mem_median / raw_median:6.2f}")
    print(
        f"engine API minus in-memory (DB reads/writes, task index, event log, commit): "
        f"{api_median - mem_median:.3f} ms"
    )
    print()
    print(f"{'bytes stored per instance (UTF-8)':<52}{'Task_Review ready':>18}{'waiting msg':>13}")
    print(
        f"{'engine state_json (spec by reference)':<52}"
        f"{size(api.state_ready):>18}{size(api.state_waiting):>13}"
    )
    print(
        f"{'stock serializer JSON, same state (spec embedded)':<52}"
        f"{size(stock_ready):>18}{size(stock_waiting):>13}"
    )
    print(f"{'spec_json per process version (stored once)':<52}{size(api.spec_json):>18}")
    print()
    print(
        f"{f'memory per deserialized instance ({MEMORY_INSTANCES} alive)':<52}"
        f"{'retained KiB':>18}{'peak KiB':>13}"
    )
    for label, (retained, peak) in (
        ("engine load_workflow (shared cached spec)", engine_mem),
        ("stock deserialize_json (own spec copy)", raw_mem),
    ):
        print(f"{label:<52}{retained:>18.1f}{peak:>13.1f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds", type=int, default=200, help="raw and in-memory cycles (default 200)"
    )
    parser.add_argument(
        "--api-rounds", type=int, default=100, help="engine API completions (default 100)"
    )
    add_database_options(parser)
    args = parser.parse_args(argv)
    if args.rounds < 2 or args.api_rounds < 2:
        parser.error("--rounds and --api-rounds need at least 2 (for the p90)")

    started = time.perf_counter()
    with workspace(args, "certflow-bench-") as (url, tmp):
        run(url, tmp / "instance", args.rounds, args.api_rounds)
    print(f"\ntotal run time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
