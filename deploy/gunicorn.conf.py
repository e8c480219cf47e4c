"""gunicorn settings of the production profile (README "Production"), read from the environment:

CERTFLOW_BIND      address to listen on (default 127.0.0.1:8000; a reverse proxy in front)
WEB_CONCURRENCY    worker processes (default 2 × cores + 1)
CERTFLOW_THREADS   threads per worker (default 4)

The app's settings come from the CERTFLOW_* variables as everywhere (certflow/settings.py).
"""

import os

from prometheus_client import multiprocess

bind = os.environ.get("CERTFLOW_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
worker_class = "gthread"
threads = int(os.environ.get("CERTFLOW_THREADS", "4"))
timeout = 60
graceful_timeout = 30
# One access line per request comes from the app (logger certflow.access, JSON with the request
# id when CERTFLOW_LOG_FORMAT=json); gunicorn's own would be a second, unstructured one.
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def child_exit(server, worker) -> None:
    """A stopped worker's live gauges leave /metrics (prometheus_client multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
