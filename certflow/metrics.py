"""The Prometheus metrics of certflow (issue 16), defined once for the app and the scheduler.

Under gunicorn every worker and every `certflow scheduler` process writes its samples to files in
PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode; the directory must be set, shared
and emptied before the processes start: cli/serve.py does it), and /metrics adds them up. Without
that directory (one process, `make run`) the default registry is used. What is counted in the
database (open incidents, due timers) is read when /metrics is asked (webapp/ops.py).
"""

import os

from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "certflow_http_requests_total",
    "HTTP requests answered, by method, endpoint and status code.",
    ["method", "endpoint", "status"],
)
HTTP_LATENCY = Histogram(
    "certflow_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and endpoint.",
    ["method", "endpoint"],
    buckets=_LATENCY_BUCKETS,
)
TASK_COMPLETIONS = Counter(
    "certflow_task_completions_total",
    "Human tasks completed (committed), by process.",
    ["process"],
)
WORKFLOW_LOADS = Counter(
    "certflow_workflow_loads_total",
    "Workflows a change used: kept from this process's last save of that state, or restored "
    "from the stored state (engine/workflow_cache.py).",
    ["source"],
)
TIMERS_FIRED = Counter(
    "certflow_timer_instances_fired_total",
    "Process instances whose due timers a sweeper fired.",
)
SWEEP_DURATION = Histogram(
    "certflow_sweep_duration_seconds",
    "Duration of one timer sweep (all that was due).",
    buckets=_LATENCY_BUCKETS,
)

INSTANCES_PRUNED = Counter(
    "certflow_instances_pruned_total",
    "Finished instances whose workflow state the scheduler compacted (engine/pruning.py).",
)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def exposition(*collectors) -> bytes:
    """The text exposition of every metric: the multiprocess files when there are some, else
    this process's registry; plus the given collectors (asked now)."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Forward(DEFAULT_REGISTRY))
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)


class _Forward:
    """The default registry's metrics inside a registry built for one answer."""

    def __init__(self, source) -> None:
        self._source = source

    def collect(self):
        return self._source.collect()
